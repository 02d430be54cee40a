"""The benchmark's database: migrated, the demo story seeded on the pinned demo day, a workflow session,
and the API functions' login, which the routes connect as (row-level security applies to it, as in AWS)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial

import psycopg
from psycopg.conninfo import make_conninfo

from localdev import template
from tools.bench.common import DEMO_DAY, SESSION

# Functions that the stack runs as the schema's owner, not as the API functions' login.
AS_OWNER = ("DatabaseMigrateFunction",)
# The sandbox events/sandbox_delete.json deletes: made again (untimed) before each call.
DELETED_SANDBOX = "acme-rehearsal"
RUNTIME_LOGIN = "squelch_app"  # as localdev's and the tests': a member of squelch_runtime, rows only
DEFAULT = "default"  # the sandbox clients without the X-Demo-Sandbox header see


def prepare_database(url: str) -> None:
    """Migrations, then only the default sandbox, its story freshly seeded, and an empty reset log."""
    from squelch.db import migrations
    from squelch.domain import demo

    with psycopg.connect(url, autocommit=True) as conn:
        migrations.migrate(conn)
        conn.execute("DELETE FROM demo_customers")
        conn.execute("DELETE FROM demo_sandboxes WHERE name <> %s", [DEFAULT])
        demo.reset(conn, date.fromisoformat(DEMO_DAY))
        conn.execute("DELETE FROM demo_reset_log")


def runtime_url(url: str) -> str:
    """The same database as the API functions' login (BENCH_RUNTIME_URL, else squelch_app provisioned
    here, for a server that trusts local logins as the embedded one does)."""
    from squelch.db import roles

    if os.environ.get("BENCH_RUNTIME_URL"):
        return os.environ["BENCH_RUNTIME_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        roles.provision_login(conn, RUNTIME_LOGIN, None)
    return make_conninfo(url, user=RUNTIME_LOGIN)


@contextmanager
def functions_connect_as(url: str) -> Iterator[None]:
    """In-process handlers connect with `url` until the block ends (settings are read once per
    container, and the connection is kept per thread: both start again on entry and exit)."""
    from squelch import db
    from squelch.settings import get_settings

    before = os.environ.get("DATABASE_URL")

    def switch(to: str | None) -> None:
        if to is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = to
        get_settings.cache_clear()
        db.close()

    switch(url)
    try:
        yield
    finally:
        switch(before)


def add_session(url: str, sandbox: str = DEFAULT) -> None:
    """The workflow session the step-save and context events name, in the sandbox (as the owner)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO demo_workflow_state (sandbox, session_id, customer_id, workflow_type, total_steps) "
            "VALUES (%s, %s, 'aco-001', 'strategic_planning', 5) ON CONFLICT DO NOTHING",
            [sandbox, SESSION],
        )


def create_sandbox(conn: psycopg.Connection, name: str, checkpoint: str = "act1-start") -> None:
    """Create (or reset) a sandbox with the domain's reset (no limit, no TTL sweep), on a connection
    as the API functions' login: the checkpoints' SQL finds the story's rows through row-level
    security, so as the owner, who sees every sandbox, it fails once there are two."""
    from squelch.domain import demo

    demo.reset(conn, date.fromisoformat(DEMO_DAY), checkpoint, name)


def delete_sandboxes(conn: psycopg.Connection, names: list[str]) -> None:
    conn.execute("DELETE FROM demo_sandboxes WHERE name = ANY(%s)", [names])


def setup_for(function: template.Function, conn: psycopg.Connection) -> Callable[[], object] | None:
    """What must exist before each call of the function with its events/ sample: the sandbox the
    delete removes (made on `conn`, the API functions' login)."""
    if function.logical_id != "SandboxDeleteFunction":
        return None
    return partial(create_sandbox, conn, DELETED_SANDBOX)
