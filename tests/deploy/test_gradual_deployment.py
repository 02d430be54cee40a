"""DeploymentStrategy, rendered as CloudFormation would create it (stack.py): off (the default) adds nothing;
each other value gives every route function a CodeDeploy deployment group on its alias live, its own error and
throttle alarms as rollback triggers, and the PreTraffic hook, which may invoke the route functions' versions
and report to this stack's deployments only."""

from __future__ import annotations

from typing import Any

import pytest
from stack import ACCOUNT, REGION, Stack, deploy, source

STRATEGIES = [v for v in source()["Parameters"]["DeploymentStrategy"]["AllowedValues"] if v != "off"]
CODEDEPLOY = ("AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup")
HOOK = "DeployPreTrafficFunction"


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def route_functions(stack: Stack) -> set[str]:
    return set(stack.function_of_route().values())


def test_the_parameter_is_off_by_default_and_offers_sams_own_types() -> None:
    parameter = source()["Parameters"]["DeploymentStrategy"]
    assert parameter["Default"] == "off"
    assert STRATEGIES == ["AllAtOnce", "Canary10Percent5Minutes", "Linear10PercentEvery1Minute"]


@pytest.mark.parametrize("snapstart", ["off", "on"])
def test_off_adds_no_codedeploy_no_hook_and_no_update_policy(snapstart: str) -> None:
    stack = deploy(SnapStart=snapstart)
    assert stack.parameters["DeploymentStrategy"] == "off"
    assert not [name for kind in CODEDEPLOY for name in stack.of_type(kind)]
    assert HOOK not in stack.resources and "DeployPreTrafficLogs" not in stack.resources
    assert "CodeDeployServiceRole" not in stack.resources
    assert all("UpdatePolicy" not in alias for alias in stack.of_type("AWS::Lambda::Alias").values())
    # and the routes invoke what they did before: the alias with SnapStart, the function without
    assert bool(stack.of_type("AWS::Lambda::Alias")) == (snapstart == "on")


@pytest.mark.parametrize("snapstart", ["off", "on"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_route_functions_alias_moves_through_codedeploy_after_the_hook(strategy: str, snapstart: str) -> None:
    stack = deploy(DeploymentStrategy=strategy, SnapStart=snapstart)
    [application] = stack.of_type("AWS::CodeDeploy::Application").values()
    assert application["Properties"]["ComputePlatform"] == "Lambda"
    groups = stack.of_type("AWS::CodeDeploy::DeploymentGroup")
    aliases = stack.of_type("AWS::Lambda::Alias")
    routes = route_functions(stack)
    assert len(routes) == 18 and len(groups) == len(routes)
    for route, target in stack.route_targets().items():
        function = stack.function_of_route()[route]
        # The route invokes the alias live, whatever SnapStart says...
        assert target == f"{function}Aliaslive", route
        # ...which CodeDeploy moves, in the function's own deployment group, once the hook said Succeeded
        update = aliases[target]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert update == {
            "ApplicationName": ref("ServerlessDeploymentApplication"),
            "DeploymentGroupName": ref(f"{function}DeploymentGroup"),
            "BeforeAllowTrafficHook": ref(HOOK),
        }
        group = groups[f"{function}DeploymentGroup"]["Properties"]
        assert group["DeploymentConfigName"] == f"CodeDeployDefault.Lambda{strategy}"
        assert group["DeploymentStyle"] == {"DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL"}
        assert group["AutoRollbackConfiguration"]["Enabled"] is True
        assert {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"} <= set(group["AutoRollbackConfiguration"]["Events"])
        # Rolled back when the function's own error or throttle alarm fires (the alarms of this stack)
        name = function.removesuffix("Function")
        alarms = [a["Name"] for a in group["AlarmConfiguration"]["Alarms"]]
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert alarms == [ref(f"{name}ErrorsAlarm"), ref(f"{name}ThrottlesAlarm")]
        for alarm in alarms:
            watched = stack.resources[alarm["Ref"]]["Properties"]
            assert watched["Dimensions"] == [{"Name": "FunctionName", "Value": ref(function)}]
    # Only the route functions publish and shift: the migrate, refresh and hook functions are called as themselves
    assert {a["Properties"]["FunctionName"]["Ref"] for a in aliases.values()} == routes
    assert {"DatabaseMigrateFunction", "StoryRefreshFunction", HOOK}.isdisjoint(routes)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_hook_may_invoke_the_route_functions_versions_and_report_to_this_stacks_deployments_only(
    strategy: str,
) -> None:
    stack = deploy(DeploymentStrategy=strategy)
    hook = stack.resources[HOOK]["Properties"]
    # SAM's CodeDeploy role (AWSCodeDeployRoleForLambda) invokes only hooks named CodeDeployHook_*
    role = stack.resources["CodeDeployServiceRole"]["Properties"]
    assert role["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"]
    assert hook["FunctionName"] == "CodeDeployHook_squelch-act1"  # the stack's name
    # Outside the VPC (the private subnets reach neither the Lambda nor the CodeDeploy API), with the layer's code
    assert "VpcConfig" not in hook
    assert hook["Handler"] == "app.lambda_handler" and hook["Code"]["S3Key"] == "functions-deploy_pre_traffic.zip"
    assert [layer["Ref"][:11] for layer in hook["Layers"]] == ["SharedLayer"]
    invoked = stack.granted(HOOK, "lambda:InvokeFunction")
    # (SAM CLI's LanguageExtensions hands a Sub on as its plain string)
    assert sorted(invoked) == sorted(f"${{{function}.Arn}}:*" for function in route_functions(stack))
    for action in ("codedeploy:GetDeployment", "codedeploy:PutLifecycleEventHookExecutionStatus"):
        assert stack.granted(HOOK, action) == [
            f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:${{ServerlessDeploymentApplication}}/*"
        ]
    every_action = {
        action
        for statement in stack.statements(HOOK)
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }
    assert {action for action in every_action if not action.startswith("xray:")} == {
        "lambda:InvokeFunction",
        "codedeploy:GetDeployment",
        "codedeploy:PutLifecycleEventHookExecutionStatus",
    }, "no secret, no database: the hook reads nothing of the story"
    # Its logs are kept as every function's
    logs = stack.resources["DeployPreTrafficLogs"]["Properties"]
    assert logs["LogGroupName"] == f"/aws/lambda/${{{HOOK}}}"


def _dependencies(stack: Stack) -> dict[str, set[str]]:
    """stack.dependencies() with what each resource's UpdatePolicy names (CloudFormation waits for those too)."""
    graph = stack.dependencies()
    for name, resource in stack.resources.items():
        policy: Any = resource.get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate", {})
        graph[name] |= {v["Ref"] for v in policy.values() if isinstance(v, dict) and "Ref" in v} & set(graph)
    return graph


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_dependency_cycle_through_the_hook(strategy: str) -> None:
    stack = deploy(DeploymentStrategy=strategy, SnapStart="on")
    assert stack.cycle() is None
    graph, done, open_ = _dependencies(stack), set(), []

    def visit(name: str) -> None:
        assert name not in open_, [*open_, name]
        if name in done:
            return
        open_.append(name)
        for needed in graph[name]:
            visit(needed)
        open_.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
    # The hook exists before any alias it guards is updated
    assert HOOK in graph["CustomerGetFunctionAliaslive"]
