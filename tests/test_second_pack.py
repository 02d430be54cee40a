"""The second pack, Nocturne Collective ready to expand: the AI routes write for its situation from its data,
with no code of its own (Act 1's answers are held by the golden test)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event

from squelch.domain import demo, packs

SANDBOX = "nocturne"


def ask(function: str, file: str, request: dict[str, Any]) -> Any:
    event = load_event(file, body=json.dumps(request))
    event["headers"] = {**event["headers"], "x-demo-sandbox": SANDBOX}
    response = invoke(function, event)
    assert response["statusCode"] == 200, response["body"]
    return body_of(response)


@pytest.fixture
def nocturne(story: DictConnection) -> packs.Pack:
    pack = packs.load("nocturne-expansion")
    demo.reset(story, DEMO_DAY, pack.start, SANDBOX, pack=pack)
    return pack


def test_a_happy_primary_contact_gets_a_check_in_not_an_apology(nocturne: packs.Pack) -> None:
    # Given a healthy account whose CEO is satisfied and no operation failed, When the CSM drafts to her
    email = ask(
        "EmailDraftCreateFunction", "email_draft_create.json", {"recipient": "Vesper Kane", "customer_id": "noc"}
    )
    # Then the letter checks in; it owns no failure and calls no year disappointing
    assert email["subject"] == "Checking in from Squelch: Nocturne Collective"
    assert "disappointing" not in email["body"] and "Sarah Chen" in email["body"]


def test_a_sponsor_the_csm_knows_is_not_introduced_to_and_no_competitor_is_invented(nocturne: packs.Pack) -> None:
    # Given a sponsor the CSM (assigned D-400) last spoke to on D-26, with no competitor on record
    email = ask("EmailDraftCreateFunction", "email_draft_create.json", {"recipient": "noc-silas", "customer_id": "noc"})
    analysis = ask("OpportunityAnalysisCreateFunction", "opportunity_analysis_create.json", {"customer_id": "noc"})
    # Then the CSM is "your" CSM, not "the new" one, and the insight unlocks the expansion without a threat
    assert "I'm Sarah Chen, your Customer Success Manager for Nocturne Collective" in email["body"]
    assert analysis["ai_insight"].endswith("delivery, you unlock the $2.4M expansion.")
    assert "competitive threat" not in analysis["ai_insight"]
    assert analysis["recommendation"].startswith("Follow up with Silas first (last contacted 26 days ago).")


def test_the_risk_analysis_of_a_healthy_account_reads_on_track(nocturne: packs.Pack) -> None:
    risk = ask("RiskAnalysisCreateFunction", "risk_analysis_create.json", {"customer_id": "noc-001"})
    assert risk["risk_level"] == "low" and risk["overall_health_score"] == 8.1
    assert risk["insights"] == [
        "Nocturne Collective had no critical service failures in the past 12 months.",
        "Renewal looks on track.",
    ]
    assert risk["recommendation"] == "Priority: keep Vesper Kane close this week: last contacted 12 days ago."
