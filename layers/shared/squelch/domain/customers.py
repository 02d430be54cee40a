"""Customer lookups: the profile, and the one way every customer route finds its customer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from squelch import clock, db
from squelch.db import Connection
from squelch.domain.errors import NotFound
from squelch.models.customers import CustomerProfile
from squelch.queries import customers as queries

T = TypeVar("T")
DEMO_CUSTOMER_ID = "aco-001"  # Obsidian Black, the demo's customer
Customer = dict[str, Any]


def customer_not_found(ref: str) -> NotFound:
    return NotFound("customer_not_found", f"No customer has the id or slug {ref!r}.")


Finder = Callable[[Connection, str], Customer | None]


def read_for_customer(ref: str, work: Callable[[Connection, Customer], T], find: Finder = queries.resolve) -> T:
    """Find a customer by reference (id or slug) with find, and run work(conn, customer) in the same
    read-only snapshot; unknown references raise NotFound. Routes that need the whole profile pass
    queries.fetch_profile as find, so the customer is read once."""

    def unit(conn: Connection) -> T:
        customer = find(conn, ref)
        if customer is None:
            raise customer_not_found(ref)
        return work(conn, customer)

    return db.run(unit, read_only=True)


def profile(ref: str) -> CustomerProfile:
    row = read_for_customer(ref, lambda conn, customer: customer, find=queries.fetch_profile)
    renewal = row["renewal_date"]
    return CustomerProfile.model_validate(
        {**row, "days_to_renewal": (renewal - clock.today()).days if renewal else None}
    )
