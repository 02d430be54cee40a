"""Customer lookups: the profile, and the one way every customer route finds its customer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from squelch import clock, db
from squelch.db import Connection
from squelch.errors import NotFound
from squelch.models.common import from_row
from squelch.models.customers import CustomerProfile
from squelch.queries import customers as queries
from squelch.queries.customers import Customer
from squelch.queries.customers import CustomerProfile as ProfileRow

T = TypeVar("T")
C = TypeVar("C", bound=Customer)
DEMO_CUSTOMER_ID = "aco-001"  # Obsidian Black, the demo's customer


def customer_not_found(ref: str) -> NotFound:
    return NotFound("customer_not_found", f"No customer has the id or slug {ref!r}.")


def _read(ref: str, find: Callable[[Connection, str], C | None], work: Callable[[Connection, C], T]) -> T:
    def unit(conn: Connection) -> T:
        customer = find(conn, ref)
        if customer is None:
            raise customer_not_found(ref)
        return work(conn, customer)

    return db.run(unit, read_only=True)


def read_for_customer(ref: str, work: Callable[[Connection, Customer], T]) -> T:
    """Find a customer by reference (id or slug) and run work(conn, customer) in the same read-only
    snapshot; an unknown reference raises NotFound."""
    return _read(ref, queries.resolve, work)


def read_for_profile(ref: str, work: Callable[[Connection, ProfileRow], T]) -> T:
    """read_for_customer with the whole profile, for the routes that need it: read once."""
    return _read(ref, queries.fetch_profile, work)


def profile(ref: str) -> CustomerProfile:
    row = read_for_profile(ref, lambda conn, customer: customer)
    today, renewal = clock.today(), row.renewal_date
    anchor = row.story_anchor_date if row.is_demo else None  # only a demo customer is part of a story
    return from_row(
        CustomerProfile,
        row,
        days_to_renewal=(renewal - today).days if renewal else None,
        story_anchor_date=anchor,
        story_age_days=(today - anchor).days if anchor else None,
    )
