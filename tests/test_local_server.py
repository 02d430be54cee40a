"""The local server: template.yaml's routes over real HTTP, one log line per request, and
`python -m localdev serve` (what `make run` runs) end to end."""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import DEMO_DAY, ROOT, body_of, http_request, invoke, load_event, use_environment
from psycopg.conninfo import conninfo_to_dict

from localdev import template
from localdev.auth import issue_token
from localdev.server import free_port
from squelch import db


def test_serves_every_route_declared_in_the_template(server: str, caplog: pytest.LogCaptureFixture) -> None:
    # Each route of template.yaml, asked over HTTP, reaches the function the template names for it
    routes = [(r.method, r.path, f.logical_id) for f in template.load().values() for r in f.routes]
    assert len(routes) == 18
    for method, path, function in routes:
        url = server + path.replace("{customer_ref}", "aco").replace("{session_id}", "wf-unknown").replace(
            "{name}", "gone"
        )
        with caplog.at_level(logging.INFO, logger="localdev"):
            status, _, _ = http_request(
                url,
                method,
                b"{}" if method != "GET" else None,
                Content_Type="application/json",
                Authorization=f"Bearer {issue_token()}",
            )
        assert status not in (404, 405) or function.startswith(("Workflow", "SandboxDelete")), (method, path, status)
        assert caplog.messages[-1].split()[-1] == function, (method, path, caplog.messages[-1])


def test_profile_over_http(server: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="localdev"):
        status, headers, body = http_request(f"{server}/api/customers/aco")
    assert status == 200 and headers["content-type"] == "application/json"
    profile = json.loads(body)
    assert profile["arr"] == 1500000 and profile["renewal_date"] == "2026-04-15"
    assert any("GET /api/customers/aco 200" in line and "CustomerGetFunction" in line for line in caplog.messages)


def test_unknown_route_is_a_json_404(server: str) -> None:
    status, headers, body = http_request(f"{server}/api/nothing-here")
    assert status == 404 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "route_not_found"


def test_unknown_customer_over_http(server: str) -> None:
    status, _, body = http_request(f"{server}/api/customers/no%20one")
    assert status == 404
    assert json.loads(body)["error"]["message"] == "No customer has the id or slug 'no one'."


def run_serve(database_url: str) -> tuple[str, str]:
    """Start `python -m localdev serve`, fetch the profile once, stop it; return (first line, body)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "localdev", "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        first_line = process.stdout.readline() if process.stdout else ""
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, body = http_request(f"http://127.0.0.1:{port}/api/customers/aco")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the server did not start within 30 s"
                time.sleep(0.1)
        assert status == 200
        return first_line, body.decode()
    finally:
        process.terminate()
        process.wait(10)


def test_serve_migrates_seeds_and_keeps_data_across_restarts(database_factory) -> None:
    # Given an empty database, when the server starts, it migrates and seeds
    url = database_factory()
    first, body = run_serve(url)
    assert '"seeded": true' in first and json.loads(body)["name"] == "Obsidian Black"
    # And when a change is made and the server restarts, the data is kept, not re-seeded
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE demo_customers SET operatives = 451")
    first, body = run_serve(url)
    assert '"seeded": false' in first and json.loads(body)["operatives"] == 451


def test_embedded_postgres_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    # Each start is its own process, as two `make run`s are; the server stops when it exits.
    script = """
import sys, psycopg
from localdev.database import start_embedded
with psycopg.connect(start_embedded(__import__('pathlib').Path(sys.argv[1]), 'squelch'), autocommit=True) as c:
    c.execute('CREATE TABLE IF NOT EXISTS kept (n int)')
    c.execute('INSERT INTO kept VALUES (1)')
    print(c.execute('SELECT count(*) FROM kept').fetchone()[0])
"""
    counts = [
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "pg")], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert counts == ["1", "2"]


def two_stories_of_tickets(story: Any) -> None:
    """A presenter's sandbox beside the default story: ten spike tickets in all, five in each."""
    from squelch.domain import demo

    demo.reset(story, DEMO_DAY, "act1-mid-planning", "acme")
    assert story.execute("SELECT count(*) AS n FROM demo_support_tickets WHERE ticket_id = 'aco-4891'").fetchone() == {
        "n": 2
    }


