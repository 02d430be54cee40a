"""template.yaml holds what operators expect of the stack (cfn-lint, sam validate and sam build run
in `make check-deploy`; these checks are the project's own rules about the template)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from conftest import EVENTS, ROOT

from localdev.template import _CloudFormationLoader

TEMPLATE: dict[str, Any] = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506


def _expanded(resources: dict[str, Any]) -> dict[str, Any]:
    """The resources with each Fn::ForEach (the functions' log groups and alarms) written out, its
    identifier replaced in keys and strings; tests/deploy proves the same with AWS::LanguageExtensions' code."""
    out: dict[str, Any] = {}
    for key, value in resources.items():
        if not key.startswith("Fn::ForEach::"):
            out[key] = value
            continue
        identifier, collection, fragment = value
        for item in collection:
            text = json.dumps(fragment).replace(f"${{{identifier}}}", item).replace(f"&{{{identifier}}}", item)
            out |= json.loads(text)
    return out


RESOURCES = _expanded(TEMPLATE["Resources"])
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
ROUTE_FUNCTIONS = {k: v for k, v in FUNCTIONS.items() if v["Properties"].get("Events")}


def test_eighteen_routes_the_migrate_function_the_refresh_and_the_deploy_hook() -> None:
    assert len(ROUTE_FUNCTIONS) == 18
    assert set(FUNCTIONS) - set(ROUTE_FUNCTIONS) == {
        "DatabaseMigrateFunction",
        "StoryRefreshFunction",
        "DeployPreTrafficFunction",
    }


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_is_explicit_logged_and_has_a_sample_event(name: str) -> None:
    props = FUNCTIONS[name]["Properties"]
    for event in props.get("Events", {}).values():
        assert event["Type"] == "HttpApi" and "proxy+" not in event["Properties"]["Path"]
        assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}
        assert "Auth" in event["Properties"], "every route says how it is authorized"
    logs = [
        r
        for r in RESOURCES.values()
        if r["Type"] == "AWS::Logs::LogGroup"
        and r["Properties"].get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{name}}}"}
    ]
    assert len(logs) == 1 and logs[0]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    folder = props["CodeUri"].rstrip("/").split("/")[-1]
    assert (EVENTS / f"{folder}.json").exists()
    assert "Handler" not in props and TEMPLATE["Globals"]["Function"]["Handler"] == "app.lambda_handler"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_policies_are_least_privilege(name: str) -> None:
    policies = FUNCTIONS[name]["Properties"]["Policies"]
    if name == "DatabaseMigrateFunction":
        owner = {"Fn::If": ["CreateDatabase", {"Ref": "DatabaseOwnerSecret"}, {"Ref": "DbSecretArn"}]}
        assert policies[0] == {
            "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": owner}]
        }
        assert policies[1] == {"Ref": "RuntimeSecretRead"}
        return
    if name == "ConsoleGetFunction":
        assert policies == [], "the console's page reads no secret and no database"
        return
    if name == "DeployPreTrafficFunction":
        # No secret: it invokes the route functions' versions and reports to this stack's deployments
        [policy] = policies
        actions = {action for statement in policy["Statement"] for action in statement["Action"]}
        assert actions == {
            "codedeploy:GetDeployment",
            "codedeploy:PutLifecycleEventHookExecutionStatus",
            "lambda:InvokeFunction",
        }
        [invoke] = [s for s in policy["Statement"] if s["Action"] == ["lambda:InvokeFunction"]]
        assert invoke["Resource"] == [{"Fn::Sub": f"${{{route}.Arn}}:*"} for route in ROUTE_FUNCTIONS]
        return
    if name == "DemoPreflightFunction":
        assert policies[0] == {"Ref": "RuntimeSecretRead"}
        others = sorted(set(ROUTE_FUNCTIONS) - {name})
        assert sorted(policies[1:], key=str) == sorted(
            ({"LambdaInvokePolicy": {"FunctionName": {"Ref": other}}} for other in others), key=str
        ), "it may invoke the route functions it warms, nothing else"
        return
    assert policies[0] == {"Ref": "RuntimeSecretRead"}
    for extra in policies[1:]:
        assert extra == {"Fn::If": ["UseBedrock", {"Ref": "BedrockInvoke"}, {"Ref": "AWS::NoValue"}]}
    bedrock = RESOURCES["BedrockInvoke"]
    assert bedrock["Condition"] == "UseBedrock"
    statements = bedrock["Properties"]["PolicyDocument"]["Statement"]
    assert {tuple(s["Action"]) for s in statements} == {("bedrock:InvokeModel",)}
    uses_bedrock = len(policies) > 1
    assert uses_bedrock == name.endswith(("AnalysisCreateFunction", "DraftCreateFunction"))


def test_globals_runtime_architecture_tracing_vpc_and_powertools() -> None:
    glob = TEMPLATE["Globals"]["Function"]
    assert (glob["Runtime"], glob["Architectures"], glob["Tracing"]) == ("python3.12", ["arm64"], "Active")
    # The stack's private subnets, or the operator's (what each DatabaseMode makes of it: tests/deploy)
    assert glob["VpcConfig"] == {
        "SubnetIds": {
            "Fn::If": ["CreateDatabase", [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}], {"Ref": "SubnetIds"}]
        },
        "SecurityGroupIds": {
            "Fn::If": ["CreateDatabase", [{"Ref": "FunctionSecurityGroup"}], {"Ref": "SecurityGroupIds"}]
        },
    }
    env = glob["Environment"]["Variables"]
    runtime_secret = {"Fn::If": ["CreateRuntimeSecret", {"Ref": "RuntimeDbSecret"}, {"Ref": "DbRuntimeSecretArn"}]}
    assert env["DB_SECRET_ARN"] == runtime_secret
    assert env["DB_PROXY_ENDPOINT"] == {
        "Fn::If": ["CreateDatabaseProxy", {"Fn::GetAtt": "RdsProxy.Endpoint"}, {"Ref": "RdsProxyEndpoint"}]
    }
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"} <= set(env)


