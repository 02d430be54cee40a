"""The story is read as of today: when today comes before some of its dates (DEMO_TODAY earlier
than the anchor, or any row dated in the future), what has not happened yet is not counted, cited
or shown, and no "days since" is negative."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, use_environment
from test_ai_routes import email, opportunity, risk

GET_ROUTES = {
    "CustomerGetFunction": "customer_get.json",
    "ContactsListFunction": "contacts_list.json",
    "OperationsListFunction": "operations_list.json",
    "HealthGetFunction": "health_get.json",
    "TicketsListFunction": "tickets_list.json",
    "OpportunitiesListFunction": "opportunities_list.json",
}
# Dates that name what is to come, not what happened; and the day the story is told around.
FORWARD_LOOKING = {"renewal_date", "end_date", "window_end", "story_anchor_date"}
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def answers() -> dict[str, Any]:
    found = {name: body_of(invoke(name, load_event(event))) for name, event in GET_ROUTES.items()}
    found |= {"risk": body_of(risk()), "opportunity": body_of(opportunity()), "email": body_of(email())}
    return found


def past_dates(value: Any, key: str = "") -> list[tuple[str, date]]:
    """(key, day) of every date or instant in an answer, except the forward-looking ones."""
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in past_dates(v, k)]
    if isinstance(value, list):
        return [found for v in value for found in past_dates(v, key)]
    if isinstance(value, str) and ISO_DAY.match(value) and key not in FORWARD_LOOKING:
        return [(key, date.fromisoformat(value[:10]))]
    return []


@pytest.mark.parametrize("days_before_anchor", [100, 50, 5, 0])
def test_nothing_after_today_is_shown_counted_or_cited(
    story: DictConnection, monkeypatch, days_before_anchor: int
) -> None:
    today = DEMO_DAY - timedelta(days=days_before_anchor)
    use_environment(monkeypatch, DEMO_TODAY=today.isoformat())
    found = answers()
    later = [(key, day) for key, day in past_dates(found) if day > today]
    assert not later, later
    contacts = found["ContactsListFunction"]["contacts"]
    assert all(c["days_since_contact"] is None or c["days_since_contact"] >= 0 for c in contacts)
    shown_operations = {o["name"] for o in found["OperationsListFunction"]["operations"]}
    texts = json.dumps([found["risk"]["insights"], found["risk"]["recommendation"], found["email"]["body"]])
    for name in ("Operation Blackout", "Operation Nightfall", "Operation Crimson Dawn", "Operation Shadow Grid"):
        assert name not in texts or name in shown_operations, name


def test_a_hundred_days_before_the_anchor_the_story_so_far(story: DictConnection, monkeypatch) -> None:
    # Given today is D-100: Blackout (D-95), Shadow Grid (D-40), Marcus's last contact (D-90) and
    # the new CSM's takeover (D-3) have not happened
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY - timedelta(days=100)).isoformat())
    found = answers()
    assert [o["name"] for o in found["OperationsListFunction"]["operations"]] == [
        "Operation Nightfall",
        "Operation Crimson Dawn",
    ]
    # And its past twelve months hold the failures of D-210 and D-300 and the one a year before D
    assert found["HealthGetFunction"]["critical_failures_12_months"] == 3
    marcus = found["ContactsListFunction"]["contacts"][0]
    assert (marcus["name"], marcus["last_contact"], marcus["days_since_contact"]) == ("Marcus Castellan", None, None)
    insights = " ".join(found["risk"]["insights"])
    assert "3 critical service failures" in insights
    assert "Blackout" not in insights and "communication void" not in insights
