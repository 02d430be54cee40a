"""SQL of a customer's operations."""

from __future__ import annotations

from typing import Any

from squelch.db import Connection

LIST = """
SELECT operation_id, name, status, failure_reason, cost_impact, quarter, date
FROM demo_operations
WHERE customer_id = %(customer_id)s
ORDER BY date DESC, operation_id
"""


def list_for(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    return conn.execute(LIST, {"customer_id": customer_id}).fetchall()
