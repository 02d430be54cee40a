"""The AI routes: canned text whose every figure comes from the database, the Bedrock provider
(botocore's Stubber; nothing calls AWS) and its fallbacks, and the routes' errors."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from conftest import DEMO_DAY, ROOT, DictConnection, body_of, invoke, load_event, use_environment

from squelch.ai import bedrock, drafts, number_guard
from squelch.domain import insights

MARCUS_BODY = """Marcus,

Thank you for your email. I appreciate your directness—it's exactly what I need to serve Obsidian Black effectively.

You're right: Year Two was disappointing. The Operation Blackout incident cost you $850K and should never have \
happened. The 87-day communication gap after my predecessor's departure was unacceptable. These aren't excuses I'm \
offering—they're problems I'm committed to solving.

I'd like to request a short call this week to listen and understand your expectations for Year Three. I'm not coming \
with a pitch—I'm coming to learn what "strategic partnership" looks like from your perspective.

Would a time this week work for you?

Best regards,
Sarah Chen
Customer Success Manager, Squelch"""

ELENA_BODY = """Elena,

I'm Sarah Chen, the new Customer Success Manager for Obsidian Black at Squelch. I understand you're leading the \
Global Synchronization Initiative, and that timezone-intelligent scheduling is the capability it turns on.

I'd value a discovery call to understand your requirements and timeline, and to share where Squelch stands on \
timezone-intelligent scheduling, including what we can commit to for Q1 2026.

Would you be open to a short call this week?

