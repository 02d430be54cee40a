"""The migrate function as CloudFormation's custom resource: it answers the presigned URL with
SUCCESS (and what it did) or FAILED (a generic reason; the error goes to its log), does nothing on
Delete, and answers no URL but an S3 one. No AWS involved: the presigned S3 URL's PUT is delivered
to a local server that records what it is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from conftest import DictConnection, invoke, load_event, one

from squelch import cfn, db
from squelch.domain import demo

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

    def broken() -> None:
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


@pytest.mark.parametrize(
    "url",
    [
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=a",
        "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x",
        "https://s3.eu-central-1.amazonaws.com/bucket/x",
        "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x",
        "https://bucket.s3.dualstack.us-west-2.amazonaws.com/x",
        "https://bucket.s3-fips.us-gov-west-1.amazonaws.com/x",
    ],
)
def test_cloudformation_response_urls_are_accepted(url: str) -> None:
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
    ],
)
def test_any_other_response_url_gets_no_answer(story: DictConnection, monkeypatch, url: str) -> None:
    # Given someone invokes the function with a request naming another host
    monkeypatch.setattr(cfn, "send", lambda *_: pytest.fail("must not send anything"))
    monkeypatch.setattr(demo, "prepare_database", lambda: pytest.fail("must not touch the database"))
    # Then it neither migrates nor answers
    assert invoke("DatabaseMigrateFunction", request("Create", url)) is None


def test_delete_does_nothing_to_the_database(story: DictConnection, cloudformation, monkeypatch) -> None:
    url, received = cloudformation
    monkeypatch.setattr(demo, "prepare_database", lambda: pytest.fail("Delete must not touch the database"))
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
