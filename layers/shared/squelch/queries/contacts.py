"""SQL of a customer's contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from psycopg.rows import class_row

from squelch.db import Connection
from squelch.queries import planned

# As of today: a last contact dated after today has not happened yet.
LIST = planned("""
SELECT contact_id, customer_id, name, title, villain_designation, engagement_level, satisfaction,
       CASE WHEN last_contact <= %(today)s THEN last_contact END AS last_contact,
       is_evaluating_competitors, initiative_value, is_primary
FROM demo_contacts
WHERE customer_id = %(customer_id)s
ORDER BY is_primary DESC, name, contact_id
""")


@dataclass(frozen=True)
class Contact:
    contact_id: str
    customer_id: str
    name: str
    title: str | None
    villain_designation: str | None
    engagement_level: str | None
    satisfaction: str | None
    last_contact: date | None
    is_evaluating_competitors: bool
    initiative_value: Decimal | None
    is_primary: bool


def list_for(conn: Connection, customer_id: str, today: date) -> list[Contact]:
    """The customer's contacts as of today, primary first."""
    cursor = conn.cursor(row_factory=class_row(Contact))
    return cursor.execute(LIST, {"customer_id": customer_id, "today": today}).fetchall()
