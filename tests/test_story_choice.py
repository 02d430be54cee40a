"""A sandbox tells the story pack its presenter chose, under the names they chose: every route and every AI text
says them, a reset without them tells the pack's own again, the daily refresh keeps both, and bad names are a 422
naming the field. The default sandbox tells Act 1 as written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import DictConnection, body_of, invoke, load_event, one
from test_conditional_requests import etag
from test_sandboxes import in_sandbox, reset
from test_story_refresh import idle, refresh, ten_days_on

SANDBOX = "acme"
NAMES = {"csm_name": "Dana Whitfield", "account_name": "Acme Shadow Works"}


def ask(function: str, file: str, body: dict[str, Any] | None = None, path: str | None = None) -> Any:
    event = load_event(file, **({"body": json.dumps(body)} if body is not None else {}))
    if path:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["pathParameters"] = {"customer_ref": path.split("/")[3]}
    response = invoke(function, in_sandbox(event, SANDBOX))
    assert response["statusCode"] == 200, response["body"]
    return body_of(response)


def told(slug: str) -> list[str]:
    """Everything the sandbox's routes answer about its account, as text."""
    answers = [
        ask("CustomerGetFunction", "customer_get.json", path=f"/api/customers/{slug}"),
        ask("HealthGetFunction", "health_get.json", path=f"/api/customers/{slug}/health"),
        ask("RiskAnalysisCreateFunction", "risk_analysis_create.json", {"customer_id": slug}),
        ask("OpportunityAnalysisCreateFunction", "opportunity_analysis_create.json", {"customer_id": slug}),
    ]
    return [json.dumps(a, ensure_ascii=False) for a in answers]


def test_the_stories_list_names_each_pack_its_account_and_checkpoints(story: DictConnection) -> None:
    listed = body_of(invoke("StoriesListFunction", load_event("stories_list.json")))["stories"]
    assert [(s["name"], s["default"]) for s in listed] == [("act1-obsidian-black", True), ("nocturne-expansion", False)]
    assert listed[0]["accounts"] == [
        {"customer_id": "aco-001", "slug": "aco", "name": "Obsidian Black", "csm_name": "Sarah Chen"}
    ]
    assert [c["name"] for c in listed[0]["checkpoints"]] == ["act1-start", "act1-mid-planning", "act1-planned"]
    assert [c["name"] for c in listed[1]["checkpoints"]] == ["expansion-start", "expansion-planned"]


def test_a_sandbox_tells_the_chosen_story_under_the_presenters_names(story: DictConnection) -> None:
    # Given a presenter's reset to the second story with their audience's names
    response = reset(SANDBOX, story="nocturne-expansion", **NAMES)
    assert response["statusCode"] == 200, response["body"]
    answer = body_of(response)
    assert (answer["story"], answer["checkpoint"], answer["customer_id"]) == (
        "nocturne-expansion",
        "expansion-start",
        "noc-001",
    )
    assert (answer["csm_name"], answer["account_name"]) == (NAMES["csm_name"], NAMES["account_name"])
    # When its routes are read, Then every answer says the presenter's names and never the story's own
    texts = told("noc")
    assert ["Acme Shadow Works" in t for t in texts] == [True, True, True, False]  # the opportunity names its sponsor
    assert not any("Nocturne Collective" in t for t in texts)
    profile = ask("CustomerGetFunction", "customer_get.json", path="/api/customers/noc")
    assert (profile["name"], profile["csm_name"]) == ("Acme Shadow Works", "Dana Whitfield")
    email = ask("EmailDraftCreateFunction", "email_draft_create.json", {"recipient": "noc-silas", "customer_id": "noc"})
    assert "I'm Dana Whitfield, your Customer Success Manager for Acme Shadow Works" in email["body"]
    assert email["body"].endswith("Dana Whitfield\nCustomer Success Manager, Squelch")
    # And the listing says which story the sandbox tells
    listed = body_of(invoke("SandboxesListFunction", load_event("sandboxes_list.json")))["sandboxes"]
    assert {s["name"]: (s["story"], s["story_state"]) for s in listed}[SANDBOX] == ("nocturne-expansion", "current")


def test_a_reset_without_names_tells_the_storys_own_again(story: DictConnection) -> None:
    assert reset(SANDBOX, story="nocturne-expansion", **NAMES)["statusCode"] == 200
    # When the presenter resets it again without names
    answer = body_of(reset(SANDBOX, story="nocturne-expansion"))
    # Then the story's own names are back, in the answer and in the routes
    assert (answer["csm_name"], answer["account_name"]) == ("Sarah Chen", "Nocturne Collective")
    profile = ask("CustomerGetFunction", "customer_get.json", path="/api/customers/noc")
    assert (profile["name"], profile["csm_name"]) == ("Nocturne Collective", "Sarah Chen")
    # And a reset without a story tells Act 1
    assert body_of(reset(SANDBOX))["story"] == "act1-obsidian-black"


