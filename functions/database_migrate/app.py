"""The one-off migrate function: applies pending migrations, then seeds the demo story if absent."""

from dataclasses import asdict

from squelch.domain import demo
from squelch.observability import logger, observed


@observed
def lambda_handler(event: dict, context: object) -> dict:
    result = demo.prepare_database()
    logger.info("database prepared", extra=asdict(result))
    return {**asdict(result), "anchor_date": result.anchor_date.isoformat()}
