"""The migrate function as CloudFormation's custom resource: it answers the presigned URL with
SUCCESS (and what it did) or FAILED (a generic reason; the error goes to its log), does nothing on
Delete, and answers no URL but an S3 one. No AWS involved: the presigned S3 URL's PUT is delivered
to a local server that records what it is sent."""

from __future__ import annotations

import importlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg
import pytest
from conftest import DictConnection, invoke, load_event, one, use_environment
from pg_proxy import _target

from squelch import cfn, db
from squelch.domain import demo
from squelch.errors import Unavailable

# The module, not the function squelch.db exports under the same name.
connection_module = importlib.import_module("squelch.db.connection")

PRESIGNED = (
    "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/"
    "arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack/squelch-act1/x?X-Amz-Signature=abc"
)


@pytest.fixture
def cloudformation(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[dict]]]:
    """A presigned S3 URL whose PUT reaches a local recorder instead of S3."""
    received: list[dict] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": json.loads(body), "content_type": self.headers.get("Content-Type")})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_address[1]}/presigned"
    send = cfn.send
    monkeypatch.setattr(cfn, "send", lambda url, payload: send(local if url == PRESIGNED else url, payload))
    yield PRESIGNED, received
    server.shutdown()
    server.server_close()


def request(kind: str, url: str) -> dict:
    event = load_event("database_migrate_cfn_create.json")
    event["RequestType"], event["ResponseURL"] = kind, url
    if kind != "Create":
        event["PhysicalResourceId"] = "squelch-database-migrations"
    return event


@pytest.mark.parametrize("kind", ["Create", "Update"])
def test_create_and_update_migrate_and_report_success(
    story: DictConnection, migrator, cloudformation, kind: str
) -> None:
    url, received = cloudformation
    invoke("DatabaseMigrateFunction", request(kind, url))
    [answer] = received
    body = answer["body"]
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "squelch-database-migrations"
    assert (body["StackId"], body["RequestId"], body["LogicalResourceId"]) == (
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/squelch-act1/5b7ab3e0-0000-0000-0000-000000000000",
        "0f9c5d2e-2b8f-4a61-9d0b-0a5c1e0d7a11",
        "DatabaseMigrations",
    )
    assert body["Data"] == {"migrations_applied": "", "seeded": "false", "anchor_date": "2025-11-23"}
    assert answer["content_type"] == ""  # the presigned URL's signature covers an empty content type


def test_create_seeds_an_empty_database(story: DictConnection, migrator, cloudformation) -> None:
    url, received = cloudformation
    story.execute("DELETE FROM demo_customers WHERE is_demo")
    invoke("DatabaseMigrateFunction", request("Create", url))
    assert received[0]["body"]["Data"]["seeded"] == "true"
    assert one(story, "SELECT count(*) AS n FROM demo_customers")["n"] == 1


def test_failure_is_reported_with_its_reason(story: DictConnection, cloudformation, monkeypatch) -> None:
    url, received = cloudformation

    def broken(wait_seconds: float = 0) -> None:
        raise RuntimeError("migration 0003 was edited after it was applied")

    monkeypatch.setattr(demo, "prepare_database", broken)
    invoke("DatabaseMigrateFunction", request("Update", url))
    body = received[0]["body"]
    assert body["Status"] == "FAILED"
    assert body["Reason"] == (
        "Preparing the database failed; the error is in CloudWatch log stream "
        "local/DatabaseMigrateFunction (request 0f9c5d2e-2b8f-4a61-9d0b-0a5c1e0d7a11)."
    )
    assert "0003" not in json.dumps(body)


@pytest.fixture(autouse=True)
def in_a_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda sets AWS_REGION in every function's environment; the stack here is in eu-west-1."""
    use_environment(monkeypatch, AWS_REGION="eu-west-1")


