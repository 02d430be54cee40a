"""The migrate function: applies pending migrations, then seeds the demo story if absent.

Invoked by hand (`sam remote invoke`, `make migrate`) or by CloudFormation on every deploy through
the DatabaseMigrations custom resource; either way it is idempotent.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch import cfn
from squelch.domain import demo
from squelch.observability import logger, observed

# Migrations and the seed take seconds once connected; the rest of the timeout may go to waiting
# for a database created in the same deployment to accept connections.
WORK_SECONDS = 60


def prepare(wait_seconds: float = 0) -> dict[str, Any]:
    result = demo.prepare_database(wait_seconds)
    summary = {
        "migrations_applied": result.migrations_applied,
        "seeded": result.seeded,
        "anchor_date": result.anchor_date.isoformat(),
    }
    if result.runtime_login:
        summary["runtime_login"] = result.runtime_login
    logger.info("database prepared", extra=summary)
    return summary


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    wait_seconds = max(0.0, context.get_remaining_time_in_millis() / 1000 - WORK_SECONDS)
    if cfn.is_request(event):
        return cfn.handle(event, context, lambda: prepare(wait_seconds))
    return prepare(wait_seconds)
