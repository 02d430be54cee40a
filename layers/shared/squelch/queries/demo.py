"""SQL of the demo reset's bookkeeping (the story itself is db/seed/*.sql)."""

from __future__ import annotations

from datetime import date

from psycopg.rows import scalar_row

from squelch.db import Connection

# Resets take the story's lock exclusively; every other write holds it shared, so it starts after a
# running reset has committed (and sees the new story) instead of writing into the one being deleted.
STORY_LOCK_KEY = 0x5351_4C43_5253_4554
LOCK_STORY_FOR_RESET = "SELECT pg_advisory_xact_lock(%(key)s)"
LOCK_STORY_FOR_WRITE = "SELECT pg_advisory_xact_lock_shared(%(key)s)"

CUSTOMER_EXISTS = "SELECT 1 FROM demo_customers WHERE customer_id = %(customer_id)s"

LOG_RESET = """
INSERT INTO demo_reset_log (requested_by, anchor_date, duration_ms, source_ip)
VALUES (%(requested_by)s, %(anchor_date)s, %(duration_ms)s, %(source_ip)s)
RETURNING reset_id
"""


def lock_story_for_reset(conn: Connection) -> None:
    conn.execute(LOCK_STORY_FOR_RESET, {"key": STORY_LOCK_KEY})


def lock_story_for_write(conn: Connection) -> None:
    conn.execute(LOCK_STORY_FOR_WRITE, {"key": STORY_LOCK_KEY})


def customer_exists(conn: Connection, customer_id: str) -> bool:
    return (
        conn.cursor(row_factory=scalar_row).execute(CUSTOMER_EXISTS, {"customer_id": customer_id}).fetchone()
        is not None
    )


def log_reset(conn: Connection, requested_by: str, anchor_date: date, duration_ms: float, source_ip: str | None) -> int:
    params = {
        "requested_by": requested_by,
        "anchor_date": anchor_date,
        "duration_ms": duration_ms,
        "source_ip": source_ip,
    }
    reset_id = conn.cursor(row_factory=scalar_row).execute(LOG_RESET, params).fetchone()
    if reset_id is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return int(reset_id)
