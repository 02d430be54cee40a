"""Customer lookups: the profile, and the one way every customer route finds its customer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from squelch import clock, db, periods
from squelch.db import Connection, sandbox
from squelch.errors import Conflict, NotFound
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


def story_holds(renewal: date, today: date) -> bool:
    """Whether a demo story can be told today: it is the year before its customer's renewal (the
    current contract in force, the renewal ahead), and everything it says is worded for that year.
    Outside it, its stored contract, its countdown and its years would contradict each other."""
    return periods.years_later(renewal, -1) <= today < renewal


def check_story_holds(customer: Customer, today: date) -> None:
    """Refuse to tell a demo customer's story on a day it does not hold (409 story_out_of_range);
    customers outside the demo are answered on any day."""
    renewal = customer.renewal_date
    if not customer.is_demo or renewal is None or story_holds(renewal, today):
        return
    begins, name = periods.years_later(renewal, -1), sandbox.current()
    when = "is on or after its renewal" if today >= renewal else "comes before that year"
    raise Conflict(
        "story_out_of_range",
        f"The demo story of {customer.name} in sandbox {name!r} is told in the year before its renewal on "
        f"{renewal} (from {begins}); today, {today}, {when}, so its dates would contradict each other. Reset "
        f"the sandbox (POST /api/demo/reset with X-Demo-Sandbox: {name}) to tell it around today; the daily "
        "refresh does so for sandboxes no one is using.",
    )


def _read(ref: str, find: Callable[[Connection, str], C | None], work: Callable[[Connection, C], T]) -> T:
    today = clock.today()

    def unit(conn: Connection) -> T:
        customer = find(conn, ref)
        if customer is None:
            raise customer_not_found(ref)
        check_story_holds(customer, today)
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
