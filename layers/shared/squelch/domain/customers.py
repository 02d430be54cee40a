"""Customer profile: the stored account plus what is computed from today's date."""

from __future__ import annotations

from squelch import clock, db
from squelch.domain.errors import NotFound
from squelch.models.customers import CustomerProfile
from squelch.queries import customers as queries


def customer_not_found(ref: str) -> NotFound:
    return NotFound("customer_not_found", f"No customer has the id or slug {ref!r}.")


def profile(ref: str) -> CustomerProfile:
    row = db.run(lambda conn: queries.fetch_profile(conn, ref), read_only=True)
    if row is None:
        raise customer_not_found(ref)
    renewal = row["renewal_date"]
    return CustomerProfile.model_validate(
        {**row, "days_to_renewal": (renewal - clock.today()).days if renewal else None}
    )
