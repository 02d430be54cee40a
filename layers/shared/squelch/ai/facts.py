"""The facts an insight may use, read from the database in one snapshot.

Canned text and the LLM prompt are both built from these facts only, so whatever an answer says,
the data says too. Each fact used is listed in the answer's `sources`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from squelch import clock
from squelch.db import Connection
from squelch.domain import health, periods, tickets
from squelch.domain.customers import Customer, read_for_customer
from squelch.models.tickets import TicketSummary
from squelch.queries import contacts as contact_queries
from squelch.queries import customers as customer_queries
from squelch.queries import operations as operation_queries
from squelch.queries import opportunities as opportunity_queries


@dataclass(frozen=True)
class AccountFacts:
    today: date
    customer: dict[str, Any]
    contacts: list[dict[str, Any]]
    operations: list[dict[str, Any]]
    critical_failures: int
    tickets: TicketSummary
    opportunities: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return str(self.customer["name"])

    @property
    def risk_level(self) -> str | None:
        score = self.customer["health_score"]
        return health.risk_level(score) if score is not None else None

    @property
    def churn_probability(self) -> int | None:
        score = self.customer["health_score"]
        return health.churn_probability(score) if score is not None else None

    def days_since(self, day: date | None) -> int | None:
        return (self.today - day).days if day else None

    def most_costly_failure(self) -> dict[str, Any] | None:
        """The failed operation of the past twelve months that cost the customer most."""
        since = periods.twelve_months_before(self.today)
        failed = [o for o in self.operations if o["status"] == "failed" and o["cost_impact"] and o["date"] >= since]
        return max(failed, key=lambda o: o["cost_impact"], default=None)

    def communication_gap(self) -> tuple[int, dict[str, Any]] | None:
        """Days between the last contact before the current CSM took over and the takeover."""
        takeover = self.customer.get("csm_assigned_on")
        if takeover is None or takeover > self.today:
            return None
        before = [c for c in self.contacts if c["last_contact"] and c["last_contact"] <= takeover]
        if not before:
            return None
        last = max(before, key=lambda c: c["last_contact"])
        return (takeover - last["last_contact"]).days, last

    def contacts_matching(self, recipient: str) -> list[dict[str, Any]]:
        """The contacts a recipient names: the one whose contact_id it is, else those whose id it is
        case aside, else those whose name it is (Unicode form, case and honorifics aside). More than
        one means the recipient is ambiguous; the caller must not pick one."""
        wanted = recipient.strip()
        if exact := [c for c in self.contacts if c["contact_id"] == wanted]:
            return exact
        if same_id := [c for c in self.contacts if _folded(c["contact_id"]) == _folded(wanted)]:
            return same_id
        return [c for c in self.contacts if _plain_name(c["name"]) == _plain_name(wanted)]

    def sponsored(self, contact_id: str) -> dict[str, Any] | None:
        return next((o for o in self.opportunities if o["sponsor_contact_id"] == contact_id), None)

    def priority_contact(self) -> dict[str, Any] | None:
        """Who to reach first: a contact evaluating competitors, the largest initiative first, the
        never-contacted before the contacted; else the primary contact."""
        evaluating = [c for c in self.contacts if c["is_evaluating_competitors"]]
        if evaluating:
            return max(evaluating, key=lambda c: (c["initiative_value"] or 0, c["last_contact"] is None))
        return next((c for c in self.contacts if c["is_primary"]), None)

    def contract_year(self) -> int:
        """Which year of the relationship this is: 1 in the first twelve months."""
        return periods.year_of(self.customer_since, self.today)

    @property
    def customer_since(self) -> date:
        created: datetime = self.customer["created_at"]
        return created.astimezone(UTC).date()


def _folded(text: str) -> str:
    """Text as compared, whatever its Unicode form and case: "Zoe\u0308" is "Zoë", "Strauß" is "strauss".
    NFC again after casefold, which can leave a string decomposed (ǰ folds to j + combining caron)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def _plain_name(name: str) -> str:
    from squelch.ai.wording import HONORIFICS

    return " ".join(p for p in _folded(name).split() if p not in HONORIFICS)


def gather(ref: str) -> AccountFacts:
    today = clock.today()

    def read(conn: Connection, customer: Customer) -> AccountFacts:
        customer_id = customer["customer_id"]
        return AccountFacts(
            today=today,
            customer=customer,
            contacts=contact_queries.list_for(conn, customer_id, today),
            operations=operation_queries.list_for(conn, customer_id, today),
            critical_failures=health.critical_failures(conn, customer_id, today),
            tickets=tickets.spike(conn, customer_id, today).summary,
            opportunities=opportunity_queries.list_for(conn, customer_id),
        )

    return read_for_customer(ref, read, find=customer_queries.fetch_profile)
