"""The presenters' preflight (POST /api/demo/preflight): every route function warmed at once and the demo
checked (database, the presenter's sandbox and its story, the AI provider), in one readiness report whose
verdict says what to do when it is not ready; in AWS through Lambda's API (botocore's Stubber here), under
make run in the local emulator; and the demo-hours schedule's warm-only invocation."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from conftest import DEMO_DAY, DictConnection, body_of, http_request, invoke, load_event, use_environment
from test_demo_reset import reset_event
from test_warmup import table_counts

from localdev import auth, runtime, template
from squelch.domain import readiness

ROUTE_FUNCTIONS = sorted(
    name for name, function in template.load().items() if function.routes and name != "DemoPreflightFunction"
)


def preflight_event(sandbox: str | None = None, claims: dict[str, Any] | str | None = "default") -> dict[str, Any]:
    event = reset_event(claims=claims)
    preflight = load_event("demo_preflight.json")
    for key in ("routeKey", "rawPath"):
        event[key] = preflight[key]
    event["requestContext"]["routeKey"] = preflight["routeKey"]
    event["requestContext"]["http"]["path"] = preflight["rawPath"]
    event.pop("body", None)
    if sandbox:
        event["headers"]["x-demo-sandbox"] = sandbox
    return event


def preflight(sandbox: str | None = None) -> dict[str, Any]:
    response = invoke("DemoPreflightFunction", preflight_event(sandbox))
    assert response["statusCode"] == 200, response["body"]
    return body_of(response)


def test_the_sample_event_is_the_preflight(story: DictConnection) -> None:
    response = invoke("DemoPreflightFunction", load_event("demo_preflight.json"))
    assert response["statusCode"] == 200 and body_of(response)["verdict"] == "ready"


def test_a_ready_demo_warms_every_route_function_cold_then_warm(story: DictConnection) -> None:
    # Given new containers of every function, and the default sandbox's story seeded today
    runtime.unload_all()
    before = table_counts(story)
    # When a presenter runs the preflight twice
    first = preflight()
    second = preflight()
    # Then every route function but the preflight was warmed, cold the first time, warm the second
    assert [f["function"] for f in first["functions"]] == ROUTE_FUNCTIONS
    assert all(f["state"] == "warm" and f["was_cold"] for f in first["functions"])
    assert not any(f["was_cold"] for f in second["functions"])
    [cold] = next(f for f in first["functions"] if f["function"] == "CustomerGetFunction")["instances"]
    assert cold["cold"] is True and cold["init_ms"] is not None and cold["database"] == "ok"
    assert all(i["init_ms"] is None for f in second["functions"] for i in f["instances"])
    # And the demo is ready: database, sandbox with today's story, canned AI
    assert first["verdict"] == "ready" and first["actions"] == []
    assert first["database"]["state"] == "ok"
    assert first["sandbox"] == {
        "name": "default",
        "exists": True,
        "checkpoint": "act1-start",
        "anchor_date": DEMO_DAY.isoformat(),
        "story_age_days": 0,
        "story_state": "current",
        "todays_story": True,
    }
    assert first["ai"] == {"provider": "canned", "state": "ok", "model_id": None}
    assert first["instances_per_function"] == 1
    # And nothing in the story changed
    assert table_counts(story) == before


def test_each_function_is_warmed_as_many_times_at_once_as_asked(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(monkeypatch, WARM_INSTANCES="3")
    report = preflight()
    assert report["instances_per_function"] == 3
    assert all(len(f["instances"]) == 3 for f in report["functions"])


def test_a_database_that_is_down_is_reported_with_what_to_do(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database nothing listens for
    use_environment(monkeypatch, DATABASE_URL="postgresql://squelch_app@127.0.0.1:1/none?connect_timeout=1")
    runtime.unload_all()
    # When the preflight runs
    report = preflight()
    # Then it answers (no 503): the database named, the sandbox unknown, every function with a database
    # failed on it (the console's page has none)
    assert report["verdict"] == "not_ready"
    assert report["database"] == {"state": "database_unavailable", "connect_ms": None}
    assert report["sandbox"]["exists"] is None and report["sandbox"]["todays_story"] is False
    failed = {f["function"]: f["problem"] for f in report["functions"] if f["state"] == "failed"}
    assert failed == {name: "database_unavailable" for name in ROUTE_FUNCTIONS if name != "ConsoleGetFunction"}
    assert report["actions"][0] == readiness.DATABASE_DOWN.format(code="database_unavailable")


def test_a_missing_sandbox_is_not_ready(story: DictConnection) -> None:
    report = preflight("nobody-made-this")
    assert report["verdict"] == "not_ready"
    assert report["sandbox"]["exists"] is False and report["sandbox"]["story_state"] is None
    assert report["actions"] == [readiness.NO_SANDBOX.format(name="nobody-made-this")]
    assert all(f["state"] == "warm" for f in report["functions"])


def test_a_stale_story_is_not_ready_until_reset(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the default story seeded two days ago
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=2)).isoformat())
    # When the preflight runs
    report = preflight()
    # Then it says the story is not today's, and to reset
    assert report["sandbox"]["story_state"] == "stale" and report["sandbox"]["story_age_days"] == 2
    assert report["sandbox"]["todays_story"] is False
    assert report["verdict"] == "not_ready" and report["actions"] == [readiness.RESET]
    # And after a reset the same presenter is ready
    use_environment(monkeypatch, DEMO_ANCHOR_DATE=None)
    assert invoke("DemoResetFunction", reset_event())["statusCode"] == 200
    assert preflight()["verdict"] == "ready"


def test_bedrock_without_a_model_is_not_ready(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    use_environment(monkeypatch, AI_PROVIDER="bedrock", BEDROCK_MODEL_ID=None)
    report = preflight()
    assert report["ai"] == {"provider": "bedrock", "state": "not_configured", "model_id": None}
    assert report["verdict"] == "not_ready" and len(report["actions"]) == 1


@pytest.mark.parametrize(
    ("claims", "status", "code"),
    [
        (None, 401, "unauthenticated"),
        ({"sub": "u2", "cognito:username": "nobody"}, 403, "not_a_demo_user"),
    ],
)
def test_only_demo_users_may_run_the_preflight(story: DictConnection, claims: Any, status: int, code: str) -> None:
    response = invoke("DemoPreflightFunction", preflight_event(claims=claims))
    assert response["statusCode"] == status and body_of(response)["error"]["code"] == code


@pytest.mark.parametrize("body", ["{}", "null", '{"instances": 3}'])
def test_the_preflight_takes_no_body(story: DictConnection, body: str) -> None:
    event = preflight_event() | {"body": body}
    event["headers"]["content-type"] = "application/json"
    response = invoke("DemoPreflightFunction", event)
    assert response["statusCode"] == 400 and body_of(response)["error"]["code"] == "body_not_accepted"


def test_the_preflight_through_the_local_server(story: DictConnection, server: str) -> None:
    # Given make run's server, which loads every function in its own process
    status, _, body = http_request(f"{server}/api/demo/preflight", "POST", Authorization=f"Bearer {auth.issue_token()}")
    # Then the report lists every route function, warm
    report = json.loads(body)
    assert status == 200 and report["verdict"] == "ready"
    assert {f["function"] for f in report["functions"]} == set(ROUTE_FUNCTIONS)


# ---- in AWS: lambda:InvokeFunction on each function's alias, through boto3 (Stubber: nothing calls AWS) ----


def payload(answer: dict[str, Any]) -> StreamingBody:
    raw = json.dumps(answer).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


WARM = {
    "warm": True,
    "function": "squelch-CustomerGet",
    "cold": True,
    "timings_ms": {"init": 410.2, "secret": 61.0, "connect": 95.5},
    "database": "ok",
}


@pytest.fixture
def lambda_stub(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> Any:
    use_environment(
        monkeypatch,
        WARM_FUNCTIONS="CustomerGetFunction=squelch-CustomerGet:live, HealthGetFunction=squelch-HealthGet:live",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # botocore signs even for a Stubber
    )
    # One warm-up at a time, in WARM_FUNCTIONS' order: a Stubber answers its calls in the order it was given them
    monkeypatch.setattr(readiness, "MAX_CONCURRENT", 1)
    readiness._lambda_client.cache_clear()
    client = readiness._lambda_client()
    with Stubber(client) as stubber:
        yield stubber
    readiness._lambda_client.cache_clear()


def expect_invoke(stubber: Stubber, function: str, response: dict[str, Any]) -> None:
    event = json.dumps({"squelch_warmup": {"reason": "preflight"}}).encode()
    stubber.add_response("invoke", {"StatusCode": 200, **response}, {"FunctionName": function, "Payload": event})


def test_in_aws_each_alias_is_invoked_with_the_warm_up_event(lambda_stub: Stubber) -> None:
    # Given Lambda answering the warm-up of one function, and failing the other's
    expect_invoke(lambda_stub, "squelch-CustomerGet:live", {"Payload": payload(WARM)})
    expect_invoke(
        lambda_stub,
        "squelch-HealthGet:live",
        {"FunctionError": "Unhandled", "Payload": payload({"errorType": "Runtime.ImportModuleError"})},
    )
    # When the preflight runs
    report = preflight()
    # Then each function's answer is reported under its name in the template
    customer, health = report["functions"]
    assert customer["function"] == "CustomerGetFunction" and customer["state"] == "warm" and customer["was_cold"]
    assert customer["instances"][0] | {"round_trip_ms": 0} == {
        "cold": True,
        "init_ms": 410.2,
        "secret_ms": 61.0,
        "connect_ms": 95.5,
        "database": "ok",
        "round_trip_ms": 0,
    }
    assert health == {
        "function": "HealthGetFunction",
        "state": "failed",
        "was_cold": False,
        "instances": [],
        "problem": "function_error:Runtime.ImportModuleError",
    }
    assert report["verdict"] == "not_ready"
    assert report["actions"] == [
        readiness.FUNCTION_FAILED.format(function="HealthGetFunction", problem=health["problem"])
    ]
    lambda_stub.assert_no_pending_responses()


def test_in_aws_a_refused_invocation_is_reported(lambda_stub: Stubber) -> None:
    expect_invoke(lambda_stub, "squelch-CustomerGet:live", {"Payload": payload(WARM)})
    event = json.dumps({"squelch_warmup": {"reason": "preflight"}}).encode()
    lambda_stub.add_client_error(
        "invoke",
        "AccessDeniedException",
        http_status_code=403,
        expected_params={"FunctionName": "squelch-HealthGet:live", "Payload": event},
    )
    report = preflight()
    assert report["functions"][1]["problem"] == "invoke_failed:AccessDeniedException"


class SlowWarmer:
    """Lambda's API when one function is still starting (sam local start-lambda creates one container at a
    time): its warm-up answers only when the test lets it."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.answered = threading.Event()

    def targets(self) -> dict[str, str]:
        return {"CustomerGetFunction": "CustomerGetFunction", "HealthGetFunction": "HealthGetFunction"}

    def invoke(self, target: str, event: dict[str, Any]) -> Any:
        if target == "HealthGetFunction":
            self.released.wait(30)
            self.answered.set()
        return WARM


