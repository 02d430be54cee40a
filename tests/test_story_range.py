"""The days a story can be told on. The demo story is the year before its renewal: its current
contract is in force, its renewal is ahead, its years and quarters are worded from today. Read on a
day outside that year (a story seeded long ago and not refreshed, DEMO_ANCHOR_DATE pinned while the
days pass, or pinned far ahead), it would contradict itself: an "active" contract past its end, a
negative days_to_renewal, "Year Three was disappointing" on the renewal day. So there the routes that
tell it answer 409 story_out_of_range, saying how to get a story of today, and the sandbox listing
says so; inside that year every answer is the story as of today."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, use_environment
from test_sandboxes import created, in_sandbox
from test_story_refresh import idle

RENEWAL = DEMO_DAY + timedelta(days=143)  # 2026-04-15
TERM_START = date(2025, 4, 15)  # a year before the renewal: the current contract's first day
STORY_ROUTES: dict[str, tuple[str, dict[str, Any] | None]] = {
    "CustomerGetFunction": ("customer_get.json", None),
    "ContactsListFunction": ("contacts_list.json", None),
    "OperationsListFunction": ("operations_list.json", None),
    "HealthGetFunction": ("health_get.json", None),
    "TicketsListFunction": ("tickets_list.json", None),
    "OpportunitiesListFunction": ("opportunities_list.json", None),
    "RiskAnalysisCreateFunction": ("risk_analysis_create.json", {"customer_id": "aco-001"}),
    "OpportunityAnalysisCreateFunction": ("opportunity_analysis_create.json", {"customer_id": "aco"}),
    "EmailDraftCreateFunction": ("email_draft_create.json", {"recipient": "Marcus Castellan"}),
    "WorkflowStartFunction": ("workflow_start.json", {"customer_id": "aco", "workflow_type": "risk_detection"}),
}


def call(function: str, sandbox: str | None = None) -> dict[str, Any]:
    file, body = STORY_ROUTES[function]
    event = load_event(file, **({"body": json.dumps(body)} if body else {}))
    return invoke(function, in_sandbox(event, sandbox) if sandbox else event)


def on(monkeypatch: pytest.MonkeyPatch, today: date) -> None:
    use_environment(monkeypatch, DEMO_TODAY=today.isoformat())


def listed(name: str) -> dict[str, Any]:
    sandboxes = body_of(invoke("SandboxesListFunction", load_event("sandboxes_list.json")))["sandboxes"]
    return next(s for s in sandboxes if s["name"] == name)


def test_the_term_is_the_year_before_the_renewal() -> None:
    assert TERM_START == RENEWAL.replace(year=RENEWAL.year - 1) == DEMO_DAY - timedelta(days=222)


@pytest.mark.parametrize(
    "today", [RENEWAL, RENEWAL + timedelta(days=57), TERM_START - timedelta(days=1), date(2024, 1, 9)]
)
def test_outside_its_year_the_story_is_refused_not_told_wrong(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    # Given the story seeded around D, read on its renewal day or after, or before its current contract began
    on(monkeypatch, today)
    for function in STORY_ROUTES:
        # When any route that tells it is asked
        response = call(function)
        # Then it refuses with 409 story_out_of_range, saying why and how to get today's story
        assert response["statusCode"] == 409, (function, response["body"])
        error = body_of(response)["error"]
        assert error["code"] == "story_out_of_range", function
        assert "POST /api/demo/reset" in error["message"] and RENEWAL.isoformat() in error["message"], error
        assert today.isoformat() in error["message"]
    # And the presenters' listing says the default story is out of range
    assert listed("default")["story_state"] == "out_of_range"


@pytest.mark.parametrize("today", [TERM_START, DEMO_DAY - timedelta(days=1), DEMO_DAY, RENEWAL - timedelta(days=1)])
def test_inside_its_year_the_story_is_told_as_of_today(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    # Given the story read on the first or last day of its year, or around D
    on(monkeypatch, today)
    # Then every route tells it, and what it says of its contract and renewal holds on that day
    for function in STORY_ROUTES:
        response = call(function)
        assert response["statusCode"] in (200, 201), (function, response["body"])
    profile = body_of(call("CustomerGetFunction"))
    assert profile["contract"]["status"] == "active"
    assert profile["contract"]["start_date"] <= today.isoformat() < profile["contract"]["end_date"]
    assert 1 <= profile["days_to_renewal"] <= 365
    assert "Year Two was disappointing" in body_of(call("EmailDraftCreateFunction"))["body"]
    state = {0: "current"}.get((today - DEMO_DAY).days, "stale" if today > DEMO_DAY else "ahead")
    assert listed("default")["story_state"] == state


def test_a_reset_tells_a_story_out_of_range_around_today_again(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alpha, seeded around D, read 200 days later: out of range
    created("alpha")
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=200)).isoformat(), DEMO_ANCHOR_DATE=None)
    assert call("CustomerGetFunction", "alpha")["statusCode"] == 409
    # When it is reset (or refreshed: the refresh resets every story not of today)
    assert body_of(invoke("DemoResetFunction", in_sandbox(load_event("demo_reset.json"), "alpha")))["success"]
    # Then it is told around today
    profile = body_of(call("CustomerGetFunction", "alpha"))
    assert (profile["days_to_renewal"], profile["story_age_days"]) == (143, 0)
    assert listed("alpha")["story_state"] == "current"


def test_a_customer_outside_any_story_is_told_on_any_day(story: DictConnection, monkeypatch) -> None:
    # Given a customer that is not the demo's (is_demo false), whose renewal has passed
    story.execute(
        "INSERT INTO demo_customers (customer_id, slug, name, arr, renewal_date, is_demo) "
        "VALUES ('cust-9', 'nine', 'Nine Corp', 1000, %s, false)",
        [DEMO_DAY],
    )
    on(monkeypatch, DEMO_DAY + timedelta(days=400))
    # Then its profile is answered as its data says: it is not part of a story told around a day
    event = load_event("customer_get.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/customers/nine"
    event["pathParameters"] = {"customer_ref": "nine"}
    response = invoke("CustomerGetFunction", event)
    assert response["statusCode"] == 200 and body_of(response)["days_to_renewal"] == -400


def test_the_refresh_tells_a_story_out_of_range_around_today(story: DictConnection, monkeypatch) -> None:
    # Given the default story, idle, read 300 days after its D: out of range
    idle(story, "default")
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=300)).isoformat(), DEMO_ANCHOR_DATE=None)
    assert call("CustomerGetFunction")["statusCode"] == 409
    # When the daily refresh runs, Then it is today's again
    assert invoke("StoryRefreshFunction", load_event("story_refresh.json"))["refreshed"] == ["default"]
    assert body_of(call("CustomerGetFunction"))["days_to_renewal"] == 143


def test_the_listing_counts_to_the_renewal_the_seed_writes(story: DictConnection) -> None:
    from squelch.domain import demo

    [row] = story.execute("SELECT renewal_date FROM demo_customers WHERE sandbox = 'default'").fetchall()
    assert row["renewal_date"] == demo.ACT1.renewal(DEMO_DAY)
