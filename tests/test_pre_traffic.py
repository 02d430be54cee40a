"""The PreTraffic hook of a gradual deployment (squelch.pre_traffic, functions/deploy_pre_traffic): it
invokes the deployment's new version with the warm-up event and tells CodeDeploy Succeeded only when that
version answers warm with its database ok; Failed for anything else, including a failure to check.
CodeDeploy and Lambda through botocore's Stubber: nothing calls AWS."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from conftest import EVENTS, invoke

from localdev import runtime, template
from squelch import pre_traffic

DEPLOYMENT = "d-EXAMPLE123"
EXECUTION = "eyJlbmNyeXB0ZWREYXRhIjoiRVhBTVBMRSJ9"
EVENT = {"DeploymentId": DEPLOYMENT, "LifecycleEventHookExecutionId": EXECUTION}
FUNCTION = "squelch-act1-CustomerGetFunction-AbC123"
# As CloudFormation writes it for an alias's CodeDeployLambdaAliasUpdate
APPSPEC: dict[str, Any] = {
    "version": 0.0,
    "Resources": [
        {
            "CustomerGetFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Name": FUNCTION, "Alias": "live", "CurrentVersion": "6", "TargetVersion": "7"},
            }
        }
    ],
}
HEALTHY = {
    "warm": True,
    "function": FUNCTION,
    "cold": True,
    "timings_ms": {"init": 812.4, "database": 41.0},
    "database": "ok",
}


def hook_module() -> Any:
    """The hook function's module as the in-process runtime loaded it (what invoke runs)."""
    return runtime.load_module(template.load()["DeployPreTrafficFunction"])


def client(name: str) -> Any:
    session = boto3.session.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    return session.client(name)  # type: ignore[call-overload]  # any service name: the stubs list only some


@pytest.fixture
def aws() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    codedeploy, lambda_client = client("codedeploy"), client("lambda")
    with Stubber(codedeploy) as deploys, Stubber(lambda_client) as lambdas:
        yield codedeploy, deploys, lambda_client, lambdas
        deploys.assert_no_pending_responses()
        lambdas.assert_no_pending_responses()


def deployment(appspec: dict[str, Any] | None = APPSPEC) -> dict[str, Any]:
    revision = {"revisionType": "AppSpecContent"}
    if appspec is not None:
        revision["appSpecContent"] = {"content": json.dumps(appspec), "sha256": "0" * 64}  # type: ignore[assignment]
    return {"deploymentInfo": {"deploymentId": DEPLOYMENT, "applicationName": "app", "revision": revision}}


def expect_deployment(deploys: Stubber, appspec: dict[str, Any] | None = APPSPEC) -> None:
    deploys.add_response("get_deployment", deployment(appspec), {"deploymentId": DEPLOYMENT})


def expect_warmup(lambdas: Stubber, answer: Any, *, function_error: str | None = None, version: str = "7") -> None:
    payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
    response: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(payload), len(payload))}
    if function_error:
        response["FunctionError"] = function_error
    lambdas.add_response(
        "invoke",
        response,
        {"FunctionName": FUNCTION, "Qualifier": version, "Payload": json.dumps(pre_traffic.WARMUP_EVENT).encode()},
    )


def expect_verdict(deploys: Stubber, status: str) -> None:
    deploys.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": EXECUTION},
        {"deploymentId": DEPLOYMENT, "lifecycleEventHookExecutionId": EXECUTION, "status": status},
    )


def test_the_warmup_event_is_the_contracts() -> None:
    assert pre_traffic.WARMUP_EVENT == {"squelch_warmup": {"reason": "pre_traffic"}}


def test_a_new_version_that_answers_warm_with_its_database_is_let_through(aws: Any) -> None:
    # Given a deployment of CustomerGetFunction's version 7, which answers the warm-up as a healthy one does
    codedeploy, deploys, lambda_client, lambdas = aws
    expect_deployment(deploys)
    expect_warmup(lambdas, HEALTHY)
    expect_verdict(deploys, "Succeeded")
    # When the hook runs, Then CodeDeploy hears Succeeded, after the new version (not the alias) was invoked
    assert pre_traffic.run(EVENT, codedeploy, lambda_client) == "Succeeded"