Best regards,
Sarah Chen
Customer Success Manager, Squelch"""


def post(function: str, event_file: str, body: Any) -> dict[str, Any]:
    event = load_event(event_file)
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    return invoke(function, event)


def risk(body: Any = None) -> dict:
    return post("RiskAnalysisCreateFunction", "risk_analysis_create.json", body or {"customer_id": "aco-001"})


def opportunity(body: Any = None) -> dict:
    return post("OpportunityAnalysisCreateFunction", "opportunity_analysis_create.json", body or {"customer_id": "aco"})


def email(recipient: str = "Marcus Castellan", **fields: Any) -> dict:
    return post(
        "EmailDraftCreateFunction",
        "email_draft_create.json",
        {"recipient": recipient, "context": "c", "purpose": "p", **fields},
    )


def ok(response: dict) -> dict:
    assert response["statusCode"] == 200, response["body"]
    return body_of(response)


def test_risk_analysis_on_the_demo_day(story: DictConnection) -> None:
    body = ok(risk())
    assert (body["overall_health_score"], body["churn_probability"], body["risk_level"]) == (4.2, 68, "high")
    assert body["insights"] == [
        "Obsidian Black experienced 3 critical service failures in the past 12 months.",
        "Most severe: Operation Blackout directly cost Obsidian Black $850K and damaged trust.",
        "Your predecessor's departure created an 87-day communication void.",
        "Support tickets spiked to 5 in the past two weeks, 3.3x the normal rate of 1.5.",
        "Without intervention, renewal is unlikely.",
    ]
    assert body["recommendation"] == (
        "Priority: establish a relationship with Dr. Elena Voss this week: never contacted, evaluating competitors "
        "and sponsor of the $1.7M Global Synchronization Initiative."
    )
    assert body["provider"] == "canned" and body["fallback_reason"] is None
    blackout = next(s for s in body["sources"] if s["id"] == "op-blackout")
    assert blackout["facts"]["cost_impact"] == 850000


def test_opportunity_analysis_on_the_demo_day(story: DictConnection) -> None:
    body = ok(opportunity())
    assert body["opportunities"] == [
        {
            "opportunity_id": "aco-opp-001",
            "name": "Global Synchronization Initiative",
            "sponsor": "Dr. Elena Voss",
            "value": 1700000,
            "probability": 65,
            "key_requirement": "Timezone-intelligent scheduling",
            "competitive_threat": "Elena is evaluating VectorSync and OmniCoord",
        }
    ]
    assert body["ai_insight"] == (
        "Elena's evaluation is driven by ONE feature: timezone-intelligent scheduling. If Squelch commits to Q1 2026 "
        "delivery, you neutralize the competitive threat from VectorSync and OmniCoord and unlock the $1.7M expansion."
    )
    assert body["recommendation"] == (
        "Introduce yourself to Elena first (never contacted). Position Squelch as a strategic partner, not a vendor."
    )


def test_email_to_marcus_owns_the_failures_and_asks_for_a_call(story: DictConnection) -> None:
    body = ok(email("Marcus Castellan"))
    # The relationship began two years before the renewal (the current contract is its renewal term), so
    # the year that disappointed is Year Two, and the renewal opens Year Three.
    assert body["subject"] == "Re: Obsidian Black Renewal Discussion - Year Three Expectations"
    assert body["body"] == MARCUS_BODY
    assert body["recipient"] == {"contact_id": "aco-marcus", "name": "Marcus Castellan"}


@pytest.mark.parametrize("recipient", ["Dr. Elena Voss", "elena voss", "aco-elena"])
def test_email_to_elena_introduces_and_offers_a_discovery_call(story: DictConnection, recipient: str) -> None:
    body = ok(email(recipient))
    assert body["subject"] == "Global Synchronization Initiative: a discovery call on timezone-intelligent scheduling"
    assert body["body"] == ELENA_BODY


def test_the_drafts_differ_and_are_not_campy(story: DictConnection) -> None:
    marcus, elena = ok(email("Marcus Castellan"))["body"], ok(email("aco-elena"))["body"]
    assert marcus != elena
    for text in (marcus, elena):
        assert not re.search(r"villain|orchestrator|nightingale|mwah|evil", text, re.I)


def test_every_number_in_every_canned_text_is_in_its_sources(story: DictConnection) -> None:
    # The same guard the LLM's answers must pass: no number that the listed facts do not hold
    # (tests/test_number_guard.py does this on every day of a year).
    f = insights.gather("aco")
    texts = [drafts.risk_text(f), drafts.opportunity_text(f)[::2], *(drafts.email_text(f, c) for c in f.contacts)]
    for text, sources in texts:
        prompt = insights._prompt_facts(f, sources)
        assert number_guard.invented_numbers(number_guard.prose(text), prompt) == set(), text


def test_texts_follow_the_data(story: DictConnection, monkeypatch) -> None:
    # Given every figure the texts use is changed in the database
    story.execute(
        "UPDATE demo_operations SET cost_impact = 1250000, name = 'Operation Eclipse' "
        "WHERE operation_id = 'op-blackout'"
    )
    story.execute(
        "UPDATE demo_contacts SET last_contact = %s WHERE contact_id = 'aco-marcus'", [DEMO_DAY - timedelta(days=40)]
    )
    story.execute("UPDATE demo_customers SET csm_name = 'Jordan Lee', name = 'Onyx Group'")
    story.execute("UPDATE demo_opportunities SET value = 2000000")
    story.execute("UPDATE demo_support_tickets SET priority = 'high' WHERE ticket_id = 'aco-3655'")
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=130)).isoformat())
    # Then the texts say what the data says now
    body = ok(risk())
    assert body["insights"][:3] == [
        "Onyx Group experienced 2 critical service failures in the past 12 months.",
        "Most severe: Operation Eclipse directly cost Onyx Group $1.25M and damaged trust.",
        "Your predecessor's departure created a 37-day communication void.",
    ]
    assert "$2M Global Synchronization Initiative" in body["recommendation"]
    marcus = ok(email("Marcus Castellan"))["body"]
    assert "The Operation Eclipse incident cost you $1.25M" in marcus
    assert "The 37-day communication gap" in marcus and marcus.endswith("Jordan Lee\nCustomer Success Manager, Squelch")
    assert "commit to for Q3 2026" in ok(email("aco-elena"))["body"]  # D+130 is in Q2 2026


def test_contract_year_counts_from_the_customers_start(story: DictConnection, monkeypatch) -> None:
    # Given a relationship a year older than the story's (since 2023-04-15 rather than 2024-04-15, for
    # D = 2025-11-23), 130 days after D (2026-04-02) it is in its third year, which began on 2025-04-15.
    # (Past the renewal the story is not told at all: test_story_range.py.)
    story.execute("UPDATE demo_customers SET customer_since = customer_since - interval '1 year'")
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=130)).isoformat())
    draft = ok(email("Marcus Castellan"))
    assert draft["subject"] == "Re: Obsidian Black Renewal Discussion - Year Four Expectations"
    assert "You're right: Year Three was disappointing." in draft["body"]


def test_without_failures_or_gap_the_sentences_are_left_out(story: DictConnection) -> None:
    story.execute("UPDATE demo_operations SET status = 'success', failure_reason = NULL WHERE status = 'failed'")
    story.execute("UPDATE demo_customers SET csm_assigned_on = NULL")
    insights_ = ok(risk())["insights"]
    assert not any("Most severe" in i or "void" in i for i in insights_)
    assert "You're right: Year Two was disappointing.\n\n" in ok(email("Marcus Castellan"))["body"]


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (lambda: risk({"customer_id": "nobody"}), 404, "customer_not_found"),
        (lambda: opportunity({"customer_id": "nobody"}), 404, "customer_not_found"),
        (lambda: email("Nobody Atall"), 404, "recipient_not_found"),
        (lambda: email("Marcus Castellan", customer_id="nobody"), 404, "customer_not_found"),
        (lambda: risk({"customer": "aco"}), 422, "invalid_request"),
        (lambda: risk({"customer_id": 7}), 422, "invalid_request"),
        (lambda: post("EmailDraftCreateFunction", "email_draft_create.json", {"context": "x"}), 422, "invalid_request"),
        (
            lambda: post("EmailDraftCreateFunction", "email_draft_create.json", {"recipient": ["Marcus"]}),
            422,
            "invalid_request",
        ),
        (lambda: risk('{"customer_id": '), 400, "malformed_json"),
        (lambda: opportunity("[1, 2"), 400, "malformed_json"),
    ],
)
def test_errors(story: DictConnection, call, status: int, code: str) -> None:
    response = call()
    assert response["statusCode"] == status, response["body"]
    assert body_of(response)["error"]["code"] == code


def test_unknown_recipient_lists_the_contacts(story: DictConnection) -> None:
    message = body_of(email("Nobody Atall"))["error"]["message"]
    assert "Marcus Castellan (aco-marcus)" in message and "Dr. Elena Voss (aco-elena)" in message


def add_contact(story: DictConnection, contact_id: str, name: str, **columns: Any) -> None:
    """Another contact of the demo customer, as a CRM import would add one."""
    row = {"contact_id": contact_id, "customer_id": "aco-001", "name": name, "satisfaction": "neutral", **columns}
    story.execute(
        f"INSERT INTO demo_contacts ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})", list(row.values())
    )


def test_two_contacts_with_the_same_name_are_a_conflict_listing_both(story: DictConnection) -> None:
    # Given a second Marcus Castellan at the account (the first is the primary contact)
    add_contact(story, "aco-marcus-2", "Marcus Castellan", title="Facilities Lead")
    # When an e-mail is asked for by that name
    response = email("Marcus Castellan")
    # Then nobody is picked silently: a 409 names both, so the caller can resend with the contact_id
    assert response["statusCode"] == 409, response["body"]
    error = body_of(response)["error"]
    assert error["code"] == "ambiguous_recipient"
    assert "Marcus Castellan (aco-marcus)" in error["message"] and "Marcus Castellan (aco-marcus-2)" in error["message"]
    assert "contact_id" in error["message"]
    assert error["details"] == [
        {"contact_id": "aco-marcus", "name": "Marcus Castellan"},
        {"contact_id": "aco-marcus-2", "name": "Marcus Castellan"},
    ]
    assert ok(email("aco-marcus-2"))["recipient"] == {"contact_id": "aco-marcus-2", "name": "Marcus Castellan"}
    assert ok(email("aco-marcus"))["recipient"] == {"contact_id": "aco-marcus", "name": "Marcus Castellan"}


def test_names_that_differ_only_by_honorific_or_case_are_ambiguous_too(story: DictConnection) -> None:
    add_contact(story, "aco-elena-2", "ELENA VOSS")
    error = body_of(email("Elena Voss"))["error"]
    assert error["code"] == "ambiguous_recipient"
    assert [d["contact_id"] for d in error["details"]] == ["aco-elena", "aco-elena-2"]


@pytest.mark.parametrize(
    ("stored", "asked"),
    [
        ("Zo\u00eb Park", "Zoe\u0308 Park"),  # composed in the database, decomposed in the request
        ("Zoe\u0308 Park", "Zo\u00eb Park"),  # and the other way round
        ("Zo\u00eb Park", "ZO\u00cb PARK"),
        ("Greta Strau\u00df", "Greta Strauss"),  # casefold: ß is ss
        ("Greta Strauss", "Ms. Greta Strau\u00df"),
        ("\u00c5sa Lindstr\u00f6m", "A\u030asa Lindstro\u0308m"),
    ],
)
def test_a_name_matches_in_any_unicode_form_and_case(story: DictConnection, stored: str, asked: str) -> None:
    add_contact(story, "aco-new", stored)
    assert ok(email(asked))["recipient"] == {"contact_id": "aco-new", "name": stored}


@pytest.mark.parametrize("recipient", ["ACO-ELENA", "Aco-Elena", " aco-elena "])
def test_a_contact_id_matches_case_aside(story: DictConnection, recipient: str) -> None:
    assert ok(email(recipient))["recipient"]["contact_id"] == "aco-elena"


def test_an_exact_contact_id_wins_over_one_that_differs_only_by_case(story: DictConnection) -> None:
    add_contact(story, "ACO-MARCUS", "Marc Castle")
    assert ok(email("ACO-MARCUS"))["recipient"]["name"] == "Marc Castle"
    assert ok(email("aco-marcus"))["recipient"]["name"] == "Marcus Castellan"
    assert body_of(email("Aco-Marcus"))["error"]["code"] == "ambiguous_recipient"


def test_the_409_is_in_the_openapi_document() -> None:
    from tools import openapi

    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    for document in (openapi.build(), committed):
        assert "409" in document["paths"]["/api/ai/email-draft"]["post"]["responses"]


# ---- the Bedrock provider, through botocore's Stubber ----


@pytest.fixture
def bedrock_stub(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    use_environment(
        monkeypatch,
        AI_PROVIDER="bedrock",
        BEDROCK_MODEL_ID="anthropic.claude-test-v1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    client = boto3.client("bedrock-runtime")
    monkeypatch.setattr(bedrock, "client", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def tool_answer(answer: dict) -> dict:
    return {
        "output": {
            "message": {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": "tool-1", "name": "answer", "input": answer}}],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 900, "outputTokens": 120, "totalTokens": 1020},
        "metrics": {"latencyMs": 850},
    }


def test_bedrock_answer_is_used_when_valid(bedrock_stub: Stubber) -> None:
    written = {
        "insights": ["Obsidian Black had 3 critical failures; Operation Blackout alone cost $850K."],
        "recommendation": "Reach Dr. Elena Voss first: she sponsors the $1.7M initiative.",
    }
    bedrock_stub.add_response("converse", tool_answer(written))
    body = ok(risk())
    assert body["provider"] == "bedrock" and body["fallback_reason"] is None
    assert body["insights"] == written["insights"] and body["recommendation"] == written["recommendation"]
    assert body["churn_probability"] == 68  # figures never come from the model


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "Here you go!"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
                "metrics": {"latencyMs": 1},
            },
            "bedrock_no_answer",
        ),
        (tool_answer({"insight": "wrong shape"}), "bedrock_invalid_answer"),
        (
            tool_answer({"insights": ["Renewal odds are 41%; they lost $9.4M."], "recommendation": "Call."}),
            "bedrock_invented_numbers",
        ),
        # digits of the facts' dates (2025-11-20, 2025-11-23) are not numbers the facts hold
        (
            tool_answer({"insights": ["23 operatives quit; renewal is in 20 days."], "recommendation": "Call."}),
            "bedrock_invented_numbers",
        ),
        (
            tool_answer(
                {
                    "insights": ["Blackout cost $0.9M, about 1.7 billion less than the initiative."],
                    "recommendation": "Call.",
                }
            ),
            "bedrock_invented_numbers",
        ),
    ],
)
def test_bad_bedrock_answers_fall_back_to_canned(bedrock_stub: Stubber, response: dict, reason: str) -> None:
    bedrock_stub.add_response("converse", response)
    body = ok(risk())
    assert (body["provider"], body["fallback_reason"]) == ("canned", reason)
    assert body["insights"][0] == "Obsidian Black experienced 3 critical service failures in the past 12 months."


def test_throttled_bedrock_falls_back(bedrock_stub: Stubber, log_output) -> None:
    bedrock_stub.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    body = ok(opportunity())
    assert (body["provider"], body["fallback_reason"]) == ("canned", "bedrock_throttled")
    assert "bedrock_throttled" in log_output.getvalue()


def test_bedrock_timeout_falls_back(story: DictConnection, monkeypatch) -> None:
    # A real read timeout: the production client, pointed at a local socket that never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    use_environment(
        monkeypatch,
        AI_PROVIDER="bedrock",
        BEDROCK_MODEL_ID="anthropic.claude-test-v1",
        AI_TIMEOUT_SECONDS="0.5",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=f"http://127.0.0.1:{silent.getsockname()[1]}",
    )
    bedrock.client.cache_clear()
    try:
        body = ok(email("Marcus Castellan"))
    finally:
        bedrock.client.cache_clear()
        silent.close()
    assert (body["provider"], body["fallback_reason"]) == ("canned", "bedrock_timeout")
    assert body["body"] == MARCUS_BODY


def test_email_from_bedrock_is_validated_with_the_same_model(bedrock_stub: Stubber) -> None:
    bedrock_stub.add_response("converse", tool_answer({"subject": "Year Two", "body": "Marcus, ... Sarah Chen"}))
    body = ok(email("Marcus Castellan"))
    assert body["provider"] == "bedrock" and body["subject"] == "Year Two"


def test_the_callers_context_is_shown_to_the_model_but_is_no_fact(bedrock_stub: Stubber) -> None:
    # context and purpose are the caller's words, not the database's: a number taken from them is invented
    prompts: list[str] = []
    bedrock.client().meta.events.register(
        "provide-client-params.bedrock-runtime.Converse",
        lambda params, **_: prompts.append(params["messages"][0]["content"][0]["text"]),
    )
    bedrock_stub.add_response(
        "converse",
        tool_answer({"subject": "Your renewal", "body": "Marcus, we can offer a 20% discount on renewal. Sarah Chen"}),
    )
    body = ok(email("Marcus Castellan", context="he asked for a 20% discount", purpose="a 20% discount"))
    assert (body["provider"], body["fallback_reason"]) == ("canned", "bedrock_invented_numbers")
    assert "he asked for a 20% discount" in prompts[0]
    assert body["body"] == MARCUS_BODY


def test_bedrock_without_a_model_id_falls_back(bedrock_stub: Stubber, monkeypatch) -> None:
    use_environment(monkeypatch, BEDROCK_MODEL_ID=None)
    assert ok(risk())["fallback_reason"] == "bedrock_model_not_configured"


def test_timeout_is_a_few_seconds() -> None:
    from squelch.settings import Settings

    assert Settings().ai_timeout_seconds <= 5


def test_canned_routes_never_import_boto3() -> None:
    script = (
        "import sys, localdev; from localdev import runtime, template; "
        "[runtime.load_module(f) for f in template.load().values()]; print('boto3' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_customer_without_a_health_score_gets_a_risk_analysis_without_one(story: DictConnection) -> None:
    # Given a non-demo customer nobody has scored yet
    story.execute(
        "INSERT INTO demo_customers (customer_id, slug, name, arr, renewal_date, is_demo) "
        "VALUES ('cust-9', 'initech', 'Initech', 100000, %s, false)",
        [DEMO_DAY + timedelta(days=90)],
    )
    # When its risk is analysed, Then the answer has no score, no churn figure and no risk level to invent
    body = ok(risk({"customer_id": "initech"}))
    assert (body["overall_health_score"], body["churn_probability"], body["risk_level"]) == (None, None, None)
    assert body["insights"] and body["provider"] == "canned"
