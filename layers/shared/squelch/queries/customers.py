"""SQL of customer lookups."""

from __future__ import annotations

from typing import Any

from squelch.db import Connection

# A customer reference is either the id (aco-001) or the slug (aco); both are unique.
PROFILE = """
SELECT c.customer_id, c.slug, c.name, c.industry, c.operatives, c.facilities, c.arr,
       c.renewal_date, c.health_score, c.opportunity_score, c.csm_name, c.csm_assigned_on, c.is_demo,
       c.created_at,
       p.name AS primary_contact, p.contact_id AS primary_contact_id,
       CASE WHEN k.contract_id IS NULL THEN NULL ELSE to_jsonb(k) END AS contract
FROM demo_customers c
LEFT JOIN demo_contacts p ON p.customer_id = c.customer_id AND p.is_primary
LEFT JOIN LATERAL (
    SELECT contract_id, start_date, end_date, arr, auto_renew, sla_uptime, status
    FROM demo_contracts
    WHERE customer_id = c.customer_id
    ORDER BY status = 'active' DESC, end_date DESC
    LIMIT 1
) k ON true
WHERE c.customer_id = %(ref)s OR c.slug = %(ref)s
"""


def fetch_profile(conn: Connection, ref: str) -> dict[str, Any] | None:
    return conn.execute(PROFILE, {"ref": ref}).fetchone()

# What every customer route needs to know about its customer, workflows' context included.
RESOLVE = """
SELECT customer_id, name, health_score, arr, renewal_date
FROM demo_customers
WHERE customer_id = %(ref)s OR slug = %(ref)s
"""


def resolve(conn: Connection, ref: str) -> dict[str, Any] | None:
    return conn.execute(RESOLVE, {"ref": ref}).fetchone()
