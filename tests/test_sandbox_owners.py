"""Presenters own their sandboxes: the one who created a sandbox, or a member of the admin group
(DEMO_ADMIN_GROUP, default demo-admin), may reset or delete it; every presenter may reset the shared
default one. A sandbox may be private: its workflow writes then take its key (X-Demo-Sandbox-Key),
which only those who may manage it are shown, so a sandbox's name is not enough to complete a
presenter's workflow."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import DEMO_DAY, DictConnection, body_of, http_request, invoke, load_event, one, use_environment
from test_demo_reset import reset_event
from test_sandboxes import delete_event, in_sandbox, rows_of
from test_workflows import with_session

from squelch.domain import demo, refresh

ANA = {"username": "ana@squelch.example", "cognito:groups": ["demo"]}
BOB = {"username": "bob@squelch.example", "cognito:groups": ["demo"]}
ADMIN = {"username": "root@squelch.example", "cognito:groups": ["demo-admin"]}


def as_(who: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The event sent with a verified access token of `who` (its username and groups)."""
    signed = reset_event(claims=who)
    event["headers"]["authorization"] = signed["headers"]["authorization"]
    event["requestContext"]["authorizer"] = signed["requestContext"]["authorizer"]
    return event


def reset_as(who: dict[str, Any], name: str | None, **body: Any) -> dict[str, Any]:
    return invoke("DemoResetFunction", in_sandbox(as_(who, reset_event({"confirm": True} | body)), name))


def delete_as(who: dict[str, Any], name: str) -> dict[str, Any]:
    return invoke("SandboxDeleteFunction", as_(who, delete_event(name)))


def listed_as(who: dict[str, Any]) -> dict[str, dict[str, Any]]:
    answer = invoke("SandboxesListFunction", as_(who, load_event("sandboxes_list.json")))
    assert answer["statusCode"] == 200, answer["body"]
    return {s["name"]: s for s in body_of(answer)["sandboxes"]}


def start(name: str | None, key: str | None = None) -> dict[str, Any]:
    event = in_sandbox(load_event("workflow_start.json"), name)
    event["body"] = json.dumps({"customer_id": "aco", "workflow_type": "strategic_planning"})
    if key is not None:
        event["headers"]["x-demo-sandbox-key"] = key
    return invoke("WorkflowStartFunction", event)


def save(name: str, session_id: str, step: int, key: str | None = None) -> dict[str, Any]:
    event = in_sandbox(with_session("workflow_step_save.json", session_id), name)
    event["body"] = json.dumps({"step": step, "data": {"note": f"step {step}"}})
    if key is not None:
        event["headers"]["x-demo-sandbox-key"] = key
    return invoke("WorkflowStepSaveFunction", event)


def code_of(answer: dict[str, Any]) -> tuple[int, str]:
    return answer["statusCode"], body_of(answer)["error"]["code"]


def owner_of(story: DictConnection, name: str) -> str | None:
    return one(story, "SELECT owner FROM demo_sandboxes WHERE name = %s", name)["owner"]


def resets_logged(story: DictConnection) -> list[tuple[str, str]]:
    rows = story.execute("SELECT requested_by, sandbox FROM demo_reset_log ORDER BY reset_id").fetchall()
    return [(r["requested_by"], r["sandbox"]) for r in rows]


# ---- owners


def test_a_sandbox_belongs_to_the_presenter_who_created_it(story: DictConnection) -> None:
    answer = reset_as(ANA, "ana-demo")
    assert answer["statusCode"] == 200 and body_of(answer)["owner"] == "ana@squelch.example"
    assert owner_of(story, "ana-demo") == "ana@squelch.example"
    # and a reset by its owner keeps it theirs
    assert body_of(reset_as(ANA, "ana-demo", checkpoint="act1-planned"))["owner"] == "ana@squelch.example"


def test_another_presenter_may_neither_reset_nor_delete_it_and_changes_nothing(story: DictConnection) -> None:
    # Given Ana's sandbox, with a workflow under way
    assert reset_as(ANA, "ana-demo", checkpoint="act1-mid-planning")["statusCode"] == 200
    before, logged = rows_of(story, "ana-demo"), resets_logged(story)
    # When Bob resets it, or deletes it
    refused = [reset_as(BOB, "ana-demo"), delete_as(BOB, "ana-demo")]
    # Then both are 403 sandbox_owned_by_another, saying whose it is and who else may
    for answer in refused:
        assert code_of(answer) == (403, "sandbox_owned_by_another")
        message = body_of(answer)["error"]["message"]
        assert "ana@squelch.example" in message and "'demo-admin'" in message
    # And nothing changed: the story, the session, the log, the owner
    assert rows_of(story, "ana-demo") == before and resets_logged(story) == logged
    assert owner_of(story, "ana-demo") == "ana@squelch.example"


