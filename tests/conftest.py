"""Fixtures: a real PostgreSQL (embedded, or TEST_DATABASE_URL's server), fresh databases, the
demo story on a pinned demo day, and the functions of template.yaml loaded as Lambda loads them."""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from localdev import runtime, template
from localdev.database import create_database, start_embedded, stop_embedded
from localdev.server import LocalServer
from squelch import db
from squelch.db import credentials, migrations, roles
from squelch.domain import demo
from squelch.settings import get_settings

# tests/deploy runs in the deploy environment (`make transform-test`), with SAM CLI's own code.
collect_ignore = ["deploy"]
# Every status the functions answer in the suite is checked against docs/openapi.json.
pytest_plugins = ["status_census"]

# The fixtures' connections hand rows over as dicts (psycopg's dict_row), as the functions' do.
DictConnection = psycopg.Connection[dict[str, Any]]

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
# D such that the renewal (D+143) falls on 2026-04-15, docs/STORY.md's example.
DEMO_DAY = date(2025, 11, 23)
RUNTIME_LOGIN = "squelch_app"  # the login migration 0003's squelch_runtime rights are granted to
ZIP_TIMESTAMP = 315_532_800  # 1980-01-01, the date `sam deploy` gives every file it zips
# The start of a script for a fresh interpreter, given a function's and a layer's folder as
# sys.argv[1:3]: it records, in `compiled`, each module of those folders that had to be compiled
# at import because no valid bytecode was there.
RECORD_COMPILED = """
import json, sys
from importlib import _bootstrap_external
compiled = []
source_to_code = _bootstrap_external.SourceLoader.source_to_code
def recording_source_to_code(self, data, path, *args, **kwargs):
    if str(path).startswith((sys.argv[1], sys.argv[2])):
        compiled.append(str(path))
    return source_to_code(self, data, path, *args, **kwargs)
_bootstrap_external.SourceLoader.source_to_code = recording_source_to_code
"""


@pytest.fixture(scope="session", autouse=True)
def new_containers() -> None:
    """Each pytest session loads the functions afresh, as new containers would. A session forked from a
    process that had loaded them already (each mutant's, in `make mutate`) thereby runs their module-level
    code (the resolver, its error handlers) again, with the mutant in place."""
    runtime.unload_all()


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    """A URL with the right to create databases on the server under test."""
    if os.environ.get("TEST_DATABASE_URL"):
        url = os.environ["TEST_DATABASE_URL"]
        # TLS when the server has it: the layer's own default (require) is tested in test_database_tls.py.
        url = make_conninfo(url, sslmode=conninfo_to_dict(url).get("sslmode", "prefer"))
        reachable_or_exit(url)
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="squelch-pg-") as scratch:
        url = start_embedded(Path(scratch) / "data", "postgres")
        yield url
        stop_embedded()  # before its folder goes: the server finds its users' list there


def reachable_or_exit(url: str) -> None:
    """Stop the session at once, in one line, when TEST_DATABASE_URL's server cannot be used, rather
    than failing every test that needs it with the same traceback."""
    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.OperationalError as error:
        reason = credentials.tls_problem(error, "TEST_DATABASE_URL") or str(error).strip().splitlines()[0]
        pytest.exit(f"TEST_DATABASE_URL: {reason}", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(scope="session")
def database_factory(admin_url: str) -> Iterator[Any]:
    created: list[str] = []

    def new_database() -> str:
        name = f"squelch_test_{uuid.uuid4().hex[:12]}"
        create_database(admin_url, name)
        created.append(name)
        return make_conninfo(admin_url, dbname=name)

    yield new_database
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in created:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def empty_database(database_factory: Any) -> str:
    return database_factory()


@pytest.fixture(scope="session")
def app_database(database_factory: Any) -> str:
    """One migrated database shared by the tests that reset the story before they use it, as its
    owner (the migrator), with the API functions' login provisioned as the migrate function does."""
    url = database_factory()
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.migrate(conn)
        roles.provision_login(conn, RUNTIME_LOGIN, None)
    return url


@pytest.fixture(scope="session")
def runtime_url(app_database: str) -> str:
    """The same database as the API functions' login: rows only, no DDL (the server trusts local logins)."""
    return make_conninfo(app_database, user=RUNTIME_LOGIN)


def use_environment(monkeypatch: pytest.MonkeyPatch, **env: str | None) -> None:
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    db.close()


@pytest.fixture
def story(app_database: str, runtime_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[DictConnection]:
    """The demo story freshly seeded on DEMO_DAY, the clock frozen on that day, the functions
    connecting as the API functions' login, and an owner's connection for the test to look at the
    rows with."""
    use_environment(
        monkeypatch,
        DATABASE_URL=runtime_url,
        DB_SECRET_ARN=None,
        DEMO_ANCHOR_DATE=DEMO_DAY.isoformat(),
        DEMO_TODAY=DEMO_DAY.isoformat(),
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    with psycopg.connect(app_database, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        conn.execute("DELETE FROM demo_customers")
        conn.execute("DELETE FROM demo_sandboxes WHERE name <> 'default'")
        demo.reset(conn, DEMO_DAY)
        # Rows the test adds belong to the default sandbox, as the rows of clients without the header do.
        conn.execute("SELECT set_config('squelch.sandbox', 'default', false)")
        yield conn
    db.close()
    get_settings.cache_clear()


@pytest.fixture
def migrator(story: DictConnection, app_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The story, with the functions connecting as the schema's owner: the migrate function's
    connection (the stack gives it the owner's secret)."""
    use_environment(monkeypatch, DATABASE_URL=app_database)


def one(conn: DictConnection, query: str, *params: Any) -> dict[str, Any]:
    """The one row a query must return."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    event = json.loads((EVENTS / name).read_text())
    event.update(overrides)
    return event


def invoke(function_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke a function of template.yaml in-process, as the local server and Lambda do."""
    return runtime.invoke(template.load()[function_id], event)


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def database_name(url: str) -> str:
    return str(conninfo_to_dict(url)["dbname"])


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Every line the functions' Powertools logger writes, as JSON text, at INFO and above."""
    from squelch.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    previous = logger.log_level
    logger.addHandler(handler)
    logger.setLevel("INFO")
    yield stream
    logger.removeHandler(handler)  # type: ignore[attr-defined]  # Powertools' Logger forwards it to logging
    logger.setLevel(previous)


@pytest.fixture
def server(story: DictConnection) -> Iterator[str]:
    """The local server on the story's database, in this process, on a free port."""
    local = LocalServer("127.0.0.1", 0, workers=4)
    threading.Thread(target=local.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{local.server_address[1]}"
    local.shutdown()
    local.server_close()


def http_request(
    url: str, method: str = "GET", body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """(status, lower-cased headers, body); header keyword names use _ for - (Content_Type)."""
    sent = urllib.request.Request(
        url, data=body, method=method, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
