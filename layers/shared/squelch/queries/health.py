"""SQL of a customer's health components and the failures behind them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from squelch.db import Connection

COMPONENTS = """
SELECT component, score, weight
FROM demo_health_components
WHERE customer_id = %(customer_id)s
ORDER BY score * weight DESC, component
"""

# A critical ticket is a service failure (see the README's decisions log).
CRITICAL_FAILURES_BETWEEN = """
SELECT count(*) AS failures
FROM demo_support_tickets
WHERE customer_id = %(customer_id)s AND priority = 'critical' AND created_at >= %(since)s
  AND created_at < %(until)s
"""


def components_for(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    return conn.execute(COMPONENTS, {"customer_id": customer_id}).fetchall()


def critical_failures_between(conn: Connection, customer_id: str, since: datetime, until: datetime) -> int:
    params = {"customer_id": customer_id, "since": since, "until": until}
    row = conn.execute(CRITICAL_FAILURES_BETWEEN, params).fetchone()
    return int(row["failures"]) if row else 0