@pytest.mark.parametrize(
    ("region", "url"),
    [
        ("eu-west-1", PRESIGNED),
        ("eu-west-1", "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x?a=b"),
        ("eu-west-1", "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x"),
        ("eu-west-1", "https://s3.eu-west-1.amazonaws.com/cloudformation-custom-resource-response-euwest1/x"),
        ("eu-west-1", "https://s3-eu-west-1.amazonaws.com/cloudformation-custom-resource-response-euwest1/x"),
        ("us-east-1", "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=a"),
        ("us-east-1", "https://s3.amazonaws.com/cloudformation-custom-resource-response-useast1/arn%3Aaws/x"),
        ("cn-north-1", "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x"),
        (
            "us-gov-west-1",
            "https://cloudformation-custom-resource-response-usgovwest1.s3-fips.us-gov-west-1.amazonaws.com/x",
        ),
        ("us-west-2", "https://cloudformation-custom-resource-response-uswest2.s3.dualstack.us-west-2.amazonaws.com/x"),
    ],
)
def test_cloudformation_response_urls_are_accepted(monkeypatch, region: str, url: str) -> None:
    # Given a function in region, then CloudFormation's response bucket of that region is where it answers
    use_environment(monkeypatch, AWS_REGION=region)
    assert cfn.is_response_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        "https://attacker.example/x",
        "https://s3.amazonaws.com.attacker.example/x",
        "https://bucket.s3.amazonaws.com:8443/x",
        "https://user@bucket.s3.amazonaws.com/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://bucket.s3.amazonaws.com.evil/x",
        "file:///etc/passwd",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
        # S3, but not CloudFormation's response bucket of this region (eu-west-1)
        "https://attackers-bucket.s3.eu-west-1.amazonaws.com/x?X-Amz-Signature=abc",
        "https://s3.eu-west-1.amazonaws.com/attackers-bucket/x",
        "https://s3.eu-west-1.amazonaws.com/attackers-bucket/cloudformation-custom-resource-response-euwest1/x",
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        "https://cloudformation-custom-resource-response-euwest1.s3.eu-central-1.amazonaws.com/x",
        "https://cloudformation-custom-resource-response-euwest1x.s3.eu-west-1.amazonaws.com/x",
        "https://x.cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x",
        "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com.cn/x",
        "https://s3.eu-west-1.amazonaws.com/cloudformation-custom-resource-response-euwest1",
        "https://:443@cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x",
    ],
)
def test_any_other_response_url_gets_no_answer(story: DictConnection, monkeypatch, url: str) -> None:
    # Given someone invokes the function with a request naming another host
    monkeypatch.setattr(cfn, "send", lambda *_: pytest.fail("must not send anything"))
    monkeypatch.setattr(demo, "prepare_database", lambda *_: pytest.fail("must not touch the database"))
    # Then it neither migrates nor answers
    assert invoke("DatabaseMigrateFunction", request("Create", url)) is None


def test_delete_does_nothing_to_the_database(story: DictConnection, cloudformation, monkeypatch) -> None:
    url, received = cloudformation
    monkeypatch.setattr(demo, "prepare_database", lambda *_: pytest.fail("Delete must not touch the database"))
    invoke("DatabaseMigrateFunction", request("Delete", url))
    assert received[0]["body"]["Status"] == "SUCCESS"
    assert one(story, "SELECT count(*) AS n FROM demo_customers")["n"] == 1


def test_plain_invocation_returns_the_summary(story: DictConnection, migrator) -> None:
    assert invoke("DatabaseMigrateFunction", load_event("database_migrate.json")) == {
        "migrations_applied": [],
        "seeded": False,
        "anchor_date": "2025-11-23",
    }


def test_a_warm_migrate_function_reconnects_when_its_connection_was_dropped(story: DictConnection, migrator) -> None:
    # Given a migrate function that ran once (a warm container) and whose connection the server then ended
    invoke("DatabaseMigrateFunction", {})
    story.execute("SELECT pg_terminate_backend(%s)", [db.connection().info.backend_pid])
    # When CloudFormation invokes it again (a stack update), then it reconnects and succeeds
    assert invoke("DatabaseMigrateFunction", {})["migrations_applied"] == []


