"""The peer the bench measures our functions against: the profile route as a developer would
otherwise write it, one FastAPI app behind Mangum, on the same psycopg and pydantic.

It does the same work as CustomerGetFunction (one read-only snapshot, the sandbox named to
PostgreSQL, the same query, the same answer), so the bench compares the frameworks, not the SQL.
It runs in its own environment (.venv-peer, requirements/peer.in); nothing of ours is imported.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
from fastapi import FastAPI, HTTPException
from mangum import Mangum
from psycopg.rows import dict_row
from pydantic import BaseModel

PROFILE = """
SELECT c.customer_id, c.slug, c.name, c.industry, c.operatives, c.facilities, c.arr, c.renewal_date,
       c.health_score, c.opportunity_score, c.csm_name, c.is_demo, c.customer_since,
       (SELECT anchor_date FROM demo_sandboxes WHERE name = current_setting('squelch.sandbox')) AS story_anchor_date,
       p.name AS primary_contact, p.contact_id AS primary_contact_id,
       k.contract_id, k.start_date, k.end_date, k.arr AS contract_arr, k.auto_renew, k.sla_uptime, k.status
FROM demo_customers c
LEFT JOIN demo_contacts p ON p.customer_id = c.customer_id AND p.is_primary
LEFT JOIN LATERAL (
    SELECT contract_id, start_date, end_date, arr, auto_renew, sla_uptime, status FROM demo_contracts
    WHERE customer_id = c.customer_id ORDER BY status = 'active' DESC, end_date DESC LIMIT 1
) k ON true
WHERE c.customer_id = %(ref)s OR c.slug = %(ref)s
"""


class Contract(BaseModel):
    contract_id: str
    start_date: date
    end_date: date
    arr: int | float
    auto_renew: bool
    sla_uptime: float | None
    status: str


class CustomerProfile(BaseModel):
    customer_id: str
    slug: str
    name: str
    industry: str | None
    operatives: int | None
    facilities: int | None
    arr: int | float
    renewal_date: date | None
    days_to_renewal: int | None
    health_score: float | None
    opportunity_score: float | None
    primary_contact: str | None
    primary_contact_id: str | None
    csm_name: str | None
    is_demo: bool
    customer_since: date
    story_anchor_date: date | None
    story_age_days: int | None
    contract: Contract | None


app = FastAPI()
_connection: psycopg.Connection | None = None


def connection() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        _connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, row_factory=dict_row)
    return _connection


def number(value: Decimal | None) -> int | float | None:
    return None if value is None else int(value) if value == value.to_integral_value() else float(value)


@app.get("/api/customers/{customer_ref}", response_model=CustomerProfile)
def get_customer(customer_ref: str) -> CustomerProfile:
    conn = connection()
    conn.read_only, conn.isolation_level = True, psycopg.IsolationLevel.REPEATABLE_READ
    with conn.transaction():
        conn.execute("SELECT set_config('squelch.sandbox', 'default', true)")
        row = conn.execute(PROFILE, {"ref": customer_ref}).fetchone()
    if row is None:
        raise HTTPException(404, f"No customer has the id or slug {customer_ref!r}.")
    frozen = os.environ.get("DEMO_TODAY")
    today = date.fromisoformat(frozen) if frozen else datetime.now(UTC).date()
    anchor = row["story_anchor_date"] if row["is_demo"] else None
    contract = None
    if row["contract_id"]:
        contract = Contract(
            contract_id=row["contract_id"],
            start_date=row["start_date"],
            end_date=row["end_date"],
            arr=number(row["contract_arr"]),
            auto_renew=row["auto_renew"],
            sla_uptime=number(row["sla_uptime"]),
            status=row["status"],
        )
    return CustomerProfile(
        **{key: row[key] for key in ("customer_id", "slug", "name", "industry", "operatives", "facilities")},
        arr=number(row["arr"]),
        renewal_date=row["renewal_date"],
        days_to_renewal=(row["renewal_date"] - today).days if row["renewal_date"] else None,
        health_score=number(row["health_score"]),
        opportunity_score=number(row["opportunity_score"]),
        primary_contact=row["primary_contact"],
        primary_contact_id=row["primary_contact_id"],
        csm_name=row["csm_name"],
        is_demo=row["is_demo"],
        customer_since=row["customer_since"],
        story_anchor_date=anchor,
        story_age_days=(today - anchor).days if anchor else None,
        contract=contract,
    )


handler = Mangum(app, lifespan="off")
