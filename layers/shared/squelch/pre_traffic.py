"""CodeDeploy's PreTraffic hook of a gradual deployment (DeploymentStrategy other than off): before any
traffic shifts to a route function's new version, that version is invoked with the warm-up event and must
answer that it is warm and reached the database; CodeDeploy hears Succeeded only then, and Failed otherwise
(the alias then stays on the old version and CloudFormation rolls the stack back).

CodeDeploy names only the deployment; the function and its new version are in the deployment's AppSpec
(`Resources[].<id>.Properties`: Name, Alias, CurrentVersion, TargetVersion), which GetDeployment returns.
Whatever goes wrong while checking, CodeDeploy is told Failed: a hook that reports nothing leaves the
deployment waiting for an hour before it fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from squelch.observability import logger

WARMUP_EVENT = {"squelch_warmup": {"reason": "pre_traffic"}}
SUCCEEDED, FAILED = "Succeeded", "Failed"


@dataclass(frozen=True)
class Target:
    function: str
    version: str

    def __str__(self) -> str:
        return f"{self.function}:{self.version}"


def targets(codedeploy: Any, deployment_id: str) -> list[Target]:
    """The functions and new versions the deployment shifts traffic to, from its AppSpec."""
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    content = info.get("revision", {}).get("appSpecContent", {}).get("content")
    if not content:
        raise ValueError(f"deployment {deployment_id} has no AppSpec content (revision {info.get('revision')!r})")
    found = []
    for resource in json.loads(content).get("Resources", []):
        for spec in resource.values():
            if spec.get("Type") == "AWS::Lambda::Function":
                properties = spec["Properties"]
                found.append(Target(properties["Name"], str(properties["TargetVersion"])))
    if not found:
        raise ValueError(f"deployment {deployment_id}'s AppSpec names no Lambda function")
    return found


def problem(lambda_client: Any, target: Target) -> str | None:
    """Why the version is not fit for traffic, or None when it answers the warm-up as a healthy one does:
    no function error, warm true, database ok."""
    answer = lambda_client.invoke(
        FunctionName=target.function, Qualifier=target.version, Payload=json.dumps(WARMUP_EVENT).encode()
    )
    payload = answer["Payload"].read()
    if answer.get("FunctionError"):
        return f"{target} failed ({answer['FunctionError']}): {payload[:500]!r}"
    try:
        body = json.loads(payload)
    except ValueError:
        return f"{target} answered no JSON: {payload[:200]!r}"
    if not isinstance(body, dict) or body.get("warm") is not True:
        return f"{target} did not warm up: {str(body)[:300]}"
    if body.get("database") != "ok":
        return f"{target} did not reach the database: {body.get('database')!r}"
    logger.info(
        "version ready", extra={"target": str(target), "cold": body.get("cold"), "timings_ms": body.get("timings_ms")}
    )
    return None


def run(event: dict[str, Any], codedeploy: Any, lambda_client: Any) -> str:
    """Checks the deployment's new versions and reports the verdict to CodeDeploy; the verdict."""
    deployment_id = event["DeploymentId"]
    execution_id = event["LifecycleEventHookExecutionId"]
    try:
        problems = [found for target in targets(codedeploy, deployment_id) if (found := problem(lambda_client, target))]
    except Exception as error:  # any failure to check is a verdict, Failed: never silence
        problems = [f"the check itself failed: {type(error).__name__}: {error}"]
    status = FAILED if problems else SUCCEEDED
    if problems:
        logger.error("new version refused", extra={"deployment_id": deployment_id, "problems": problems})
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status
    )
    logger.info("hook reported", extra={"deployment_id": deployment_id, "status": status})
    return status
