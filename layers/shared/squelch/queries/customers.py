"""SQL of customer lookups: the one way every route finds its customer, and the profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from psycopg.rows import class_row, scalar_row

from squelch.db import Connection
from squelch.queries import planned

# A reference is an id (aco-001) or a slug (aco); migration 0004 makes sure it names one customer.
RESOLVE = planned("""
SELECT c.customer_id, c.name, c.health_score, c.arr, c.renewal_date, c.is_demo
FROM demo_customers c
WHERE c.customer_id = %(ref)s OR c.slug = %(ref)s
""")

# The demo customer of the transaction's sandbox: its story's account (one a story; the first by id otherwise).
SANDBOX_DEMO_CUSTOMER = planned("""
SELECT customer_id FROM demo_customers
WHERE is_demo AND sandbox = current_setting('squelch.sandbox')
ORDER BY customer_id LIMIT 1
""")

PROFILE = planned("""
SELECT c.customer_id, c.name, c.health_score, c.arr, c.renewal_date, c.is_demo,
       c.slug, c.industry, c.operatives, c.facilities, c.opportunity_score, c.csm_name, c.csm_assigned_on,
       c.customer_since, c.created_at,
       (SELECT anchor_date FROM demo_sandboxes WHERE name = current_setting('squelch.sandbox')) AS story_anchor_date,
       p.name AS primary_contact, p.contact_id AS primary_contact_id,
       k.contract_id, k.start_date AS contract_start_date, k.end_date AS contract_end_date,
       k.arr AS contract_arr, k.auto_renew AS contract_auto_renew, k.sla_uptime AS contract_sla_uptime,
       k.status AS contract_status
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
""")


@dataclass(frozen=True)
class Customer:
    """What every customer route needs to know about its customer."""

    customer_id: str
    name: str
    health_score: Decimal | None
    arr: Decimal
    renewal_date: date | None
    is_demo: bool  # part of the demo story, told around its sandbox's day D


@dataclass(frozen=True)
class Contract:
    contract_id: str
    start_date: date
    end_date: date
    arr: Decimal
    auto_renew: bool
    sla_uptime: Decimal | None
    status: str


@dataclass(frozen=True)
class CustomerProfile(Customer):
    """The whole customer: the profile route's and the AI routes' view of it."""

    slug: str
    industry: str | None
    operatives: int | None
    facilities: int | None
    opportunity_score: Decimal | None
    csm_name: str | None
    csm_assigned_on: date | None
    customer_since: date
    created_at: datetime
    story_anchor_date: date | None  # the demo day D the sandbox's story was last seeded around
    primary_contact: str | None
    primary_contact_id: str | None
    contract_id: str | None
    contract_start_date: date | None
    contract_end_date: date | None
    contract_arr: Decimal | None
    contract_auto_renew: bool | None
    contract_sla_uptime: Decimal | None
    contract_status: str | None

    @property
    def contract(self) -> Contract | None:
        """The current contract: the active one, else the latest. Its columns are NOT NULL, so they
        are all present or, without a contract, all absent."""
        id_, start, end, arr, auto_renew, status = (
            self.contract_id,
            self.contract_start_date,
            self.contract_end_date,
            self.contract_arr,
            self.contract_auto_renew,
            self.contract_status,
        )
        if id_ is None or start is None or end is None or arr is None or auto_renew is None or status is None:
            return None
        return Contract(id_, start, end, arr, auto_renew, self.contract_sla_uptime, status)


def resolve(conn: Connection, ref: str) -> Customer | None:
    return conn.cursor(row_factory=class_row(Customer)).execute(RESOLVE, {"ref": ref}).fetchone()


def fetch_profile(conn: Connection, ref: str) -> CustomerProfile | None:
    return conn.cursor(row_factory=class_row(CustomerProfile)).execute(PROFILE, {"ref": ref}).fetchone()


def sandbox_demo_customer(conn: Connection) -> str | None:
    """The id of the sandbox's demo customer; None when it holds none."""
    row = conn.cursor(row_factory=scalar_row).execute(SANDBOX_DEMO_CUSTOMER).fetchone()
    return str(row) if row is not None else None
