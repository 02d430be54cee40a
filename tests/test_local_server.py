"""The local server: template.yaml's routes over real HTTP, one log line per request, and
`python -m localdev serve` (what `make run` runs) end to end."""

from __future__ import annotations

import json
import logging
import os
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
    assert len(routes) == 16
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
