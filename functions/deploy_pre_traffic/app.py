"""CodeDeploy's PreTraffic hook (DeploymentStrategy other than off): invokes each route function's new version
with the warm-up event and reports Succeeded or Failed, so traffic never shifts to a broken version
(squelch.pre_traffic)."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch import pre_traffic
from squelch.observability import observed


@cache
def clients() -> tuple[Any, Any]:
    """CodeDeploy's and Lambda's clients, made at the first deployment (boto3 is the runtime's). Throttling is
    retried: a deploy that changes the layer runs eighteen of these hooks at once. The read timeout is longer
    than a route function's cold start and timeout together."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=40, retries={"mode": "standard", "total_max_attempts": 5})
    return boto3.client("codedeploy", config=config), boto3.client("lambda", config=config)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> str:
    codedeploy, lambda_client = clients()
    return pre_traffic.run(event, codedeploy, lambda_client)
