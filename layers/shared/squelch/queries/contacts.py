"""SQL of a customer's contacts."""

from __future__ import annotations

from datetime import date
from typing import Any

from squelch.db import Connection

LIST = """
-- As of today: a last contact dated after today has not happened yet.
SELECT contact_id, customer_id, name, title, villain_designation, engagement_level, satisfaction,
       CASE WHEN last_contact <= %(today)s THEN last_contact END AS last_contact,
       is_evaluating_competitors, initiative_value, is_primary
FROM demo_contacts
WHERE customer_id = %(customer_id)s
ORDER BY is_primary DESC, name, contact_id
"""


def list_for(conn: Connection, customer_id: str, today: date) -> list[dict[str, Any]]:
    return conn.execute(LIST, {"customer_id": customer_id, "today": today}).fetchall()
