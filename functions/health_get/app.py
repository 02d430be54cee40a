"""GET /api/customers/{customer_ref}/health:
Health score, its weighted components, churn probability and risk."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import health
from squelch.http import create_api
from squelch.models.common import CustomerRef
from squelch.models.health import Health
from squelch.observability import observed

app = create_api(revalidated=True, tells_story=True)


@app.get(
    "/api/customers/<customer_ref>/health",
    summary="Health score, its weighted components, churn probability and risk.",
    tags=["customers"],
)
def get_health(customer_ref: CustomerRef) -> Health:
    return health.of_customer(customer_ref)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
