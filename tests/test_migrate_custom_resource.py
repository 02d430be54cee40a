"""The migrate function as CloudFormation's custom resource: it answers the presigned URL with
SUCCESS (and what it did) or FAILED (and why), and does nothing on Delete. No AWS involved: the
ResponseURL is a local server that records what it is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg
import pytest
from conftest import invoke, load_event

from squelch.domain import demo


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": json.loads(body), "content_type": self.headers.get("Content-Type")})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/presigned?X-Amz-Signature=abc", received
    server.shutdown()
    server.server_close()


def request(kind: str, url: str) -> dict:
    event = load_event("database_migrate_cfn_create.json")
    event["RequestType"], event["ResponseURL"] = kind, url
    if kind != "Create":
        event["PhysicalResourceId"] = "squelch-database-migrations"
    return event


@pytest.mark.parametrize("kind", ["Create", "Update"])
def test_create_and_update_migrate_and_report_success(story: psycopg.Connection, cloudformation, kind: str) -> None:
    url, received = cloudformation
    invoke("DatabaseMigrateFunction", request(kind, url))
    [answer] = received
    body = answer["body"]
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "squelch-database-migrations"
    assert (body["StackId"], body["RequestId"], body["LogicalResourceId"]) == (
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/squelch-act1/5b7ab3e0-0000-0000-0000-000000000000",
        "0f9c5d2e-2b8f-4a61-9d0b-0a5c1e0d7a11", "DatabaseMigrations")
    assert body["Data"] == {"migrations_applied": "", "seeded": "false", "anchor_date": "2025-11-23"}
    assert answer["content_type"] == ""  # the presigned URL's signature covers an empty content type


def test_create_seeds_an_empty_database(story: psycopg.Connection, cloudformation) -> None:
    url, received = cloudformation
    story.execute("DELETE FROM demo_customers WHERE is_demo")
    invoke("DatabaseMigrateFunction", request("Create", url))
    assert received[0]["body"]["Data"]["seeded"] == "true"
    assert story.execute("SELECT count(*) AS n FROM demo_customers").fetchone()["n"] == 1


def test_failure_is_reported_with_its_reason(story: psycopg.Connection, cloudformation, monkeypatch) -> None:
    url, received = cloudformation

    def broken() -> None:
        raise RuntimeError("migration 0003 was edited after it was applied")

    monkeypatch.setattr(demo, "prepare_database", broken)
    invoke("DatabaseMigrateFunction", request("Update", url))
    body = received[0]["body"]
    assert body["Status"] == "FAILED"
    assert body["Reason"] == "RuntimeError: migration 0003 was edited after it was applied"


def test_delete_does_nothing_to_the_database(story: psycopg.Connection, cloudformation, monkeypatch) -> None:
    url, received = cloudformation
    monkeypatch.setattr(demo, "prepare_database", lambda: pytest.fail("Delete must not touch the database"))
    invoke("DatabaseMigrateFunction", request("Delete", url))
    assert received[0]["body"]["Status"] == "SUCCESS"
    assert story.execute("SELECT count(*) AS n FROM demo_customers").fetchone()["n"] == 1


def test_plain_invocation_returns_the_summary(story: psycopg.Connection) -> None:
    assert invoke("DatabaseMigrateFunction", load_event("database_migrate.json")) == {
        "migrations_applied": [], "seeded": False, "anchor_date": "2025-11-23"}