def test_the_owner_may_delete_it(story: DictConnection) -> None:
    reset_as(ANA, "ana-demo")
    assert delete_as(ANA, "ana-demo")["statusCode"] == 204
    assert one(story, "SELECT count(*) AS n FROM demo_sandboxes WHERE name = 'ana-demo'")["n"] == 0


def test_an_admin_may_reset_and_delete_any_sandbox_and_the_log_names_the_admin(story: DictConnection) -> None:
    # Given Ana's sandbox
    reset_as(ANA, "ana-demo")
    # When a member of the admin group (and of no other) resets it
    answer = reset_as(ADMIN, "ana-demo", checkpoint="act1-planned")
    # Then it is reset, still Ana's, and the reset log records who did it: the admin
    assert answer["statusCode"] == 200 and body_of(answer)["owner"] == "ana@squelch.example"
    assert resets_logged(story)[-1] == ("root@squelch.example", "ana-demo")
    # And the admin may delete it
    assert delete_as(ADMIN, "ana-demo")["statusCode"] == 204


def test_an_admins_new_sandbox_is_the_admins(story: DictConnection) -> None:
    assert body_of(reset_as(ADMIN, "ops-check"))["owner"] == "root@squelch.example"
    assert code_of(reset_as(ANA, "ops-check")) == (403, "sandbox_owned_by_another")


