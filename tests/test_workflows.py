"""Workflow sessions: start, save step, read context, through the handlers and real PostgreSQL."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from conftest import DictConnection, body_of, invoke, load_event, one

from squelch import db
from squelch.domain import workflows


def start(customer_id: Any = "aco-001", workflow_type: Any = "strategic_planning", raw: str | None = None) -> dict:
    event = load_event("workflow_start.json")
    event["body"] = raw if raw is not None else json.dumps({"customer_id": customer_id, "workflow_type": workflow_type})
    return invoke("WorkflowStartFunction", event)


def with_session(event_file: str, session_id: str) -> dict:
    event = load_event(event_file)
    path = event["rawPath"].replace("wf-example-session-0001", session_id)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"session_id": session_id}
    return event


def save(session_id: str, step: Any, data: Any = None, raw: str | None = None) -> dict:
    event = with_session("workflow_step_save.json", session_id)
    event["body"] = raw if raw is not None else json.dumps({"step": step, "data": {} if data is None else data})
    return invoke("WorkflowStepSaveFunction", event)


def context(session_id: str) -> dict:
    return invoke("WorkflowContextGetFunction", with_session("workflow_context_get.json", session_id))


def row(conn: DictConnection, session_id: str) -> dict[str, Any]:
    return one(conn, "SELECT * FROM demo_workflow_state WHERE session_id = %s", session_id)


@pytest.fixture
def session_id(story: DictConnection) -> str:
    response = start()
    assert response["statusCode"] == 201
    return body_of(response)["session_id"]


def test_start_creates_a_session_with_context(story: DictConnection) -> None:
    response = start(customer_id="aco")
    assert response["statusCode"] == 201
    body = body_of(response)
    assert body["session_id"].startswith("wf-") and len(body["session_id"]) == 27
    keys = ("customer_id", "workflow_type", "current_step", "next_step", "total_steps", "completed")
    assert {k: body[k] for k in keys} == {
        "customer_id": "aco-001",
        "workflow_type": "strategic_planning",
        "current_step": 1,
        "next_step": 1,
        "total_steps": 5,
        "completed": False,
    }
    assert body["context"] | {} == {
        "customer_id": "aco-001",
        "name": "Obsidian Black",
        "customer_name": "Obsidian Black",
        "health_score": 4.2,
        "risk_level": "high",
        "arr": 1500000,
        "renewal_date": "2026-04-15",
        "days_to_renewal": 143,
    }
    assert row(story, body["session_id"])["total_steps"] == 5


def test_duplicate_start_returns_the_open_session(session_id: str) -> None:
    again = start()
    assert again["statusCode"] == 200 and body_of(again)["session_id"] == session_id
    other_type = start(workflow_type="risk_detection")
    assert other_type["statusCode"] == 201 and body_of(other_type)["total_steps"] == 4


def test_twenty_concurrent_starts_make_exactly_one_session(story: DictConnection) -> None:
    # Given twenty clients starting the same workflow at the same instant, each on its own connection
    barrier = threading.Barrier(20)
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            barrier.wait()
            session, created = workflows.start("aco-001", "risk_detection")
            results.append((session.session_id, created))
        except BaseException as error:
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=client) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then all got the same session, exactly one created it, and one row exists
    assert errors == []
    assert len({sid for sid, _ in results}) == 1 and sum(created for _, created in results) == 1
    assert one(story, "SELECT count(*) AS n FROM demo_workflow_state WHERE workflow_type = 'risk_detection'")["n"] == 1


def test_completed_session_lets_a_new_one_start(session_id: str) -> None:
    for step in range(1, 6):
        assert save(session_id, step)["statusCode"] == 200
    again = start()
    assert again["statusCode"] == 201 and body_of(again)["session_id"] != session_id


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ('{"customer_id": "aco-001", "workflow_type": "world_domination"}', 422, "unknown_workflow_type"),
        ('{"customer_id": "nobody", "workflow_type": "strategic_planning"}', 404, "customer_not_found"),
        ('{"customer_id": "aco-001"}', 422, "invalid_request"),
        ('{"customer_id": 1, "workflow_type": "strategic_planning"}', 422, "invalid_request"),
        ('["aco-001", "strategic_planning"]', 422, "invalid_request"),
        ('{"customer_id": "aco-001", "workflow_type": ', 400, "malformed_json"),
        ("", 422, "invalid_request"),
    ],
)
def test_bad_starts_are_refused_and_create_nothing(story: DictConnection, raw: str, status: int, code: str) -> None:
    response = start(raw=raw)
    assert response["statusCode"] == status, response["body"]
    assert body_of(response)["error"]["code"] == code
    assert one(story, "SELECT count(*) AS n FROM demo_workflow_state")["n"] == 0


def test_unknown_type_lists_the_known_ones(story: DictConnection) -> None:
    message = body_of(start(workflow_type="world_domination"))["error"]["message"]
    assert "risk_detection, strategic_planning" in message


def test_registry_matches_the_database_check(story: DictConnection) -> None:
    check = one(
        story,
        "SELECT pg_get_constraintdef(oid) AS c FROM pg_constraint "
        "WHERE conname = 'demo_workflow_state_workflow_type_check'",
    )["c"]
    assert sorted(workflows.WORKFLOW_TYPES) == sorted(part.split("'")[1] for part in check.split("'::text")[:-1])


def test_steps_are_saved_replaced_and_completed(story: DictConnection, session_id: str) -> None:
    # When steps 1 and 2 are saved, then step 2 is current
    assert body_of(save(session_id, 1, {"seen": "contract"})) == {
        "session_id": session_id,
        "current_step": 1,
        "next_step": 2,
        "total_steps": 5,
        "completed": False,
    }
    assert (
        body_of(save(session_id, 2, {"artifact": "contract_intelligence", "user_selections": {}}))["current_step"] == 2
    )
    # And going back to step 1 replaces only its data and keeps the current step
    assert body_of(save(session_id, 1, {"seen": "again"}))["current_step"] == 2
    data = row(story, session_id)["data"]
    assert data == {"step_1": {"seen": "again"}, "step_2": {"artifact": "contract_intelligence", "user_selections": {}}}
    # And saving through the last step completes the session and the customer's strategic plan
    for step in (3, 4):
        save(session_id, step, {"n": step})
    final = body_of(save(session_id, 5, {"approved": True}))
    assert final == {
        "session_id": session_id,
        "current_step": 5,
        "next_step": None,
        "total_steps": 5,
        "completed": True,
    }
    assert one(story, "SELECT completed FROM demo_strategic_plans")["completed"] is True


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"step": 3, "data": {}}, 422, "invalid_step"),  # skips ahead of current_step + 1
        ({"step": 0, "data": {}}, 422, "invalid_step"),
        ({"step": 6, "data": {}}, 422, "invalid_step"),
        ({"step": "2", "data": {}}, 422, "invalid_request"),
        ({"step": 2.5, "data": {}}, 422, "invalid_request"),
        ({"step": True, "data": {}}, 422, "invalid_request"),
        ({"step": 2, "data": ["not", "an", "object"]}, 422, "invalid_request"),
        ({"step": 2, "data": None}, 422, "invalid_request"),
        ({"step": 2}, 422, "invalid_request"),
        ({"data": {}}, 422, "invalid_request"),
    ],
)
def test_invalid_steps_change_nothing(
    story: DictConnection, session_id: str, body: dict, status: int, code: str
) -> None:
    before = row(story, session_id)
    response = save(session_id, None, raw=json.dumps(body))
    assert response["statusCode"] == status, response["body"]
    assert body_of(response)["error"]["code"] == code
    assert row(story, session_id) == before


@pytest.mark.parametrize("step", [0, -1, 6, 100000, 2**31, -(2**63), 10**30])
def test_every_step_outside_the_range_is_invalid_step_with_the_range(
    story: DictConnection, session_id: str, step: int
) -> None:
    # Given a five-step session, When a step outside 1..5 of any size or sign is saved
    before = row(story, session_id)
    response = save(session_id, step, {})
    # Then it is one mistake with one code, and the answer says which steps are allowed
    assert response["statusCode"] == 422
    error = body_of(response)["error"]
    assert error["code"] == "invalid_step"
    assert [(d["loc"], d["type"], d["min"], d["max"]) for d in error["details"]] == [
        (["step"], "step_out_of_range", 1, 5)
    ]
    assert row(story, session_id) == before


def test_a_step_that_skips_ahead_names_the_furthest_allowed(story: DictConnection, session_id: str) -> None:
    save(session_id, 1, {})
    error = body_of(save(session_id, 4, {}))["error"]
    assert error["code"] == "invalid_step"
    assert [(d["type"], d["min"], d["max"]) for d in error["details"]] == [("step_skips_ahead", 1, 2)]


def test_next_step_is_the_lowest_step_not_saved(story: DictConnection, session_id: str) -> None:
    # Given a session just started: nothing is saved, and step 1 is both current and next
    assert body_of(context(session_id))["next_step"] == 1
    # When step 2 is saved before step 1 (allowed: at most current + 1), step 1 is still to show
    assert body_of(save(session_id, 2, {}))["next_step"] == 1
    # And once step 1 is saved, the next is step 3
    assert body_of(save(session_id, 1, {}))["next_step"] == 3
    assert body_of(context(session_id))["next_step"] == 3
    # And once every step is saved, there is no next step
    for step in (3, 4, 5):
        last = body_of(save(session_id, step, {}))
    assert (last["completed"], last["next_step"]) == (True, None)
    assert body_of(context(session_id))["next_step"] is None


def test_an_agreed_plan_schedules_its_tasks(story: DictConnection, session_id: str) -> None:
    # Given a draft plan whose tasks are proposals (pending)
    statuses = "SELECT completed, phase_1_tasks || phase_2_tasks || phase_3_tasks AS tasks FROM demo_strategic_plans"
    draft = one(story, statuses)
    assert draft["completed"] is False and {t["status"] for t in draft["tasks"]} == {"pending"}
    # When the planning session completes
    for step in range(1, 6):
        save(session_id, step, {})
    # Then the plan is completed and every task is scheduled: planning is done, the work is not
    agreed = one(story, statuses)
    assert agreed["completed"] is True
    assert [t["status"] for t in agreed["tasks"]] == ["scheduled"] * len(draft["tasks"])
    assert [t | {"status": "pending"} for t in agreed["tasks"]] == draft["tasks"]
    plan = body_of(context(session_id))["strategic_plan"]
    assert plan["completed"] is True and {t["status"] for t in plan["phase_1_tasks"]} == {"scheduled"}


def test_malformed_step_json_is_a_400(story: DictConnection, session_id: str) -> None:
    before = row(story, session_id)
    response = save(session_id, None, raw='{"step": 2, "data": {')
    assert response["statusCode"] == 400 and body_of(response)["error"]["code"] == "malformed_json"
    assert row(story, session_id) == before


def test_unknown_session_is_a_404(story: DictConnection) -> None:
    assert body_of(save("wf-nope", 1))["error"]["code"] == "session_not_found"
    assert context("wf-nope")["statusCode"] == 404


def test_completed_session_is_a_409(story: DictConnection, session_id: str) -> None:
    for step in range(1, 6):
        save(session_id, step)
    before = row(story, session_id)
    response = save(session_id, 2, {"late": True})
    assert response["statusCode"] == 409 and body_of(response)["error"]["code"] == "session_completed"
    assert row(story, session_id) == before


def test_concurrent_step_writes_lose_nothing(story: DictConnection, session_id: str) -> None:
    for step in (1, 2, 3):
        workflows.save_step(session_id, step, {"v": 0})
    rounds = 25

    def writer(step: int) -> None:
        try:
            for n in range(1, rounds + 1):
                workflows.save_step(session_id, step, {"v": n})
        finally:
            db.close()

    threads = [threading.Thread(target=writer, args=(step,)) for step in (1, 2, 3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert row(story, session_id)["data"] == {f"step_{s}": {"v": rounds} for s in (1, 2, 3, 4)}


def test_context_has_every_step_the_customer_and_the_plan(story: DictConnection, session_id: str) -> None:
    save(session_id, 1, {"a": 1})
    save(session_id, 2, {"b": [1, 2]})
    body = body_of(context(session_id))
    assert body["data"] == {"step_1": {"a": 1}, "step_2": {"b": [1, 2]}}
    assert (body["current_step"], body["next_step"], body["total_steps"], body["completed"]) == (2, 3, 5, False)
    assert body["created_at"] <= body["updated_at"]
    assert body["customer_context"]["name"] == "Obsidian Black" and body["customer_context"]["health_score"] == 4.2
    plan = body["strategic_plan"]
    assert plan["plan_id"] == "aco-plan-001" and plan["success_probability"] == 78
    assert [len(plan[f"phase_{n}_tasks"]) for n in (1, 2, 3)] == [3, 4, 4]
    assert plan["phase_1_tasks"][0] == {"task": "Respond to Marcus email", "due": "Day 1", "status": "pending"}


def test_risk_detection_context_has_no_plan(story: DictConnection) -> None:
    session = body_of(start(workflow_type="risk_detection"))["session_id"]
    assert body_of(context(session))["strategic_plan"] is None


def test_sessions_survive_a_new_container(story: DictConnection, session_id: str) -> None:
    save(session_id, 1, {"kept": True})
    db.close()  # the container's connection is gone, as after a cold start
    assert body_of(context(session_id))["data"] == {"step_1": {"kept": True}}


def test_skipping_ahead_to_the_last_step_is_skipping_ahead_not_out_of_range(
    story: DictConnection, session_id: str
) -> None:
    # Given a five-step session just started (its current step is 1), When its last step is saved first
    before = row(story, session_id)
    error = body_of(save(session_id, 5, {}))["error"]
    # Then step 5 is in range: the answer says it skips ahead, and names step 2 as the furthest allowed
    assert error["code"] == "invalid_step"
    assert [(d["type"], d["min"], d["max"]) for d in error["details"]] == [("step_skips_ahead", 1, 2)]
    assert row(story, session_id) == before


def test_the_next_step_runs_through_the_last_one(story: DictConnection, session_id: str) -> None:
    # Given a five-step session, When its steps are saved in order up to the fourth
    # Then after each the next is the one after it, the last step included
    assert [body_of(save(session_id, step, {}))["next_step"] for step in (1, 2, 3, 4)] == [2, 3, 4, 5]
    assert body_of(context(session_id))["next_step"] == 5


def test_a_customer_without_score_or_renewal_date_can_be_planned_for(story: DictConnection) -> None:
    # Given a non-demo customer with neither a health score nor a renewal date yet
    story.execute(
        "INSERT INTO demo_customers (customer_id, slug, name, arr, is_demo) "
        "VALUES ('cust-9', 'initech', 'Initech', 100000, false)"
    )
    # When a planning session is started for it
    response = start("initech")
    # Then its context says what is unknown as null rather than inventing a risk or a countdown
    assert response["statusCode"] == 201, response["body"]
    context = body_of(response)["context"]
    assert (context["customer_name"], context["risk_level"], context["days_to_renewal"]) == ("Initech", None, None)
