"""The facts an insight may use: one account, read from the database in one snapshot by
squelch.domain.insights, with what the domain concluded from it.

Canned text and the LLM prompt are both written from these facts only, so whatever an answer says,
the data says too. Each fact used is listed in the answer's `sources`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from squelch import periods
from squelch.ai.wording import HONORIFICS
from squelch.models.health import RiskLevel
from squelch.models.tickets import TicketSummary
from squelch.queries.contacts import Contact
from squelch.queries.customers import CustomerProfile
from squelch.queries.operations import Operation
from squelch.queries.opportunities import Opportunity

# A CSM who took the account over within this many days introduces themselves as its new CSM.
NEW_CSM_DAYS = 90


@dataclass(frozen=True)
class CommunicationGap:
    days: int
    last_contact_before: Contact  # the last contact anyone had before the current CSM took over


@dataclass(frozen=True)
class AccountFacts:
    today: date
    customer: CustomerProfile
    contacts: list[Contact]
    operations: list[Operation]  # begun by today, newest first
    critical_failures: int  # critical tickets of the past twelve months
    tickets: TicketSummary
    ticket_window_days: int
    opportunities: list[Opportunity]  # largest first
    risk_level: RiskLevel | None
    churn_probability: int | None

    @property
    def name(self) -> str:
        return self.customer.name

    @property
    def customer_id(self) -> str:
        return self.customer.customer_id

    @property
    def customer_since(self) -> date:
        return self.customer.customer_since

    def days_since(self, day: date | None) -> int | None:
        return (self.today - day).days if day else None

    def most_costly_failure(self) -> Operation | None:
        """The failed operation of the past twelve months that cost the customer most."""
        since = periods.twelve_months_before(self.today)
        failed = [o for o in self.operations if o.status == "failed" and o.cost_impact and o.date >= since]
        return max(failed, key=lambda o: o.cost_impact or 0, default=None)

    def communication_gap(self) -> CommunicationGap | None:
        """Days between the last contact before the current CSM took over and the takeover."""
        takeover = self.customer.csm_assigned_on
        if takeover is None or takeover > self.today:
            return None
        before = [c for c in self.contacts if c.last_contact and c.last_contact <= takeover]
        if not before:
            return None
        last = max(before, key=lambda c: c.last_contact or date.min)
        return CommunicationGap((takeover - (last.last_contact or takeover)).days, last)

    def contacts_matching(self, recipient: str) -> list[Contact]:
        """The contacts a recipient names: the one whose contact_id it is, else those whose id it is
        case aside, else those whose name it is (Unicode form, case and honorifics aside). More than
        one means the recipient is ambiguous; the caller must not pick one."""
        wanted = recipient.strip()
        if exact := [c for c in self.contacts if c.contact_id == wanted]:
            return exact
        if same_id := [c for c in self.contacts if _folded(c.contact_id) == _folded(wanted)]:
            return same_id
        return [c for c in self.contacts if _plain_name(c.name) == _plain_name(wanted)]

    def sponsored(self, contact_id: str) -> Opportunity | None:
        return next((o for o in self.opportunities if o.sponsor_contact_id == contact_id), None)

    def priority_contact(self) -> Contact | None:
        """Who to reach first: a contact evaluating competitors, the largest initiative first, the
        never-contacted before the contacted; else the primary contact."""
        evaluating = [c for c in self.contacts if c.is_evaluating_competitors]
        if evaluating:
            return max(evaluating, key=lambda c: (c.initiative_value or 0, c.last_contact is None))
        return next((c for c in self.contacts if c.is_primary), None)

    def csm_is_new(self) -> bool:
        """Whether the CSM took the account over recently enough to introduce themselves."""
        takeover = self.customer.csm_assigned_on
        return takeover is None or (self.today - takeover).days <= NEW_CSM_DAYS

    def knows(self, contact: Contact) -> bool:
        """Whether the current CSM has been in touch with the contact: a last contact since the takeover."""
        takeover = self.customer.csm_assigned_on
        return contact.last_contact is not None and (takeover is None or contact.last_contact >= takeover)

    def contract_year(self) -> int:
        """Which year of the relationship this is: 1 in the first twelve months."""
        return periods.year_of(self.customer_since, self.today)


def _folded(text: str) -> str:
    """Text as compared, whatever its Unicode form and case: "Zoe\\u0308" is "Zoë", "Strauß" is "strauss".
    NFC again after casefold, which can leave a string decomposed (ǰ folds to j + combining caron)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def _plain_name(name: str) -> str:
    return " ".join(p for p in _folded(name).split() if p not in HONORIFICS)
