"""SQL of a customer's health components and the failures behind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from psycopg.rows import class_row, scalar_row

from squelch.db import Connection
from squelch.queries import planned

COMPONENTS = planned("""
SELECT component, score, weight
FROM demo_health_components
WHERE customer_id = %(customer_id)s
ORDER BY score * weight DESC, component
""")

# A critical ticket is a service failure (docs/DECISIONS.md).
CRITICAL_FAILURES_BETWEEN = planned("""
SELECT count(*)
FROM demo_support_tickets
WHERE customer_id = %(customer_id)s AND priority = 'critical' AND created_at >= %(since)s
  AND created_at < %(until)s
""")


@dataclass(frozen=True)
class HealthComponent:
    component: str
    score: Decimal
    weight: Decimal

    @property
    def contribution(self) -> Decimal:
        return self.score * self.weight


def components_for(conn: Connection, customer_id: str) -> list[HealthComponent]:
    """The parts of the customer's score, largest contribution first."""
    cursor = conn.cursor(row_factory=class_row(HealthComponent))
    return cursor.execute(COMPONENTS, {"customer_id": customer_id}).fetchall()


def critical_failures_between(conn: Connection, customer_id: str, since: datetime, until: datetime) -> int:
    params = {"customer_id": customer_id, "since": since, "until": until}
    return int(conn.cursor(row_factory=scalar_row).execute(CRITICAL_FAILURES_BETWEEN, params).fetchone() or 0)
