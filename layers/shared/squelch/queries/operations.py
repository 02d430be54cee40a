"""SQL of a customer's operations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from psycopg.rows import class_row

from squelch.db import Connection
from squelch.queries import planned

LIST = planned("""
SELECT operation_id, name, status, failure_reason, cost_impact, quarter, date
FROM demo_operations
WHERE customer_id = %(customer_id)s AND date <= %(today)s
ORDER BY date DESC, operation_id
""")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    name: str
    status: str
    failure_reason: str | None
    cost_impact: Decimal | None
    quarter: str
    date: date


def list_for(conn: Connection, customer_id: str, today: date) -> list[Operation]:
    """The operations that have begun by today, newest first."""
    cursor = conn.cursor(row_factory=class_row(Operation))
    return cursor.execute(LIST, {"customer_id": customer_id, "today": today}).fetchall()