def test_a_warm_up_still_starting_when_the_time_is_up_is_reported_not_waited_for(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one function that answers at once and one still starting, and the warm-ups' time (normally
    # what API Gateway's 30 s and the function's Timeout leave) set short
    slow = SlowWarmer()
    monkeypatch.setattr(readiness, "warmer", lambda: slow)
    monkeypatch.setattr(readiness, "WARM_UP_SECONDS", 0.5)
    try:
        # When the preflight runs
        report = preflight()
        # Then it answers when the time is up, before the function still starting has answered (not a
        # timeout of its own, which would be a 502), with a report
        assert not slow.answered.is_set()
    finally:
        slow.released.set()
    customer, health = report["functions"]
    assert customer["state"] == "warm" and customer["was_cold"]
    assert health == {
        "function": "HealthGetFunction",
        "state": "failed",
        "was_cold": False,
        "instances": [],
        "problem": readiness.TIMED_OUT,
    }
    # And says what to do: press Get ready again (the function goes on starting meanwhile)
    assert report["verdict"] == "not_ready"
    again = readiness.FUNCTION_FAILED.format(function="HealthGetFunction", problem=readiness.TIMED_OUT)
    assert again in report["actions"]


# ---- the demo-hours schedule ----


def test_the_schedule_warms_every_function_and_checks_nothing_else(story: DictConnection) -> None:
    runtime.unload_all()
    summary = invoke("DemoPreflightFunction", {"squelch_warm_all": {"reason": "schedule"}})
    assert summary["warmed"] == len(ROUTE_FUNCTIONS) and summary["failed"] == []
    assert sorted(summary["was_cold"]) == ROUTE_FUNCTIONS


def test_the_schedules_event_through_the_http_api_is_a_request(story: DictConnection) -> None:
    # Given the schedule's key at the top of API Gateway's event, without a token
    event = preflight_event(claims=None) | {"squelch_warm_all": {"reason": "schedule"}}
    # Then it is the route's request, refused as any unsigned one
    response = invoke("DemoPreflightFunction", event)
    assert response["statusCode"] == 401
