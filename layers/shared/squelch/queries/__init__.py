"""SQL, one module per concern. Each function takes a connection and returns typed rows: frozen
dataclasses filled by psycopg's class_row, one per query shape, named for what a row is."""

from __future__ import annotations

import re

import psycopg

from squelch import db, warmup
from squelch.observability import logger

# The tables the routes' queries read. A new connection's first query on a table loads the table's
# catalog entries into its server process, about half of a function's first request after a warm-up
# (docs/PERFORMANCE.md); the warm-up loads them with LIMIT 0, which reads no row, in a sandbox that cannot
# exist (row-level security plans the functions' login's reads with the sandbox a transaction entered).
STORY_TABLES = (
    "demo_sandboxes",
    "demo_customers",
    "demo_customer_refs",
    "demo_contacts",
    "demo_contracts",
    "demo_operations",
    "demo_support_tickets",
    "demo_health_components",
    "demo_opportunities",
    "demo_strategic_plans",
    "demo_workflow_state",
)
WARM_CATALOG = "; ".join(f"SELECT FROM {table} LIMIT 0" for table in STORY_TABLES)

# The routes' reads the warm-up plans ahead, registered by the modules that send them (planned()): a new
# connection's first execution of a statement looks up what planning it needs (its operators, sort support,
# indexes, statistics), 0.3-0.9 ms a statement here. EXPLAIN (GENERIC_PLAN), PostgreSQL 16 and later, plans a
# statement with its placeholders unbound and runs nothing; on 15 the reads are left to their first request.
PLANNED: list[str] = []
GENERIC_PLAN_SINCE = 160000  # server_version_num
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def planned(statement: str) -> str:
    """Register one of the routes' reads for the warm-up to plan ahead (once, if a module is loaded again), and
    return it unchanged."""
    if statement not in PLANNED:
        PLANNED.append(statement)
    return statement


def numbered(statement: str) -> str:
    """The statement as psycopg sends it to PostgreSQL: its %(name)s placeholders as $1, $2, ... in the order
    each name first appears, and %% as %."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${names.setdefault(match[1], len(names) + 1)}"

    return _PLACEHOLDER.sub(number, statement).replace("%%", "%")


def warm_up_sql(server_version: int) -> str:
    """What the warm-up sends, as one simple-protocol string (one round trip): the story tables opened with
    LIMIT 0, then, where PostgreSQL can, every registered read planned with EXPLAIN (GENERIC_PLAN)."""
    plans = [f"EXPLAIN (GENERIC_PLAN) {numbered(statement).strip()}" for statement in PLANNED]
    return "; ".join([WARM_CATALOG, *(plans if server_version >= GENERIC_PLAN_SINCE else [])])


@warmup.on_warm_up(f"{warmup.DATABASE}:catalog")
def _warm_catalog(answer: warmup.Answer) -> None:
    if answer["database"] != "ok":
        return
    try:
        db.outside_every_sandbox(lambda conn: conn.execute(warm_up_sql(conn.info.server_version)))
    except psycopg.Error as error:  # a schema not migrated yet: the check itself passed, so the answer stands
        logger.warning("warm-up: the tables' catalog not loaded", extra={"reason": type(error).__name__})
