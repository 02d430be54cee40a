"""Canned insights: written by us, filled only with figures computed from the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from squelch.ai import wording

# How people say the 365 days of health.FAILURE_LOOKBACK; a fact of the text's source, like any number in it.
FAILURE_WINDOW_MONTHS = 12
OUTLOOK = {
    "critical": "Without intervention, renewal is unlikely.",
    "high": "Without intervention, renewal is unlikely.",
    "medium": "Renewal is at risk without attention.",
    "low": "Renewal looks on track.",
}


def health_insight(customer_name: str, critical_failures: int, risk_level: str | None) -> str:
    if critical_failures:
        failures = wording.count(critical_failures, "critical service failure")
        history = f"{customer_name} experienced {failures} in the past {FAILURE_WINDOW_MONTHS} months."
    else:
        history = f"{customer_name} had no critical service failures in the past {FAILURE_WINDOW_MONTHS} months."
    return f"{history} {OUTLOOK[risk_level]}" if risk_level else history


def opportunity_insight(
    sponsor_name: str | None,
    key_requirement: str | None,
    competitors: Sequence[str],
    value: Decimal,
    today: date,
) -> str:
    whose = f"{wording.first_name(sponsor_name)}'s evaluation" if sponsor_name else "The evaluation"
    threat = f"the competitive threat from {wording.joined(competitors)}" if competitors else "the competitive threat"
    expansion = f"unlock the {wording.money(value)} expansion"
    if not key_requirement:
        return f"{whose} has no single deciding requirement on record. Address {threat} to {expansion}."
    requirement = wording.mid_sentence(key_requirement)
    # No competitor on record: nothing to neutralize, the commitment unlocks the expansion alone.
    outcome = f"you neutralize {threat} and {expansion}" if competitors else f"you {expansion}"
    return (
        f"{whose} is driven by ONE feature: {requirement}. If Squelch commits to "
        f"{wording.quarter_after(today)} delivery, {outcome}."
    )
