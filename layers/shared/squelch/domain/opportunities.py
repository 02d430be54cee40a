"""Expansion opportunities, each with its insight."""

from __future__ import annotations

from squelch import clock
from squelch.ai import canned
from squelch.domain.customers import read_for_customer
from squelch.models.common import from_row
from squelch.models.opportunities import Opportunity, OpportunityList
from squelch.queries import opportunities as queries


def of_customer(ref: str) -> OpportunityList:
    rows = read_for_customer(ref, lambda conn, customer: queries.list_for(conn, customer.customer_id))
    today = clock.today()
    return OpportunityList(
        opportunities=[
            from_row(
                Opportunity,
                row,
                ai_insight=canned.opportunity_insight(
                    row.sponsor, row.key_requirement, row.competitors_evaluating, row.value, today
                ),
            )
            for row in rows
        ]
    )
