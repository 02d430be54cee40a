"""The demo story: seeding Obsidian Black around the demo day D, and the presenters' reset."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib import resources

from aws_lambda_powertools.metrics import MetricUnit

from squelch import clock, db
from squelch.db import Connection, credentials, migrations, roles
from squelch.domain.customers import DEMO_CUSTOMER_ID
from squelch.errors import BadRequest
from squelch.models.demo import ResetResponse
from squelch.observability import logger, metrics
from squelch.queries import demo as queries
from squelch.settings import get_settings


@dataclass(frozen=True)
class ResetResult:
    customer_id: str
    anchor_date: date
    duration_ms: float
    reset_id: int | None = None


@cache
def _seed_sql(name: str) -> str:
    return (resources.files("squelch") / "sql" / "seed" / name).read_text()


def story_sql() -> str:
    return _seed_sql("obsidian_black.sql")


def delete_sql() -> str:
    return _seed_sql("delete_demo_data.sql")


def seed_if_absent(conn: Connection, anchor: date) -> bool:
    """Seed the story unless the demo customer exists; never overwrites data. True when seeded."""
    with conn.transaction():
        _lock_and_anchor(conn, anchor)
        if queries.customer_exists(conn, DEMO_CUSTOMER_ID):
            return False
        conn.execute(story_sql())
        return True


def reset(conn: Connection, anchor: date) -> ResetResult:
    """Delete all demo data and seed the story again, in one transaction: all of it or none of it."""
    started = time.perf_counter()
    with conn.transaction():
        _lock_and_anchor(conn, anchor)
        conn.execute(delete_sql())
        conn.execute(story_sql())
    return ResetResult(DEMO_CUSTOMER_ID, anchor, round((time.perf_counter() - started) * 1000, 1))


def reset_demo(confirm: object, requested_by: str, source_ip: str | None) -> ResetResponse:
    """The presenters' reset: refused unless confirm is true; recorded with who asked and how long it took."""
    if confirm is not True:
        raise BadRequest("confirmation_required", 'Send {"confirm": true} to reset the demo; nothing was deleted.')
    anchor = clock.demo_anchor()

    def unit(conn: Connection) -> ResetResult:
        result = reset(conn, anchor)
        return replace(result, reset_id=queries.log_reset(conn, requested_by, anchor, result.duration_ms, source_ip))

    result = db.run(unit)
    logger.info(
        "demo reset",
        extra={
            "reset_id": result.reset_id,
            "requested_by": requested_by,
            "anchor_date": anchor.isoformat(),
            "duration_ms": result.duration_ms,
        },
    )
    metrics.add_metric(name="DemoResets", unit=MetricUnit.Count, value=1)
    return ResetResponse(
        success=True,
        message="Demo data reset successfully",
        customer_id=result.customer_id,
        anchor_date=anchor,
        duration_ms=result.duration_ms,
        reset_id=result.reset_id,
        requested_by=requested_by,
    )


def _lock_and_anchor(conn: Connection, anchor: date) -> None:
    queries.lock_story_for_reset(conn)
    conn.execute("SELECT set_config('squelch.demo_anchor', %s, true)", [anchor.isoformat()])


@dataclass(frozen=True)
class PrepareResult:
    migrations_applied: list[str]
    seeded: bool
    anchor_date: date
    runtime_login: str | None = None


def prepare_database() -> PrepareResult:
    """What the migrate function does, as the schema's owner: apply pending migrations, provision
    the API functions' login when a runtime secret is configured, then seed the story if absent."""

    def prepare(conn: Connection) -> PrepareResult:
        applied = migrations.migrate(conn)
        login = None
        if secret_arn := get_settings().db_runtime_secret_arn:
            info = conn.info
            login, password = credentials.runtime_login(secret_arn, info.host, info.port, info.dbname)
            roles.provision_login(conn, login, password)
        anchor = clock.demo_anchor()
        return PrepareResult(applied, seed_if_absent(conn, anchor), anchor, login)

    return db.run_idempotent(prepare)
