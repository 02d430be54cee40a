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


def read_for_customer(ref: str, work: Callable[[Connection, Customer], T]) -> T:
    """Resolve a customer reference (id or slug) and run work(conn, customer) in the same
    read-only snapshot; unknown references raise NotFound."""

    def unit(conn: Connection) -> T:
        customer = queries.resolve(conn, ref)
        if customer is None:
            raise customer_not_found(ref)
        return work(conn, customer)

    return db.run(unit, read_only=True)


def profile(ref: str) -> CustomerProfile:
    row = db.run(lambda conn: queries.fetch_profile(conn, ref), read_only=True)
    if row is None:
        raise customer_not_found(ref)
    renewal = row["renewal_date"]
    return CustomerProfile.model_validate(
        {**row, "days_to_renewal": (renewal - clock.today()).days if renewal else None}
    )