class LateServer:
    """PostgreSQL behind a port that refuses connections until `start()`: a database the stack has
    just created, or a network still being wired. Once started it forwards every byte both ways."""

    def __init__(self, server_url: str) -> None:
        self.family, self.target = _target(server_url)  # TCP or the server's Unix socket
        self.server_url = server_url
        with socket.create_server(("127.0.0.1", 0)) as probe:  # a free port that nothing listens on yet
            self.port = probe.getsockname()[1]
        self.listener: socket.socket | None = None
        self.accepted = 0

    def url(self) -> str:
        return psycopg.conninfo.make_conninfo(self.server_url, host="127.0.0.1", port=str(self.port), sslmode="disable")

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.accepted += 1
            server = socket.socket(self.family, socket.SOCK_STREAM)
            server.connect(self.target)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        if self.listener:
            self.listener.close()


@pytest.fixture
def late_server(migrator, app_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LateServer]:
    """The migrate function's database, behind a LateServer that has not started."""
    late = LateServer(app_database)
    use_environment(monkeypatch, DATABASE_URL=late.url())
    yield late
    late.close()
    db.close()


def test_the_migrate_function_waits_for_a_database_that_accepts_connections_later(
    late_server: LateServer, cloudformation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database that refuses connections until the migrate function has been refused twice
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            late_server.start()

    monkeypatch.setattr(connection_module.time, "sleep", pause)
    # When CloudFormation creates the custom resource, with minutes of the function's timeout left
    url, received = cloudformation
    invoke_with_time_left("DatabaseMigrateFunction", request("Create", url), seconds=300)
    # Then it tried again, with growing pauses, until the server accepted, and then migrated
    assert received[0]["body"]["Status"] == "SUCCESS", received
    assert pauses == [1.0, 2.0] and late_server.accepted >= 1


def test_without_time_to_wait_a_refused_connection_fails_the_deployment(
    late_server: LateServer, cloudformation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database that never starts accepting, and a function with only its work's minute left
    monkeypatch.setattr(connection_module.time, "sleep", lambda seconds: pytest.fail("nothing to wait for"))
    url, received = cloudformation
    invoke_with_time_left("DatabaseMigrateFunction", request("Create", url), seconds=60)
    # Then CloudFormation hears FAILED, and nothing reached the server
    assert received[0]["body"]["Status"] == "FAILED"
    assert late_server.accepted == 0


def test_waiting_ends_with_the_last_refusal_when_time_is_up(late_server: LateServer) -> None:
    # Given a database that never starts accepting, when the migrations may wait two seconds
    started = time.monotonic()
    with pytest.raises(Unavailable) as refused:
        connection_module.wait_until_accepting(2.0, first_pause=0.2)
    # Then they try several times, give up within the time, and say the database is unreachable
    assert time.monotonic() - started < 5
    assert "refused" in str(refused.value.__cause__).lower()


@pytest.mark.parametrize("wrong", ["dbname", "user"])
def test_a_server_that_answers_with_a_refusal_is_not_waited_for(
    migrator, app_database: str, monkeypatch: pytest.MonkeyPatch, wrong: str
) -> None:
    # Given a server that accepts connections but not this one (no such database or login)
    url = psycopg.conninfo.make_conninfo(app_database, **{wrong: "squelch_no_such_thing"})
    use_environment(monkeypatch, DATABASE_URL=url)
    monkeypatch.setattr(connection_module.time, "sleep", lambda seconds: pytest.fail("waited for a refusal"))
    # When the migrations may wait minutes, then they fail at once
    with pytest.raises(Unavailable):
        demo.prepare_database(wait_seconds=240)


def invoke_with_time_left(function_id: str, event: dict, seconds: int) -> object:
    """Invoke a function whose context says `seconds` of its timeout remain (as Lambda's does)."""
    from localdev import runtime

    monkey = pytest.MonkeyPatch()
    monkey.setattr(runtime.LambdaContext, "get_remaining_time_in_millis", staticmethod(lambda: seconds * 1000))
    try:
        return invoke(function_id, event)
    finally:
        monkey.undo()