def test_on_your_own_database_the_routes_run_as_the_runtime_login(
    story: Any, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given `DATABASE_URL=<your own PostgreSQL, as its owner> make run`, with two sandboxes in it
    from localdev import __main__ as cli

    use_environment(monkeypatch, DATABASE_URL=app_database)
    two_stories_of_tickets(story)
    # When it readies the functions' connection, as it does after migrating
    cli._serve_as_runtime_login()
    # Then the routes connect as the API functions' login, whom row-level security binds
    assert conninfo_to_dict(os.environ["DATABASE_URL"])["user"] == "squelch_app"
    tickets = body_of(invoke("TicketsListFunction", load_event("tickets_list.json")))
    assert tickets["summary"]["total_tickets_2_weeks"] == 5
    assert db.connection().info.user == "squelch_app"


def test_make_invoke_runs_a_route_as_the_runtime_login(story: Any, app_database: str) -> None:
    # Given your own database with two sandboxes
    two_stories_of_tickets(story)
    # When `make invoke` runs a route function on it
    env = {**os.environ, "DATABASE_URL": app_database, "DEMO_TODAY": DEMO_DAY.isoformat()}
    done = subprocess.run(
        [sys.executable, "-m", "localdev", "invoke", "TicketsListFunction", "events/tickets_list.json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # Then it answers from the default sandbox alone, as the API functions' login
    answer = json.loads(json.loads(done.stdout)["body"])
    assert answer["summary"]["total_tickets_2_weeks"] == 5


# ---- who the server answers: loopback names only (DNS rebinding), and bodies it can bound


def raw_request(server: str, head: str, body: bytes = b"", timeout: float = 5) -> tuple[int, dict[str, Any]]:
    """Send head (request line and headers, as written) and body on a new connection; (status, JSON body)."""
    port = int(server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = http.client.HTTPResponse(connection)
        answer.begin()
        return answer.status, json.loads(answer.read() or b"null")


REBIND = "rebind.attacker.example:3000"


def test_a_page_of_another_host_that_resolves_to_this_machine_is_not_answered(server: str, story) -> None:
    # Given a page on rebind.attacker.example:3000 whose name the attacker pointed at 127.0.0.1 (DNS rebinding):
    # the browser sends the attacker's name in Host, and treats the answer as that page's own
    token = issue_token()
    resets = story.execute("SELECT count(*) AS n FROM demo_reset_log").fetchone()["n"]
    for method, path, body in [
        ("GET", "/api/customers/aco", b""),
        ("GET", "/local-sign-in/authorize?client_id=squelch-local-console", b""),
        ("GET", "/api/demo/sandboxes", b""),
        ("POST", "/api/demo/reset", b'{"confirm": true}'),
    ]:
        head = (
            f"{method} {path} HTTP/1.1\nHost: {REBIND}\nAuthorization: Bearer {token}\n"
            f"Content-Type: application/json\nContent-Length: {len(body)}\n"
        )
        status, answer = raw_request(server, head, body)
        # Then nothing is served, with a JSON error that says why
        assert status == 421, (path, status)
        assert answer["error"]["code"] == "host_not_allowed"
        assert "rebind.attacker.example" in answer["error"]["message"]
    # And no reset happened
    assert story.execute("SELECT count(*) AS n FROM demo_reset_log").fetchone()["n"] == resets


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:3000",
        "LocalHost:1",
        "localhost.",
        "127.0.0.1",
        "127.0.0.1:8080",
        "127.1.2.3:3000",
        "[::1]",
        "[::1]:3000",
    ],
)
def test_loopback_names_and_addresses_are_answered_on_any_port(server: str, host: str) -> None:
    status, answer = raw_request(server, f"GET /api/customers/aco HTTP/1.1\nHost: {host}\n")
    assert status == 200 and answer["customer_id"] == "aco-001"


@pytest.mark.parametrize(
    "host",
    [
        REBIND,
        "",
        "localhost.attacker.example",
        "127.0.0.1.nip.io",
        "attacker.example:3000@localhost",
        "0.0.0.0",  # noqa: S104 - a Host value refused, not an address bound
        "[::ffff:7f00:1]:80",
        "192.168.1.20:3000",
        "localhost:3000:1",
        "[::1",
    ],
)
def test_other_hosts_and_a_missing_host_are_refused(server: str, host: str) -> None:
    head = f"GET /api/customers/aco HTTP/1.1\nHost: {host}\n" if host else "GET /api/customers/aco HTTP/1.1\n"
    status, answer = raw_request(server, head)
    assert (status, answer["error"]["code"]) == (421, "host_not_allowed")


def test_more_hosts_can_be_allowed_by_name(server: str, monkeypatch) -> None:
    # Given the server told to answer a name of its own too (a laptop reached by a phone on the LAN, say)
    monkeypatch.setenv("LOCAL_ALLOWED_HOSTS", "squelch.test, 192.168.1.20")
    # Then those names are answered on any port, and others still are not
    for host in ("squelch.test:3000", "SQUELCH.TEST", "192.168.1.20:3000", "localhost"):
        assert raw_request(server, f"GET /api/customers/aco HTTP/1.1\nHost: {host}\n")[0] == 200, host
    assert raw_request(server, f"GET /api/customers/aco HTTP/1.1\nHost: {REBIND}\n")[0] == 421


@pytest.mark.parametrize("length", ["-1", "-12582912", "abc", "1e3", "+5", "0x10", "5, 5", "١٢"])
def test_a_malformed_or_negative_content_length_is_refused_before_any_body_is_read(server: str, length: str) -> None:
    # Given a request whose Content-Length is not a count of bytes, and a connection kept open (a server
    # that read "until the end" would wait here for ever, or read whatever came, past its 10 MB cap)
    head = f"POST /api/demo/reset HTTP/1.1\nHost: localhost\nContent-Type: application/json\nContent-Length: {length}\n"
    status, answer = raw_request(server, head, b'{"confirm": true}', timeout=5)
    # Then it is refused at once
    assert (status, answer["error"]["code"]) == (400, "malformed_content_length")


def test_two_different_lengths_are_refused(server: str) -> None:
    head = "POST /api/demo/reset HTTP/1.1\nHost: localhost\nContent-Length: 2\nContent-Length: 17\n"
    status, answer = raw_request(server, head, b'{"confirm": true}')
    assert (status, answer["error"]["code"]) == (400, "malformed_content_length")


def test_a_body_over_ten_megabytes_is_refused_unread(server: str) -> None:
    head = f"POST /api/demo/reset HTTP/1.1\nHost: localhost\nContent-Length: {10 * 1024 * 1024 + 1}\n"
    status, answer = raw_request(server, head)
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")


def test_a_chunked_body_is_refused_rather_than_left_in_the_stream(server: str) -> None:
    head = "POST /api/demo/reset HTTP/1.1\nHost: localhost\nTransfer-Encoding: chunked\n"
    status, answer = raw_request(server, head, b'11\r\n{"confirm": true}\r\n0\r\n\r\n')
    assert (status, answer["error"]["code"]) == (411, "length_required")
