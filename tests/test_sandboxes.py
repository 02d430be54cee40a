"""Presenter sandboxes: named, isolated copies of the story, chosen per request by X-Demo-Sandbox,
created and reset by the demo reset from a checkpoint, listed and deleted by presenters. The
database keeps them apart (row-level security and the sandbox in every key), so one presenter's
reset or workflow never touches another's rows."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, one, use_environment
from test_demo_reset import reset_event
from test_workflows import with_session

from squelch import db

GET_ROUTES = {
    "CustomerGetFunction": "customer_get.json",
    "ContactsListFunction": "contacts_list.json",
    "OperationsListFunction": "operations_list.json",
    "HealthGetFunction": "health_get.json",
    "TicketsListFunction": "tickets_list.json",
    "OpportunitiesListFunction": "opportunities_list.json",
}
STORY_TABLES = [
    "demo_customers",
    "demo_contacts",
    "demo_operations",
    "demo_support_tickets",
    "demo_contracts",
    "demo_strategic_plans",
    "demo_workflow_state",
    "demo_opportunities",
    "demo_health_components",
    "demo_customer_refs",
]


def in_sandbox(event: dict[str, Any], name: str | None) -> dict[str, Any]:
    if name is not None:
        event["headers"] = {**event["headers"], "x-demo-sandbox": name}
    return event


def reset(name: str | None, checkpoint: str | None = None, **body: Any) -> dict[str, Any]:
    payload = {"confirm": True} | ({"checkpoint": checkpoint} if checkpoint else {}) | body
    return invoke("DemoResetFunction", in_sandbox(reset_event(payload), name))


def created(name: str, checkpoint: str | None = None) -> dict[str, Any]:
    response = reset(name, checkpoint)
    assert response["statusCode"] == 200, response["body"]
    return body_of(response)


def get(function: str, name: str | None) -> dict[str, Any]:
    return invoke(function, in_sandbox(load_event(GET_ROUTES[function]), name))


def rows_of(conn: DictConnection, sandbox: str) -> dict[str, list[str]]:
    """Every row of every story table in one sandbox, as text (the owner sees all sandboxes)."""
    return {
        table: [
            r["r"]
            for r in conn.execute(
                f"SELECT to_jsonb(t)::text AS r FROM {table} t WHERE sandbox = %s ORDER BY 1", [sandbox]
            ).fetchall()
        ]
        for table in STORY_TABLES
    }


def session_ids(conn: DictConnection, sandbox: str) -> list[str]:
    return [
        r["session_id"]
        for r in conn.execute("SELECT session_id FROM demo_workflow_state WHERE sandbox = %s", [sandbox]).fetchall()
    ]


# ---- choosing one


@pytest.mark.parametrize("name", ["", "Acme", "-acme", "a" * 41, "acme_1", "acme rehearsal", "acme/1", "é"])
def test_a_malformed_name_is_a_400_naming_the_header(story: DictConnection, name: str) -> None:
    for function in [*GET_ROUTES, "DemoResetFunction"]:
        event = reset_event() if function == "DemoResetFunction" else load_event(GET_ROUTES[function])
        response = invoke(function, in_sandbox(event, name))
        assert response["statusCode"] == 400, (function, response["body"])
        error = body_of(response)["error"]
        assert error["code"] == "invalid_sandbox" and "X-Demo-Sandbox" in error["message"]


def test_a_name_that_does_not_exist_is_a_404_and_reads_create_nothing(story: DictConnection) -> None:
    for function in GET_ROUTES:
        response = get(function, "nobody-here")
        assert response["statusCode"] == 404, function
        error = body_of(response)["error"]
        assert error["code"] == "sandbox_not_found" and "POST /api/demo/reset" in error["message"]
    assert start_in("nobody-here")["statusCode"] == 404
    assert one(story, "SELECT count(*) AS n FROM demo_sandboxes")["n"] == 1


def test_no_header_and_the_default_header_are_the_same_story(story: DictConnection) -> None:
    for function in GET_ROUTES:
        assert body_of(get(function, None)) == body_of(get(function, "default")), function


# ---- creating, resetting, checkpoints


def test_a_reset_creates_the_sandbox_then_resets_it(story: DictConnection) -> None:
    first = created("acme-rehearsal")
    assert (first["sandbox"], first["checkpoint"], first["created"]) == ("acme-rehearsal", "act1-start", True)
    assert first["anchor_date"] == DEMO_DAY.isoformat() and first["duration_ms"] > 0
    again = created("acme-rehearsal", "act1-planned")
    assert (again["checkpoint"], again["created"]) == ("act1-planned", False)
    logged = one(story, "SELECT sandbox, checkpoint FROM demo_reset_log WHERE reset_id = %s", again["reset_id"])
    assert logged == {"sandbox": "acme-rehearsal", "checkpoint": "act1-planned"}
    assert body_of(get("CustomerGetFunction", "acme-rehearsal"))["name"] == "Obsidian Black"


def test_an_unknown_checkpoint_is_a_422_listing_the_known_ones(story: DictConnection) -> None:
    response = reset("acme", "act2-finale")
    assert response["statusCode"] == 422
    error = body_of(response)["error"]
    assert error["code"] == "unknown_checkpoint"
    assert all(name in error["message"] for name in ("act1-start", "act1-mid-planning", "act1-planned"))
    assert one(story, "SELECT count(*) AS n FROM demo_sandboxes WHERE name = 'acme'")["n"] == 0


def start_in(name: str | None, workflow_type: str = "strategic_planning") -> dict[str, Any]:
    event = load_event("workflow_start.json")
    event["body"] = json.dumps({"customer_id": "aco", "workflow_type": workflow_type})
    return invoke("WorkflowStartFunction", in_sandbox(event, name))


def test_mid_planning_resumes_the_open_session_at_step_three(story: DictConnection) -> None:
    created("rehearsal", "act1-mid-planning")
    resumed = start_in("rehearsal")
    assert resumed["statusCode"] == 200, resumed["body"]
    session = body_of(resumed)
    assert (session["current_step"], session["completed"]) == (2, False)
    saved = body_of(
        invoke(
            "WorkflowContextGetFunction",
            in_sandbox(with_session("workflow_context_get.json", session["session_id"]), "rehearsal"),
        )
    )
    assert sorted(saved["data"]) == ["step_1", "step_2"]
    assert saved["data"]["step_2"]["priority_contact_id"] == "aco-elena"
    assert saved["created_at"].startswith(DEMO_DAY.isoformat())
    assert saved["strategic_plan"]["completed"] is False


def test_planned_has_the_workflow_done_and_the_plan_completed(story: DictConnection) -> None:
    created("rehearsal", "act1-planned")
    [session] = story.execute(
        "SELECT session_id, completed, current_step FROM demo_workflow_state WHERE sandbox = 'rehearsal'"
    ).fetchall()
    assert (session["completed"], session["current_step"]) == (True, 5)
    saved = body_of(
        invoke(
            "WorkflowContextGetFunction",
            in_sandbox(with_session("workflow_context_get.json", session["session_id"]), "rehearsal"),
        )
    )
    assert sorted(saved["data"]) == [f"step_{n}" for n in range(1, 6)] and saved["strategic_plan"]["completed"]
    # A new start meets no open session: it is a new one
    assert start_in("rehearsal")["statusCode"] == 201


@pytest.mark.parametrize("days_ahead", [0, 1])
@pytest.mark.parametrize("checkpoint", ["act1-mid-planning", "act1-planned"])
def test_a_checkpoint_stamps_nothing_later_than_its_reset(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, checkpoint: str, days_ahead: int
) -> None:
    # Given a demo day D of today, or of tomorrow, which is today before 09:00 as far as its sessions'
    # hours (09:00, 09:25 and 10:05 on D) are concerned, whatever the hour the test runs at
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    use_environment(monkeypatch, DEMO_ANCHOR_DATE=day.isoformat(), DEMO_TODAY=None)
    # When a sandbox is reset to the checkpoint
    reset_id = created("early", checkpoint)["reset_id"]
    moment = one(story, "SELECT requested_at FROM demo_reset_log WHERE reset_id = %s", reset_id)["requested_at"]
    # Then the checkpoint's session (the only rows the story stamps on D itself) is not stamped after
    # the moment of the reset
    stamps = one(
        story,
        "SELECT max(created_at) AS created, max(updated_at) AS updated"
        " FROM demo_workflow_state WHERE sandbox = 'early'",
    )
    assert stamps["created"] <= stamps["updated"] <= moment, (moment, stamps)
    # And a step saved now is not earlier than the session it is saved in
    if checkpoint == "act1-mid-planning":
        session_id = body_of(start_in("early"))["session_id"]
        event = in_sandbox(with_session("workflow_step_save.json", session_id), "early")
        event["body"] = json.dumps({"step": 3, "data": {}})
        assert invoke("WorkflowStepSaveFunction", event)["statusCode"] == 200
        saved = one(story, "SELECT created_at, updated_at FROM demo_workflow_state WHERE session_id = %s", session_id)
        assert saved["created_at"] <= saved["updated_at"]


# ---- isolation


def test_each_sandbox_sees_only_its_own_rows(story: DictConnection) -> None:
    # Given three sandboxes whose stories differ
    created("alpha", "act1-planned")
    created("beta")
    story.execute("UPDATE demo_customers SET health_score = 7.5 WHERE sandbox = 'alpha'")
    story.execute("UPDATE demo_customers SET health_score = 2.5 WHERE sandbox = 'beta'")
    story.execute("DELETE FROM demo_support_tickets WHERE sandbox = 'beta' AND ticket_id = 'aco-4891'")
    story.execute("UPDATE demo_contacts SET name = 'Marcus Beta' WHERE sandbox = 'beta' AND contact_id = 'aco-marcus'")
    # Then every route answers each header from its own sandbox
    expected = {None: 4.2, "alpha": 7.5, "beta": 2.5}
    for name, score in expected.items():
        assert body_of(get("CustomerGetFunction", name))["health_score"] == score
        assert body_of(get("HealthGetFunction", name))["overall_health_score"] == score
        tickets = [t["ticket_id"] for t in body_of(get("TicketsListFunction", name))["tickets"]]
        assert ("aco-4891" in tickets) == (name != "beta")
        names = [c["name"] for c in body_of(get("ContactsListFunction", name))["contacts"]]
        assert ("Marcus Beta" in names) == (name == "beta")
        for function in GET_ROUTES:
            assert get(function, name)["statusCode"] == 200
    assert start_in("alpha")["statusCode"] == 201  # alpha's planning session is completed; beta's none
    assert start_in("beta")["statusCode"] == 201


def test_a_session_of_one_sandbox_is_not_found_from_another(story: DictConnection) -> None:
    created("alpha")
    session_id = body_of(start_in("alpha"))["session_id"]
    for name in (None, "default"):
        event = in_sandbox(with_session("workflow_context_get.json", session_id), name)
        assert invoke("WorkflowContextGetFunction", event)["statusCode"] == 404
        step = in_sandbox(with_session("workflow_step_save.json", session_id), name)
        step["body"] = json.dumps({"step": 1, "data": {"from": "elsewhere"}})
        assert invoke("WorkflowStepSaveFunction", step)["statusCode"] == 404
    assert one(story, "SELECT data FROM demo_workflow_state WHERE session_id = %s", session_id)["data"] == {}


def test_resets_deletes_and_workflow_writes_leave_other_sandboxes_untouched(story: DictConnection) -> None:
    created("alpha", "act1-mid-planning")
    created("beta")
    start_in(None)
    for action, touched in [
        (lambda: created("alpha", "act1-planned"), "alpha"),
        (lambda: start_in("beta"), "beta"),
        (lambda: created("default"), "default"),
        (lambda: invoke("SandboxDeleteFunction", delete_event("alpha")), "alpha"),
    ]:
        before = {name: rows_of(story, name) for name in ("default", "alpha", "beta") if name != touched}
        action()
        assert {name: rows_of(story, name) for name in before} == before, touched


def test_two_presenters_reset_while_a_third_reads_the_default_story(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    created("alice")
    created("bob")
    # The time each reset spends inside its function, re-seeding (waiting for an instance is not in it)
    from squelch.domain import demo

    spans: dict[str, list[tuple[float, float]]] = {"alice": [], "bob": []}
    seed = demo.reset

    def timed_reset(*args: Any, **kwargs: Any) -> Any:
        began = time.monotonic()
        try:
            return seed(*args, **kwargs)
        finally:
            spans[args[3]].append((began, time.monotonic()))

    monkeypatch.setattr(demo, "reset", timed_reset)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    stop = threading.Event()
    together = threading.Barrier(2)

    def presenter(name: str) -> None:
        try:
            for checkpoint in ["act1-start", "act1-mid-planning", "act1-planned"] * 3 + ["act1-start"]:
                together.wait()
                response = reset(name, checkpoint)
                statuses[response["statusCode"]] += 1
                if response["statusCode"] != 200:
                    failures.append(response["body"])
        finally:
            db.close()

    def reader() -> None:
        try:
            while not stop.is_set():
                for function in GET_ROUTES:
                    response = get(function, None)
                    if response["statusCode"] != 200:
                        failures.append(response["body"])
                sessions = db.run(
                    lambda conn: conn.execute("SELECT sandbox FROM demo_workflow_state").fetchall(), read_only=True
                )
                if sessions:
                    failures.append(f"the default story shows sessions: {sessions}")
        finally:
            db.close()

    threads = [threading.Thread(target=presenter, args=(n,)) for n in ("alice", "bob")]
    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
        watcher.join()
    assert not failures, failures[:3]
    assert statuses[200] == 20
    assert one(story, "SELECT count(*) AS n FROM demo_workflow_state WHERE sandbox = 'default'")["n"] == 0
    # And the two presenters' resets did run at the same time (each has its own function instance)
    overlapping = [(a, b) for a in spans["alice"] for b in spans["bob"] if a[0] < b[1] and b[0] < a[1]]
    assert len(overlapping) >= 5, f"only {len(overlapping)} of 10 rounds overlapped"


# ---- listing, deleting, limits


def list_event() -> dict[str, Any]:
    return reset_event() | {"routeKey": "GET /api/demo/sandboxes", "rawPath": "/api/demo/sandboxes", "body": None}


def delete_event(name: str) -> dict[str, Any]:
    event = load_event("sandbox_delete.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/api/demo/sandboxes/{name}"
    event["pathParameters"] = {"name": name}
    return event


def test_presenters_list_the_sandboxes(story: DictConnection) -> None:
    created("alpha", "act1-planned")
    listed = body_of(invoke("SandboxesListFunction", load_event("sandboxes_list.json")))["sandboxes"]
    assert [s["name"] for s in listed] == ["default", "alpha"]
    alpha = listed[1]
    assert (alpha["checkpoint"], alpha["anchor_date"], alpha["story_age_days"]) == (
        "act1-planned",
        DEMO_DAY.isoformat(),
        0,
    )
    assert alpha["created_at"] and alpha["last_activity_at"] >= alpha["created_at"]


def test_the_listing_does_not_depend_on_the_header(story: DictConnection) -> None:
    # Given a front end that sends its sandbox's header on every call, as the contract says, and whose
    # sandbox was deleted
    created("alpha")
    assert invoke("SandboxDeleteFunction", delete_event("alpha"))["statusCode"] == 204
    # When it lists the sandboxes with that header, Then it gets the list (which spans every sandbox)
    response = invoke("SandboxesListFunction", in_sandbox(load_event("sandboxes_list.json"), "alpha"))
    assert response["statusCode"] == 200, response["body"]
    assert [s["name"] for s in body_of(response)["sandboxes"]] == ["default"]


def test_deleting_a_sandbox_removes_everything_in_it(story: DictConnection) -> None:
    created("alpha", "act1-mid-planning")
    response = invoke("SandboxDeleteFunction", delete_event("alpha"))
    assert (response["statusCode"], response.get("body") or "") == (204, "")
    assert rows_of(story, "alpha") == {table: [] for table in STORY_TABLES}
    assert get("CustomerGetFunction", "alpha")["statusCode"] == 404
    assert invoke("SandboxDeleteFunction", delete_event("alpha"))["statusCode"] == 404


def test_the_default_sandbox_cannot_be_deleted(story: DictConnection) -> None:
    response = invoke("SandboxDeleteFunction", delete_event("default"))
    assert response["statusCode"] == 409 and body_of(response)["error"]["code"] == "default_sandbox"
    assert get("CustomerGetFunction", None)["statusCode"] == 200


@pytest.mark.parametrize("function", ["SandboxesListFunction", "SandboxDeleteFunction"])
def test_only_presenters_list_and_delete(story: DictConnection, function: str) -> None:
    event = load_event("sandboxes_list.json") if function == "SandboxesListFunction" else delete_event("x")
    event["requestContext"].pop("authorizer")
    assert invoke(function, event)["statusCode"] == 401
    viewer = reset_event(claims={"cognito:groups": ["viewers"]})
    event["headers"]["authorization"] = viewer["headers"]["authorization"]
    event["requestContext"]["authorizer"] = viewer["requestContext"]["authorizer"]
    assert invoke(function, event)["statusCode"] == 403


PRESENTER_FUNCTIONS = ("DemoResetFunction", "SandboxesListFunction", "StoriesListFunction", "SandboxDeleteFunction")


def as_member_of(function: str, groups: object) -> dict[str, Any]:
    """The function's event for a token whose groups claim is `groups`, verified by the gateway."""
    event = {
        "DemoResetFunction": reset_event,
        "SandboxesListFunction": lambda: load_event("sandboxes_list.json"),
        "StoriesListFunction": lambda: load_event("stories_list.json"),
        "SandboxDeleteFunction": lambda: delete_event("alpha"),
    }[function]()
    # the sample events' presenter, who created the sandbox the delete removes
    signed = reset_event(claims={"cognito:groups": groups, "username": "presenter@squelch.example"})
    event["headers"]["authorization"] = signed["headers"]["authorization"]
    event["requestContext"]["authorizer"] = signed["requestContext"]["authorizer"]
    return event


