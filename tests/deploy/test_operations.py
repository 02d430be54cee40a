"""SnapStart, the Parameters and Secrets extension, alarms, the dashboard, throttling and reserved
concurrency, rendered as CloudFormation would create them (stack.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stack import REGION, Stack, deploy, source

EXTENSION = f"arn:aws:lambda:{REGION}:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:12"
ROUTES = 18  # the API's 17 and the presenter console


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def functions(stack: Stack) -> dict[str, dict[str, Any]]:
    return stack.sam_functions()


def route_functions(stack: Stack) -> set[str]:
    return set(stack.function_of_route().values())


def text(value: Any) -> str:
    """An Fn::Sub's text: SAM CLI's LanguageExtensions hands a Sub on as its plain string."""
    return str(value["Fn::Sub"]) if isinstance(value, dict) else str(value)


def test_with_snapstart_every_route_calls_a_published_version_through_its_alias() -> None:
    stack = deploy(SnapStart="on")
    targets = stack.route_targets()
    assert len(targets) == ROUTES
    aliases = stack.of_type("AWS::Lambda::Alias")
    versions = stack.of_type("AWS::Lambda::Version")
    for route, target in targets.items():
        function = stack.function_of_route()[route]
        # The integration invokes the alias "live" of the route's function...
        assert target == f"{function}Aliaslive", route
        alias = aliases[target]["Properties"]
        assert (alias["Name"], alias["FunctionName"]) == ("live", ref(function))
        # ...which points at a version of that function, published with SnapStart on
        version = alias["FunctionVersion"]["Fn::GetAtt"][0]
        assert versions[version]["Properties"]["FunctionName"] == ref(function)
        assert functions(stack)[function]["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        # and API Gateway may invoke the alias (the permission names it)
        permissions = [
            p["Properties"]
            for p in stack.of_type("AWS::Lambda::Permission").values()
            if p["Properties"]["FunctionName"] == ref(target)
        ]
        assert [p["Principal"] for p in permissions] == ["apigateway.amazonaws.com"], route
    # Nothing else publishes: CloudFormation and the schedule call the migrate and refresh functions themselves
    assert {a["Properties"]["FunctionName"]["Ref"] for a in aliases.values()} == route_functions(stack)
    assert len(versions) == ROUTES


def test_without_snapstart_routes_call_the_functions_and_nothing_is_published() -> None:
    stack = deploy()
    assert stack.parameters["SnapStart"] == "off"
    assert not stack.of_type("AWS::Lambda::Alias") and not stack.of_type("AWS::Lambda::Version")
    for route, target in stack.route_targets().items():
        assert target == stack.function_of_route()[route] and target.endswith("Function"), route
    for name, function in functions(stack).items():
        assert function["Properties"]["SnapStart"] == {"ApplyOn": "None"}, name


def with_layer(content_uri: str) -> Stack:
    """The stack with SnapStart on after `sam package` uploaded the layer to content_uri."""
    import stack as harness

    packaged = harness._as_packaged

    def repackaged(template: dict[str, Any]) -> None:
        packaged(template)
        template["Resources"]["SharedLayer"]["Properties"]["ContentUri"] = content_uri

    harness._as_packaged = repackaged
    try:
        return deploy(SnapStart="on")
    finally:
        harness._as_packaged = packaged


def test_a_new_layer_publishes_new_versions_so_no_alias_keeps_the_old_code() -> None:
    # Given two deploys whose function code is the same but whose layer changed (most changes are there)
    before, after = with_layer("s3://squelch-artifacts/layer-1.zip"), with_layer("s3://squelch-artifacts/layer-2.zip")
    # Then every route function gets a new version (new logical ids), which its alias then points at
    old, new = set(before.of_type("AWS::Lambda::Version")), set(after.of_type("AWS::Lambda::Version"))
    assert len(new) == ROUTES and not old & new
    # and the same layer again publishes nothing new
    assert set(with_layer("s3://squelch-artifacts/layer-1.zip").of_type("AWS::Lambda::Version")) == old


@pytest.mark.parametrize("layer", ["", EXTENSION], ids=["no-extension", "extension"])
def test_the_secrets_extension_is_attached_and_announced_when_its_layer_is_given(layer: str) -> None:
    stack = deploy(SecretsExtensionLayerArn=layer)
    for name, function in functions(stack).items():
        layers = function["Properties"]["Layers"]
        assert layers[0]["Ref"].startswith("SharedLayer"), name
        assert layers[1:] == ([layer] if layer else []), name
        env = stack.environment(name)
        # The port is the layer's switch: set only when the extension is there to answer on it
        assert env["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"] == ("2773" if layer else ""), name
        assert env["SECRETS_MANAGER_TTL"] == "300"
        # Each of them reads a database secret, which is why each gets the extension (the console,
        # which reads none, gets it from Globals too and never calls it)
        if name != "ConsoleGetFunction":
            assert stack.granted(name, "secretsmanager:GetSecretValue"), name


def test_the_extension_parameter_accepts_a_layer_arn_or_nothing() -> None:
    import re

    pattern = re.compile(source()["Parameters"]["SecretsExtensionLayerArn"]["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch(EXTENSION)
    assert not pattern.fullmatch("AWS-Parameters-and-Secrets-Lambda-Extension-Arm64")


@pytest.mark.parametrize("email", ["", "ops@example.com"], ids=["no-email", "email"])
def test_every_function_has_error_and_throttle_alarms_and_they_notify_the_topic(email: str) -> None:
    stack = deploy(AlarmEmail=email)
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    for name in functions(stack):
        for metric in ("Errors", "Throttles"):
            [alarm] = [
                a["Properties"]
                for a in alarms.values()
                if a["Properties"]["Namespace"] == "AWS/Lambda"
                and a["Properties"]["MetricName"] == metric
                and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": ref(name)}]
            ]
            assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
                "Sum",
                1,
                "GreaterThanOrEqualToThreshold",
            )
    [server_errors] = [a["Properties"] for a in alarms.values() if a["Properties"]["MetricName"] == "5xx"]
    assert server_errors["Namespace"] == "AWS/ApiGateway" and server_errors["Statistic"] == "Average"
    assert server_errors["Dimensions"] == [{"Name": "ApiId", "Value": ref("HttpApi")}]
    assert 0 < server_errors["Threshold"] < 1  # a rate: the HTTP API's 5xx metric averages to one
    layer_metrics = {
        a["Properties"]["MetricName"] for a in alarms.values() if a["Properties"]["Namespace"] == "Squelch"
    }
    assert layer_metrics == {"DemoResetFailures", "AIFallbacks"}
    # Notifications: an SNS topic with the address subscribed, on every alarm, only when one is given
    topics = stack.of_type("AWS::SNS::Topic")
    if email:
        [topic] = topics.values()
        assert topic["Properties"]["Subscription"] == [{"Protocol": "email", "Endpoint": email}]
        assert all(a["Properties"]["AlarmActions"] == [ref("AlarmTopic")] for a in alarms.values())
    else:
        assert not topics and all("AlarmActions" not in a["Properties"] for a in alarms.values())
    # and, for a created database, its free storage (test_database.py)
    assert len(alarms) == 2 * len(functions(stack)) + 3 + 1


def test_the_dashboard_shows_requests_latency_errors_resets_and_ai_fallbacks() -> None:
    stack = deploy()
    [dashboard] = stack.of_type("AWS::CloudWatch::Dashboard").values()
    body = text(dashboard["Properties"]["DashboardBody"])
    widgets = json.loads(body.replace("${AWS::Region}", REGION).replace("${HttpApi}", "abc123"))["widgets"]
    titles = [w["properties"]["title"] for w in widgets]
    assert titles == ["Requests", "Latency p95 (ms)", "Errors", "Resets and AI fallbacks"]
    for needle in (
        '"Count", "ApiId", "${HttpApi}"',
        '"stat": "p95"',
        '"5xx"',
        "DemoResets",
        "DemoResetFailures",
        "AIFallbacks",
    ):
        assert needle in body, needle
    assert "DashboardUrl" in stack.outputs


@pytest.mark.parametrize(
    "limits",
    [{}, {"ApiRateLimit": "20", "ApiBurstLimit": "40", "ResetRateLimit": "2", "ResetBurstLimit": "3"}],
    ids=["defaults", "given"],
)
def test_routes_are_throttled_and_the_reset_route_more_tightly(limits: dict[str, str]) -> None:
    stack = deploy(**limits)
    [stage] = stack.of_type("AWS::ApiGatewayV2::Stage").values()
    settings, p = stage["Properties"], stack.parameters
    default = settings["DefaultRouteSettings"]
    assert (str(default["ThrottlingRateLimit"]), str(default["ThrottlingBurstLimit"])) == (
        p["ApiRateLimit"],
        p["ApiBurstLimit"],
    )
    reset = settings["RouteSettings"]["POST /api/demo/reset"]
    assert (str(reset["ThrottlingRateLimit"]), str(reset["ThrottlingBurstLimit"])) == (
        p["ResetRateLimit"],
        p["ResetBurstLimit"],
    )
    # The route exists under that exact key, or API Gateway refuses the stage
    assert "POST /api/demo/reset" in stack.route_targets()
    if not limits:
        assert float(reset["ThrottlingRateLimit"]) < float(settings["DefaultRouteSettings"]["ThrottlingRateLimit"])


@pytest.mark.parametrize("reserved", ["0", "3"])
def test_reserved_concurrency_for_the_reset_and_migrate_functions_only(reserved: str) -> None:
    stack = deploy(ReservedConcurrency=reserved)
    for name, function in functions(stack).items():
        got = function["Properties"].get("ReservedConcurrentExecutions")
        if reserved == "0":
            assert got is None, name
        elif name == "DemoResetFunction":
            assert str(got) == reserved
        elif name == "DatabaseMigrateFunction":
            assert str(got) == "1"
        else:
            assert got is None, name


# ---- demo readiness: the preflight's rights, what it names to warm, and the demo-hours schedule


@pytest.mark.parametrize("snapstart", ["on", "off"])
def test_the_preflight_may_invoke_each_route_function_it_warms_and_names_what_its_route_targets(snapstart: str) -> None:
    stack = deploy(SnapStart=snapstart)
    targets = stack.route_targets()
    others = {function for function in route_functions(stack) if function != "DemoPreflightFunction"}
    # It may invoke each other route function (any qualifier: the alias too), and nothing else; SAM's
    # LambdaInvokePolicy writes function:${Name}*, its Ref left inside the Sub for CloudFormation
    invoked = [s for s in stack.statements("DemoPreflightFunction") if "lambda:InvokeFunction" in json.dumps(s)]
    resources = [str(s["Resource"]) for s in invoked]
    assert all(r.startswith(f"arn:aws:lambda:{REGION}:") and r.endswith("}*") for r in resources)
    named = {name for r in resources for name in others if f"{{'Ref': '{name}'}}" in r}
    assert named == others and len(resources) == len(others)
    # It names each one with what its route's integration invokes: the alias live, or the function itself
    env = functions(stack)["DemoPreflightFunction"]["Properties"]["Environment"]["Variables"]
    warm = text(env["WARM_FUNCTIONS"])
    pairs = dict(pair.split("=", 1) for pair in warm.split(","))
    assert set(pairs) == others
    for route, target in targets.items():
        function = stack.function_of_route()[route]
        if function == "DemoPreflightFunction":
            continue
        suffix = ":live" if target.endswith("Aliaslive") else ""
        assert pairs[function] == f"${{{function}}}{suffix}", route


def test_without_a_warm_schedule_nothing_is_scheduled() -> None:
    stack = deploy()
    assert not stack.of_type("AWS::Scheduler::Schedule")
    assert "WarmUpScheduleRole" not in stack.resources


def test_a_warm_schedule_has_the_preflight_warm_every_function_in_its_time_zone() -> None:
    stack = deploy(WarmSchedule="cron(*/5 8-18 ? * MON-FRI *)", WarmScheduleTimeZone="Europe/Paris")
    [schedule] = stack.of_type("AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(*/5 8-18 ? * MON-FRI *)"
    assert props["ScheduleExpressionTimezone"] == "Europe/Paris"
    target = props["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["DemoPreflightFunction", "Arn"]}
    assert json.loads(target["Input"]) == {"squelch_warm_all": {"reason": "schedule"}}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    # Its role may invoke the preflight only
    role = stack.resources["WarmUpScheduleRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    [statement] = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == {"Fn::GetAtt": ["DemoPreflightFunction", "Arn"]}