def test_the_daily_refresh_keeps_the_story_and_the_names(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a personalised sandbox of the second story at its last checkpoint, idle, ten days on
    assert reset(SANDBOX, "expansion-planned", story="nocturne-expansion", **NAMES)["statusCode"] == 200
    idle(story, "default", SANDBOX)
    ten_days_on(monkeypatch)
    # When the refresh runs
    assert SANDBOX in refresh()["refreshed"]
    # Then it tells the same story, at the same checkpoint, under the same names, around today
    row = one(story, "SELECT story, checkpoint, csm_name, account_name FROM demo_sandboxes WHERE name = %s", SANDBOX)
    assert row == {"story": "nocturne-expansion", "checkpoint": "expansion-planned", **NAMES}
    profile = ask("CustomerGetFunction", "customer_get.json", path="/api/customers/noc")
    assert (profile["name"], profile["days_to_renewal"], profile["story_age_days"]) == ("Acme Shadow Works", 200, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("csm_name", "R2-D2"),
        ("csm_name", "<script>alert(1)</script>"),
        ("csm_name", "D"),
        ("csm_name", "x" * 61),
        ("account_name", "Acme 2000"),
        ("account_name", "Acme\u0000Works"),
        ("account_name", "y" * 81),
        ("csm_name", 42),
    ],
)
def test_a_bad_name_is_a_422_naming_the_field_and_changes_nothing(
    story: DictConnection, field: str, value: object
) -> None:
    before = one(story, "SELECT count(*) AS n FROM demo_reset_log")["n"]
    body: dict[str, Any] = {field: value}
    response = reset(SANDBOX, None, story="nocturne-expansion", **body)
    assert response["statusCode"] == 422, response["body"]
    assert [d["loc"][-1] for d in body_of(response)["error"]["details"]] == [field]
    assert one(story, "SELECT count(*) AS n FROM demo_reset_log")["n"] == before
    assert one(story, "SELECT count(*) AS n FROM demo_sandboxes WHERE name = %s", SANDBOX)["n"] == 0


def test_an_unknown_story_or_its_unknown_checkpoint_is_a_422(story: DictConnection) -> None:
    unknown = body_of(reset(SANDBOX, story="act9"))["error"]
    assert unknown["code"] == "unknown_story" and unknown["details"][0]["loc"] == ["story"]
    assert "nocturne-expansion" in unknown["message"]
    wrong = body_of(reset(SANDBOX, "act1-planned", story="nocturne-expansion"))["error"]
    assert wrong["code"] == "unknown_checkpoint" and "expansion-planned" in wrong["message"]


@pytest.mark.parametrize("body", [{"story": "nocturne-expansion"}, {"csm_name": "Dana Whitfield"}])
def test_the_default_sandbox_tells_act1_as_written(story: DictConnection, body: dict[str, str]) -> None:
    response = reset(None, **body)
    assert response["statusCode"] == 422
    error = body_of(response)["error"]
    assert error["code"] == "default_sandbox_tells_act1" and error["details"][0]["loc"] == [next(iter(body))]
    assert one(story, "SELECT name FROM demo_customers WHERE sandbox = 'default'")["name"] == "Obsidian Black"


def test_conditional_gets_hold_for_another_story_and_its_names(story: DictConnection) -> None:
    # Given a sandbox of the second story under the presenter's names, its profile read once
    assert reset(SANDBOX, story="nocturne-expansion", **NAMES)["statusCode"] == 200
    event = load_event("customer_get.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/customers/noc"
    event["pathParameters"] = {"customer_ref": "noc"}
    first = invoke("CustomerGetFunction", in_sandbox(event, SANDBOX))
    tag = etag(first)
    again = {**event, "headers": {**event["headers"], "if-none-match": tag}}
    # When it is asked again with its tag, Then nothing changed: 304
    assert invoke("CustomerGetFunction", again)["statusCode"] == 304
    # When the presenter resets it without names, Then the tag no longer holds and the story's own name is back
    assert reset(SANDBOX, story="nocturne-expansion")["statusCode"] == 200
    changed = invoke("CustomerGetFunction", again)
    assert changed["statusCode"] == 200 and body_of(changed)["name"] == "Nocturne Collective"


def test_an_email_that_names_no_customer_is_about_the_sandboxs_story(story: DictConnection) -> None:
    # Given a sandbox of the second story, When an email is drafted to its sponsor without a customer_id
    assert reset(SANDBOX, story="nocturne-expansion")["statusCode"] == 200
    email = ask("EmailDraftCreateFunction", "email_draft_create.json", {"recipient": "Silas Thorne"})
    # Then it is about the sandbox's account
    assert (email["customer_id"], email["recipient"]["contact_id"]) == ("noc-001", "noc-silas")
