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

import psycopg
import pytest
from conftest import ROOT, http_request

from localdev import template
from localdev.auth import issue_token
from localdev.server import free_port


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
