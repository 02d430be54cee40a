"""SQL of a customer's operations."""

from __future__ import annotations

from datetime import date
from typing import Any

from squelch.db import Connection

LIST = """
SELECT operation_id, name, status, failure_reason, cost_impact, quarter, date
FROM demo_operations
WHERE customer_id = %(customer_id)s AND date <= %(today)s
ORDER BY date DESC, operation_id
"""


def list_for(conn: Connection, customer_id: str, today: date) -> list[dict[str, Any]]:
    """The operations that have begun by today, newest first."""
    return conn.execute(LIST, {"customer_id": customer_id, "today": today}).fetchall()
