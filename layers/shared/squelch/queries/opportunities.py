"""SQL of a customer's expansion opportunities."""

from __future__ import annotations

from typing import Any

from squelch.db import Connection

LIST = """
SELECT o.opportunity_id, o.name, s.name AS sponsor, o.sponsor_contact_id, o.value, o.status,
       o.key_requirement, o.competitors AS competitors_evaluating, o.urgency, o.probability
FROM demo_opportunities o
LEFT JOIN demo_contacts s ON s.contact_id = o.sponsor_contact_id
WHERE o.customer_id = %(customer_id)s
ORDER BY o.value DESC, o.opportunity_id
"""


def list_for(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    return conn.execute(LIST, {"customer_id": customer_id}).fetchall()
