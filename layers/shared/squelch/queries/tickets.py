"""SQL of a customer's support tickets: a window of them, and counts over a period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from squelch.db import Connection

IN_PERIOD = """
SELECT ticket_id, subject, category, priority, sentiment, created_at AS filed_at,
       resolution_time_hours
FROM demo_support_tickets
WHERE customer_id = %(customer_id)s AND created_at >= %(start)s AND created_at < %(end)s
ORDER BY created_at DESC, ticket_id DESC
"""

COUNT_IN_PERIOD = """
SELECT count(*) AS tickets
FROM demo_support_tickets
WHERE customer_id = %(customer_id)s AND created_at >= %(start)s AND created_at < %(end)s
"""


def in_period(conn: Connection, customer_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return conn.execute(IN_PERIOD, {"customer_id": customer_id, "start": start, "end": end}).fetchall()


def count_in_period(conn: Connection, customer_id: str, start: datetime, end: datetime) -> int:
    row = conn.execute(COUNT_IN_PERIOD, {"customer_id": customer_id, "start": start, "end": end}).fetchone()
    return int(row["tickets"]) if row else 0