def test_the_admin_group_is_the_deployments_setting(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    reset_as(ANA, "ana-demo")
    use_environment(monkeypatch, DEMO_ADMIN_GROUP="ops")
    ops = {"username": "op@squelch.example", "cognito:groups": ["ops"]}
    not_admin = {"username": "x@squelch.example", "cognito:groups": ["demo", "demo-admin"]}
    assert code_of(reset_as(not_admin, "ana-demo")) == (403, "sandbox_owned_by_another")
    assert "'ops'" in body_of(reset_as(not_admin, "ana-demo"))["error"]["message"]
    assert reset_as(ops, "ana-demo")["statusCode"] == 200


def test_every_presenter_may_reset_the_default_sandbox_which_stays_no_ones(story: DictConnection) -> None:
    for who in (ANA, BOB):
        answer = reset_as(who, None)
        assert answer["statusCode"] == 200 and body_of(answer)["owner"] is None
    assert owner_of(story, "default") is None
    assert resets_logged(story)[-2:] == [("ana@squelch.example", "default"), ("bob@squelch.example", "default")]


def test_a_sandbox_made_before_owners_were_recorded_is_claimed_by_its_next_reset(story: DictConnection) -> None:
    # Given a sandbox without an owner (made before the migration, or by the owner's login outside the API)
    demo.reset(story, DEMO_DAY, name="legacy")
    assert owner_of(story, "legacy") is None
    # When Bob resets it, it becomes his, and Ana may no longer reset it
    assert body_of(reset_as(BOB, "legacy"))["owner"] == "bob@squelch.example"
    assert code_of(reset_as(ANA, "legacy")) == (403, "sandbox_owned_by_another")


def test_the_daily_refresh_keeps_owner_and_key(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Ana's private sandbox, seeded the day before
    use_environment(monkeypatch, DEMO_ANCHOR_DATE=None)
    key = body_of(reset_as(ANA, "ana-demo", private=True))["sandbox_key"]
    story.execute(
        "UPDATE demo_sandboxes SET anchor_date = anchor_date - 1, last_activity_at = now() - interval '1 hour'"
        " WHERE name = 'ana-demo'"
    )
    # When the refresh re-seeds it
    assert "ana-demo" in refresh.refresh_stale_stories()["refreshed"]
    # Then it is still Ana's, and private with the same key
    row = one(story, "SELECT owner, sandbox_key FROM demo_sandboxes WHERE name = 'ana-demo'")
    assert row == {"owner": "ana@squelch.example", "sandbox_key": key}


def test_the_listing_shows_owners_and_what_the_caller_may_do(story: DictConnection) -> None:
    reset_as(ANA, "ana-demo")
    reset_as(BOB, "bob-demo")
    demo.reset(story, DEMO_DAY, name="legacy")
    seen_by_ana, seen_by_admin = listed_as(ANA), listed_as(ADMIN)
    assert {n: s["owner"] for n, s in seen_by_ana.items()} == {
        "default": None,
        "ana-demo": "ana@squelch.example",
        "bob-demo": "bob@squelch.example",
        "legacy": None,
    }
    assert {n: s["can_manage"] for n, s in seen_by_ana.items()} == {
        "default": True,
        "ana-demo": True,
        "bob-demo": False,
        "legacy": True,
    }
    assert all(s["can_manage"] for s in seen_by_admin.values())


# ---- private sandboxes


def test_a_private_sandboxs_workflows_take_its_key(story: DictConnection) -> None:
    # Given Ana's private sandbox
    made = body_of(reset_as(ANA, "ana-demo", private=True))
    key = made["sandbox_key"]
    assert made["private"] is True and isinstance(key, str) and len(key) == 32
    sessions = "SELECT count(*) AS n FROM demo_workflow_state WHERE sandbox = 'ana-demo'"
    # When someone who knows only its name starts a workflow, or sends another key
    for sent in (None, "x" * 32, key[:-1], "é"):
        # Then it is refused, and no session is made
        assert code_of(start("ana-demo", sent)) == (403, "sandbox_key_required"), sent
    assert one(story, sessions)["n"] == 0
    # But with its key the front end starts and saves as before
    started = start("ana-demo", key)
    assert started["statusCode"] == 201
    session_id = body_of(started)["session_id"]
    assert save("ana-demo", session_id, 1, key)["statusCode"] == 200
    # And a step sent without the key, or with another, is refused and saves nothing
    for sent in (None, "y" * 32):
        assert code_of(save("ana-demo", session_id, 2, sent)) == (403, "sandbox_key_required")
    data = one(story, "SELECT data FROM demo_workflow_state WHERE session_id = %s", session_id)["data"]
    assert list(data) == ["step_1"]
    # And the story itself is read without a key
    profile = invoke("CustomerGetFunction", in_sandbox(load_event("customer_get.json"), "ana-demo"))
    assert profile["statusCode"] == 200


def test_a_public_sandbox_needs_no_key_and_ignores_one(story: DictConnection) -> None:
    reset_as(ANA, "ana-demo")
    assert start("ana-demo")["statusCode"] == 201
    assert start("ana-demo", "whatever")["statusCode"] == 200


def test_privacy_stays_across_resets_until_changed(story: DictConnection) -> None:
    key = body_of(reset_as(ANA, "ana-demo", private=True))["sandbox_key"]
    # a reset that does not say keeps the key, and so does one that asks for privacy again
    assert body_of(reset_as(ANA, "ana-demo"))["sandbox_key"] == key
    assert body_of(reset_as(ANA, "ana-demo", private=True))["sandbox_key"] == key
    # private: false makes it public
    public = body_of(reset_as(ANA, "ana-demo", private=False))
    assert (public["private"], public["sandbox_key"]) == (False, None)
    assert start("ana-demo")["statusCode"] == 201
    # and private again gives it a new key: the old one no longer works
    again = body_of(reset_as(ANA, "ana-demo", private=True))["sandbox_key"]
    assert again not in (None, key)
    assert code_of(start("ana-demo", key)) == (403, "sandbox_key_required")


def test_only_those_who_may_manage_a_private_sandbox_see_its_key(story: DictConnection) -> None:
    key = body_of(reset_as(ANA, "ana-demo", private=True))["sandbox_key"]
    assert (listed_as(ANA)["ana-demo"]["private"], listed_as(ANA)["ana-demo"]["sandbox_key"]) == (True, key)
    assert listed_as(ADMIN)["ana-demo"]["sandbox_key"] == key
    assert (listed_as(BOB)["ana-demo"]["private"], listed_as(BOB)["ana-demo"]["sandbox_key"]) == (True, None)


def test_the_default_sandbox_cannot_be_private(story: DictConnection) -> None:
    answer = reset_as(ANA, None, private=True)
    assert code_of(answer) == (422, "default_sandbox_is_public")
    assert body_of(answer)["error"]["details"][0]["loc"] == ["private"]
    assert one(story, "SELECT sandbox_key FROM demo_sandboxes WHERE name = 'default'")["sandbox_key"] is None


@pytest.mark.parametrize("private", ["true", 1, "yes"])
def test_private_is_a_json_boolean(story: DictConnection, private: object) -> None:
    answer = reset_as(ANA, "ana-demo", private=private)
    assert answer["statusCode"] == 422
    assert one(story, "SELECT count(*) AS n FROM demo_sandboxes WHERE name = 'ana-demo'")["n"] == 0


def test_a_browser_front_end_may_send_the_key(server: str) -> None:
    # the HttpApi's CORS configuration (which make run applies as API Gateway does) lets a page send it
    status, headers, _ = http_request(
        f"{server}/api/workflows/start",
        "OPTIONS",
        Origin="http://localhost:5173",
        Access_Control_Request_Method="POST",
        Access_Control_Request_Headers="content-type,x-demo-sandbox,x-demo-sandbox-key",
    )
    assert status == 204
    assert "X-Demo-Sandbox-Key" in headers["access-control-allow-headers"].split(",")