def test_http_api_has_fail_on_warnings_cors_access_logs_and_the_jwt_authorizer() -> None:
    api = RESOURCES["HttpApi"]["Properties"]
    assert api["FailOnWarnings"] is True
    assert api["CorsConfiguration"]["AllowOrigins"] == {"Ref": "CorsAllowOrigins"}
    assert api["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": "HttpApiAccessLogs.Arn"}
    jwt = api["Auth"]["Authorizers"]["DemoJwt"]["JwtConfiguration"]
    assert jwt["issuer"]["Fn::If"][0] == "CreateUserPool" and jwt["audience"][0]["Fn::If"][0] == "CreateUserPool"
    assert {"UserPool", "UserPoolClient", "DemoUserGroup"} <= set(RESOURCES)


def test_presenter_routes_always_need_the_authorizer_and_the_others_follow_require_sign_in() -> None:
    """What each choice makes of these is proven by the SAM transform in tests/deploy."""
    ai_rule = {
        "Fn::FindInMap": ["AiRouteAuthorizer", {"Ref": "AiProvider"}, {"Fn::Sub": "${RequireSignIn}${OpenAiRoutes}"}]
    }
    for name, function in ROUTE_FUNCTIONS.items():
        [event] = function["Properties"]["Events"].values()
        if name in (
            "DemoResetFunction",
            "SandboxesListFunction",
            "StoriesListFunction",
            "SandboxDeleteFunction",
            "DemoPreflightFunction",
        ):
            expected: object = "DemoJwt"
        elif name == "ConsoleGetFunction":
            expected = "NONE"  # the page holds no data, and signing in starts there
        elif name.endswith(("AnalysisCreateFunction", "DraftCreateFunction")):
            expected = ai_rule
        else:
            expected = {"Fn::FindInMap": ["RouteAuthorizer", {"Ref": "RequireSignIn"}, "Name"]}
        assert event["Properties"]["Auth"]["Authorizer"] == expected, name


def test_the_preflight_warms_every_other_route_function_on_the_alias_its_route_targets() -> None:
    env = ROUTE_FUNCTIONS["DemoPreflightFunction"]["Properties"]["Environment"]["Variables"]
    names, qualifier = env["WARM_FUNCTIONS"]["Fn::Sub"]
    pairs = dict(pair.split("=") for pair in names.split(","))
    assert set(pairs) == set(ROUTE_FUNCTIONS) - {"DemoPreflightFunction"}
    assert all(target == f"${{{name}}}${{Q}}" for name, target in pairs.items())
    assert qualifier == {
        "Q": {"Fn::FindInMap": ["RouteQualifier", {"Ref": "SnapStart"}, {"Ref": "DeploymentStrategy"}]}
    }
    # Whatever SnapStart and DeploymentStrategy say, the qualifier names the alias the routes invoke
    aliases, qualifiers = TEMPLATE["Mappings"]["RouteAlias"], TEMPLATE["Mappings"]["RouteQualifier"]
    assert {snap: set(by) for snap, by in qualifiers.items()} == {snap: set(by) for snap, by in aliases.items()}
    assert all(
        qualifiers[snap][strategy] == (f":{alias}" if alias else "")
        for snap, by_strategy in aliases.items()
        for strategy, alias in by_strategy.items()
    )
    assert env["WARM_INSTANCES"] == {"Ref": "WarmInstances"}


def test_layer_is_built_by_sam_for_python312_on_arm64() -> None:
    layer = RESOURCES["SharedLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/shared/"
    assert layer["Metadata"] == {"BuildMethod": "python3.12", "BuildArchitecture": "arm64"}
    assert (ROOT / "layers" / "shared" / "requirements.txt").exists()


def test_migrations_run_on_every_deploy_through_a_custom_resource() -> None:
    migrations = RESOURCES["DatabaseMigrations"]
    assert migrations["Type"] == "Custom::DatabaseMigrations"
    assert migrations["Properties"]["ServiceToken"] == {"Fn::GetAtt": "DatabaseMigrateFunction.Arn"}
    assert migrations["Properties"]["LayerVersion"] == {"Ref": "SharedLayer"}


def test_outputs_tell_operators_what_they_need() -> None:
    assert {
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "AddDemoUser",
        "MigrateFunctionName",
        "RefreshFunctionName",
        "ConsoleUrl",
        "ConsoleSignInUrl",
        "ConsoleClientId",
        "DatabaseEndpoint",
        "DatabaseSecretArn",
    } <= set(TEMPLATE["Outputs"])


def test_the_daily_refresh_runs_early_each_morning_utc_unless_turned_off() -> None:
    """What the schedule makes of each choice is proven by the SAM transform in tests/deploy."""
    schedule = TEMPLATE["Parameters"]["RefreshSchedule"]
    assert schedule["Default"] == "cron(30 4 * * ? *)"
    assert TEMPLATE["Conditions"]["RefreshOnSchedule"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "RefreshSchedule"}, ""]}]
    }
    rule, permission = RESOURCES["StoryRefreshSchedule"], RESOURCES["StoryRefreshInvokePermission"]
    assert rule["Condition"] == permission["Condition"] == "RefreshOnSchedule"
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "RefreshSchedule"}
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": "StoryRefreshFunction.Arn"}
    assert permission["Properties"]["SourceArn"] == {"Fn::GetAtt": "StoryRefreshSchedule.Arn"}
