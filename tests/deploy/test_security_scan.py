"""What `make security-scan` skips for the whole stack (.checkov.yaml) stays true of every resource it
covers: each check skipped there has its reason written once, beside it, and the reasons a template
change could make untrue are checked here on the stack CloudFormation would create (stack.py)."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from stack import ROOT, SCANS, Stack, deploy, source

CONFIG = ROOT / ".checkov.yaml"


def skipped_for_the_stack() -> list[str]:
    return [str(check) for check in yaml.safe_load(CONFIG.read_text())["skip-check"]]


def test_each_check_skipped_for_the_stack_has_its_reason_above_it_and_nowhere_else() -> None:
    # Given .checkov.yaml's lines
    lines = CONFIG.read_text().splitlines()
    for check in skipped_for_the_stack():
        # Then a comment explains each skipped check, on the lines above it
        at = lines.index(f"  - {check}")
        assert lines[at - 1].strip().startswith("#"), check
    # And no resource of the template repeats a stack-wide skip in its own Metadata
    for name, resource in source()["Resources"].items():
        if isinstance(resource, dict):
            own = [skip["id"] for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]
            assert not set(own) & set(skipped_for_the_stack()), name


def invokers(stack: Stack) -> dict[str, set[str]]:
    """Function (logical id, aliases folded in) -> who may invoke it: a service principal, or "custom
    resource" for CloudFormation calling it as a custom resource's ServiceToken."""
    found: dict[str, set[str]] = {name: set() for name in stack.of_type("AWS::Lambda::Function")}
    for permission in stack.of_type("AWS::Lambda::Permission").values():
        target = permission["Properties"]["FunctionName"]["Ref"].split("Alias")[0]
        found[target].add(permission["Properties"]["Principal"])
    for resource in stack.resources.values():
        if resource["Type"].startswith("Custom::"):
            found[resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]].add("custom resource")
    return found


@pytest.mark.parametrize("scan", sorted(SCANS))
def test_no_function_is_invoked_asynchronously_but_the_retried_refresh(scan: str) -> None:
    """CKV_AWS_116 (a dead-letter queue) is skipped for the stack because of this."""
    # Given the stack a scan checks
    stack = deploy(**SCANS[scan])
    # Then nothing hands a function events to queue: no event source mapping, no SNS or S3 trigger
    assert not stack.of_type("AWS::Lambda::EventSourceMapping")
    assert not stack.of_type("AWS::Lambda::EventInvokeConfig")
    # And API Gateway calls the routes synchronously, CloudFormation its custom resources, EventBridge the refresh
    for function, callers in invokers(stack).items():
        if function == "StoryRefreshFunction":
            assert callers == {"events.amazonaws.com"}
        elif function in ("DatabaseMigrateFunction", "ConsoleClientSettingsFunction"):
            assert callers == {"custom resource"}, function
        elif function == "DeployPreTrafficFunction":
            # CodeDeploy calls the hook with its own role (no permission), and waits an hour at most for its report
            assert callers == set(), function
            assert stack.resources["CustomerGetFunctionAliaslive"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"][
                "BeforeAllowTrafficHook"
            ] == {"Ref": function}
        else:
            assert callers == {"apigateway.amazonaws.com"}, function
    # And EventBridge retries the refresh (a failed run shows in its alarm; the next day's run catches up)
    [rule] = stack.of_type("AWS::Events::Rule").values()
    assert rule["Properties"]["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"] >= 1


@pytest.mark.parametrize("scan", sorted(SCANS))
def test_no_function_environment_holds_a_secret(scan: str) -> None:
    """CKV_AWS_173 (a customer key for the environment) is skipped for the stack because of this."""
    # Given the stack a scan checks
    stack = deploy(**SCANS[scan])
    for function in stack.of_type("AWS::Lambda::Function"):
        environment = json.dumps(stack.environment(function))
        # Then no variable resolves a secret's value into the environment; the functions read secrets by ARN
        assert not re.search(r"\{\{resolve:|SecretString", environment), function
