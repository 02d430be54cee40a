"""SQL of the demo reset's bookkeeping (the story itself is db/seed/*.sql)."""

from __future__ import annotations

from datetime import date

from squelch.db import Connection

CUSTOMER_EXISTS = "SELECT 1 FROM demo_customers WHERE customer_id = %(customer_id)s"

LOG_RESET = """
INSERT INTO demo_reset_log (requested_by, anchor_date, duration_ms, source_ip)
VALUES (%(requested_by)s, %(anchor_date)s, %(duration_ms)s, %(source_ip)s)
RETURNING reset_id
"""


def customer_exists(conn: Connection, customer_id: str) -> bool:
    return conn.execute(CUSTOMER_EXISTS, {"customer_id": customer_id}).fetchone() is not None


def log_reset(conn: Connection, requested_by: str, anchor_date: date, duration_ms: float, source_ip: str | None) -> int:
    params = {"requested_by": requested_by, "anchor_date": anchor_date, "duration_ms": duration_ms,
              "source_ip": source_ip}
    row = conn.execute(LOG_RESET, params).fetchone()
    assert row is not None
    return int(row["reset_id"])