@pytest.mark.parametrize(
    ("answer", "function_error"),
    [
        pytest.param(
            {"errorMessage": "No module named 'squelch'", "errorType": "ImportError"}, "Unhandled", id="error"
        ),
        pytest.param({**HEALTHY, "warm": False}, None, id="not-warm"),
        pytest.param({**HEALTHY, "warm": "true"}, None, id="warm-not-a-boolean"),
        pytest.param({k: v for k, v in HEALTHY.items() if k != "warm"}, None, id="no-warm"),
        pytest.param({**HEALTHY, "database": "unavailable"}, None, id="database-down"),
        pytest.param({k: v for k, v in HEALTHY.items() if k != "database"}, None, id="no-database"),
        # A version without the warm-up answers the event as an API request: an error response, not warm
        pytest.param({"statusCode": 404, "body": "{}"}, None, id="an-http-answer"),
        pytest.param(b"not json", None, id="not-json"),
        pytest.param(None, None, id="null"),
    ],
)
def test_a_new_version_that_does_not_answer_warm_and_healthy_is_refused(
    aws: Any, answer: Any, function_error: str | None
) -> None:
    codedeploy, deploys, lambda_client, lambdas = aws
    expect_deployment(deploys)
    expect_warmup(lambdas, answer, function_error=function_error)
    expect_verdict(deploys, "Failed")
    assert pre_traffic.run(EVENT, codedeploy, lambda_client) == "Failed"


def test_a_version_that_cannot_be_invoked_is_refused(aws: Any) -> None:
    # Given Lambda refusing the invocation (throttled beyond the client's retries, or no permission)
    codedeploy, deploys, lambda_client, lambdas = aws
    expect_deployment(deploys)
    lambdas.add_client_error(
        "invoke",
        "TooManyRequestsException",
        http_status_code=429,
        expected_params={"FunctionName": FUNCTION, "Qualifier": "7", "Payload": ANY},
    )
    expect_verdict(deploys, "Failed")
    assert pre_traffic.run(EVENT, codedeploy, lambda_client) == "Failed"


def test_a_deployment_whose_appspec_cannot_be_read_is_refused_without_invoking_anything(aws: Any) -> None:
    codedeploy, deploys, lambda_client, _ = aws
    expect_deployment(deploys, appspec=None)
    expect_verdict(deploys, "Failed")
    assert pre_traffic.run(EVENT, codedeploy, lambda_client) == "Failed"


def test_a_deployment_that_cannot_be_read_is_refused(aws: Any) -> None:
    codedeploy, deploys, lambda_client, _ = aws
    deploys.add_client_error("get_deployment", "AccessDeniedException", expected_params={"deploymentId": DEPLOYMENT})
    expect_verdict(deploys, "Failed")
    assert pre_traffic.run(EVENT, codedeploy, lambda_client) == "Failed"


def test_every_function_of_the_appspec_is_checked_and_one_refusal_refuses_all(aws: Any) -> None:
    # Given an AppSpec naming two versions, the second broken
    codedeploy, deploys, lambda_client, lambdas = aws
    second = {"Type": "AWS::Lambda::Function", "Properties": {"Name": FUNCTION, "Alias": "live", "TargetVersion": 8}}
    expect_deployment(deploys, {**APPSPEC, "Resources": [*APPSPEC["Resources"], {"Other": second}]})
    expect_warmup(lambdas, HEALTHY)
    expect_warmup(lambdas, {**HEALTHY, "database": "timeout"}, version="8")
    expect_verdict(deploys, "Failed")
    assert pre_traffic.run(EVENT, codedeploy, lambda_client) == "Failed"


def test_when_codedeploy_cannot_be_told_the_hook_fails_loudly(aws: Any) -> None:
    # CodeDeploy then fails the deployment itself when the hook's hour is up: never a silent success
    codedeploy, deploys, lambda_client, lambdas = aws
    expect_deployment(deploys)
    expect_warmup(lambdas, HEALTHY)
    deploys.add_client_error("put_lifecycle_event_hook_execution_status", "LifecycleEventAlreadyCompletedException")
    with pytest.raises(codedeploy.exceptions.LifecycleEventAlreadyCompletedException):
        pre_traffic.run(EVENT, codedeploy, lambda_client)


def test_the_function_reports_through_its_clients(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the hook function loaded as Lambda loads it, its clients the stubbed ones
    codedeploy, deploys, lambda_client, lambdas = aws
    monkeypatch.setattr(hook_module(), "clients", lambda: (codedeploy, lambda_client))
    expect_deployment(deploys)
    expect_warmup(lambdas, HEALTHY)
    expect_verdict(deploys, "Succeeded")
    # When CodeDeploy invokes it with its sample event, Then it reports Succeeded
    assert invoke("DeployPreTrafficFunction", json.loads((EVENTS / "deploy_pre_traffic.json").read_text())) == (
        "Succeeded"
    )


def test_its_clients_retry_throttling_and_wait_out_a_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    app = hook_module()
    app.clients.cache_clear()
    try:
        codedeploy, lambda_client = app.clients()
        config = lambda_client.meta.config
        assert (codedeploy.meta.service_model.service_name, lambda_client.meta.service_model.service_name) == (
            "codedeploy",
            "lambda",
        )
        assert config.retries["mode"] == "standard" and config.retries["total_max_attempts"] == 5
        assert config.read_timeout > 10 + 10  # a route function's timeout and a cold start's init
    finally:
        app.clients.cache_clear()
