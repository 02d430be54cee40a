"""SQL of a customer's support tickets: a window of them, and counts over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row, scalar_row

from squelch.db import Connection
from squelch.queries import planned

IN_PERIOD = planned("""
SELECT ticket_id, subject, category, priority, sentiment, created_at AS filed_at, resolution_time_hours
FROM demo_support_tickets
WHERE customer_id = %(customer_id)s AND created_at >= %(start)s AND created_at < %(end)s
ORDER BY created_at DESC, ticket_id DESC
""")

COUNT_IN_PERIOD = planned("""
SELECT count(*)
FROM demo_support_tickets
WHERE customer_id = %(customer_id)s AND created_at >= %(start)s AND created_at < %(end)s
""")


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    subject: str
    category: str
    priority: str
    sentiment: str
    filed_at: datetime
    resolution_time_hours: int | None


def in_period(conn: Connection, customer_id: str, start: datetime, end: datetime) -> list[Ticket]:
    """Tickets filed from start (inclusive) to end (exclusive), newest first."""
    params = {"customer_id": customer_id, "start": start, "end": end}
    return conn.cursor(row_factory=class_row(Ticket)).execute(IN_PERIOD, params).fetchall()


def count_in_period(conn: Connection, customer_id: str, start: datetime, end: datetime) -> int:
    params = {"customer_id": customer_id, "start": start, "end": end}
    return int(conn.cursor(row_factory=scalar_row).execute(COUNT_IN_PERIOD, params).fetchone() or 0)