@pytest.mark.parametrize("function", PRESENTER_FUNCTIONS)
def test_groups_that_api_gateway_flattens_alike_are_told_apart(story: DictConnection, function: str) -> None:
    # Given two tokens whose groups API Gateway flattens to the same string "[demo admins]":
    # one in the groups "demo" and "admins", one in the single group "demo admins"
    created("alpha")
    member, lookalike = as_member_of(function, ["demo", "admins"]), as_member_of(function, ["demo admins"])
    flattened = [e["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] for e in (member, lookalike)]
    assert flattened == ["[demo admins]", "[demo admins]"]
    # When each calls the presenter route, then only the member of "demo" is let in
    refused = invoke(function, lookalike)
    assert refused["statusCode"] == 403 and body_of(refused)["error"]["code"] == "not_a_demo_user"
    assert rows_of(story, "alpha") != {table: [] for table in STORY_TABLES}, "the refused call changed nothing"
    assert invoke(function, member)["statusCode"] in (200, 204)


@pytest.mark.parametrize("function", PRESENTER_FUNCTIONS)
@pytest.mark.parametrize("groups", [["my demo"], ["demo admins"], ["my demo", "demo admins"], "my demo"])
def test_a_group_whose_name_holds_demo_and_a_space_is_not_the_demo_group(
    story: DictConnection, function: str, groups: object
) -> None:
    # Given a token whose only groups merely contain the word "demo" ("[my demo]" once flattened)
    created("alpha")
    # When its holder calls a presenter route, then it is refused and the sandbox is still there
    response = invoke(function, as_member_of(function, groups))
    assert response["statusCode"] == 403 and body_of(response)["error"]["code"] == "not_a_demo_user"
    assert rows_of(story, "alpha") != {table: [] for table in STORY_TABLES}


def test_the_limit_refuses_one_more_and_idle_ones_make_room(story: DictConnection, monkeypatch) -> None:
    use_environment(monkeypatch, DEMO_MAX_SANDBOXES="3", DEMO_SANDBOX_TTL_DAYS="14")
    created("alpha")
    created("beta")
    response = reset("gamma")
    assert response["statusCode"] == 409 and body_of(response)["error"]["code"] == "sandbox_limit_reached"
    assert created("alpha")["created"] is False  # resetting an existing one is not creating one
    # When beta has been idle longer than the TTL, creating gamma removes it first
    story.execute("UPDATE demo_sandboxes SET last_activity_at = now() - interval '15 days' WHERE name = 'beta'")
    assert created("gamma")["created"] is True
    names = [r["name"] for r in story.execute("SELECT name FROM demo_sandboxes ORDER BY name").fetchall()]
    assert names == ["alpha", "default", "gamma"]


def test_a_workflow_write_is_activity(story: DictConnection) -> None:
    created("alpha")
    story.execute("UPDATE demo_sandboxes SET last_activity_at = now() - interval '20 days' WHERE name = 'alpha'")
    start_in("alpha")
    assert one(
        story,
        "SELECT last_activity_at > now() - interval '1 minute' AS recent FROM demo_sandboxes WHERE name = 'alpha'",
    )["recent"]


def test_the_database_keeps_sandboxes_apart_even_for_a_query_that_forgets(
    story: DictConnection, runtime_url: str
) -> None:
    created("alpha")
    created("beta")
    with psycopg.connect(runtime_url) as conn:
        # A query with no sandbox in it, in a transaction that names alpha, sees alpha's rows only
        conn.execute("SELECT set_config('squelch.sandbox', 'alpha', true)")
        assert conn.execute("SELECT count(*), count(DISTINCT sandbox) FROM demo_contacts").fetchone() == (2, 1)
        # And cannot write into another sandbox, nor move a row there
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO demo_contacts (sandbox, contact_id, customer_id, name) "
                "VALUES ('beta', 'x', 'aco-001', 'Smuggled')"
            )
        conn.rollback()
        conn.execute("SELECT set_config('squelch.sandbox', 'alpha', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE demo_contacts SET sandbox = 'beta' WHERE contact_id = 'aco-elena'")
        conn.rollback()
        # A transaction that names no sandbox sees nothing at all
        assert conn.execute("SELECT count(*) FROM demo_contacts").fetchone() == (0,)


def test_resets_of_different_sandboxes_do_not_wait_for_each_other(story: DictConnection, app_database: str) -> None:
    created("alpha")
    created("beta")
    # Given alpha's reset is under way (its story lock held, as a running reset holds it)
    with psycopg.connect(app_database) as alpha_reset:
        alpha_reset.execute("SELECT pg_advisory_xact_lock(hashtext('squelch.story'), hashtext('alpha'))")
        # When beta is reset, then it finishes without waiting for alpha
        finished, blocked = threading.Event(), threading.Event()

        def then(action: Any, done: threading.Event) -> None:
            try:
                action()
            finally:
                db.close()
                done.set()

        # And another reset of alpha waits for it in a DemoResetFunction instance (as in Lambda, where
        # each concurrent request has an instance of its own)
        waited = threading.Event()
        second = threading.Thread(target=then, args=(lambda: reset("alpha"), waited))
        second.start()
        wait_for_lock_waiters(alpha_reset, 1)
        worker = threading.Thread(target=then, args=(lambda: reset("beta"), finished))
        worker.start()
        assert finished.wait(10), "beta's reset waited for alpha's"
        assert not waited.is_set()
        # While a write in alpha does wait for alpha's reset
        writer = threading.Thread(target=then, args=(lambda: start_in("alpha"), blocked))
        writer.start()
        assert not blocked.wait(1)
        alpha_reset.rollback()
    assert blocked.wait(10) and waited.wait(10)
    worker.join()
    writer.join()
    second.join()


def wait_for_lock_waiters(conn: psycopg.Connection[Any], count: int, timeout: float = 10) -> None:
    """Until `count` sessions of the database wait for a lock (a row, a transaction, an advisory lock)."""
    deadline = time.monotonic() + timeout
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    with psycopg.connect(conn.info.dsn, password=conn.info.password, autocommit=True) as watcher:
        while (waiting := watcher.execute(query).fetchone()[0]) < count:  # type: ignore[index]
            assert time.monotonic() < deadline, f"{waiting} sessions wait for a lock, not {count}"
            time.sleep(0.01)


@pytest.mark.parametrize("checkpoint", ["act1-mid-planning", "act1-planned"])
def test_a_checkpoint_reads_its_own_sandbox_even_as_the_owner(story: DictConnection, checkpoint: str) -> None:
    # Given another sandbox with a story of its own, and the schema's owner, whom row-level security does not limit
    created("other")
    from squelch.domain import demo

    # When the owner (the migrate function's login) seeds a sandbox from a checkpoint
    demo.reset(story, DEMO_DAY, checkpoint, "owners")
    # Then the checkpoint's session cites its own sandbox's contract and plan, nobody else's
    session = one(story, "SELECT data FROM demo_workflow_state WHERE sandbox = 'owners'")["data"]
    assert session["step_1"]["contract_id"] == "aco-contract-2025"
    if checkpoint == "act1-planned":
        assert session["step_4"]["plan_id"] == "aco-plan-001"
