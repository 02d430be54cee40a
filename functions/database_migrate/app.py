"""The migrate function: applies pending migrations, then seeds the demo story if absent.

Invoked by hand (`sam remote invoke`, `make migrate`) or by CloudFormation on every deploy through
the DatabaseMigrations custom resource; either way it is idempotent.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch import cfn
from squelch.domain import demo
from squelch.observability import logger, observed


def prepare() -> dict[str, Any]:
    result = demo.prepare_database()
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
    if cfn.is_request(event):
        return cfn.handle(event, context, prepare)
    return prepare()
