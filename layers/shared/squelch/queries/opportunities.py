"""SQL of a customer's expansion opportunities."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from psycopg.rows import class_row

from squelch.db import Connection
from squelch.queries import planned

LIST = planned("""
SELECT o.opportunity_id, o.name, s.name AS sponsor, o.sponsor_contact_id, o.value, o.status,
       o.key_requirement, o.competitors AS competitors_evaluating, o.urgency, o.probability
FROM demo_opportunities o
LEFT JOIN demo_contacts s ON s.contact_id = o.sponsor_contact_id
WHERE o.customer_id = %(customer_id)s
ORDER BY o.value DESC, o.opportunity_id
""")


@dataclass(frozen=True)
class Opportunity:
    opportunity_id: str
    name: str
    sponsor: str | None
    sponsor_contact_id: str | None
    value: Decimal
    status: str
    key_requirement: str | None
    competitors_evaluating: list[str]
    urgency: str
    probability: Decimal | None


def list_for(conn: Connection, customer_id: str) -> list[Opportunity]:
    """The customer's opportunities, largest first."""
    return conn.cursor(row_factory=class_row(Opportunity)).execute(LIST, {"customer_id": customer_id}).fetchall()
