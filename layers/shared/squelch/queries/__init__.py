"""SQL, one module per concern. Each function takes a connection and returns typed rows: frozen
dataclasses filled by psycopg's class_row, one per query shape, named for what a row is."""

from __future__ import annotations

import psycopg

from squelch import db, warmup
from squelch.observability import logger

# The tables the routes' queries read. A new connection's first query on a table loads the table's
# catalog entries into its server process, about a third of a function's first request after a warm-up
# (docs/PERFORMANCE.md); the warm-up loads them with LIMIT 0, which reads no row.
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


@warmup.on_warm_up(f"{warmup.DATABASE}:catalog")
def _warm_catalog(answer: warmup.Answer) -> None:
    if answer["database"] != "ok":
        return
    try:
        db.connection().execute(WARM_CATALOG)
    except psycopg.Error as error:  # a schema not migrated yet: the check itself passed, so the answer stands
        logger.warning("warm-up: the tables' catalog not loaded", extra={"reason": type(error).__name__})
