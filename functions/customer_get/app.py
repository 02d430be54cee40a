"""GET /api/customers/{customer_ref}: the customer's profile, by id (aco-001) or slug (aco)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import customers
from squelch.http import create_api
from squelch.models.common import CustomerRef
from squelch.models.customers import CustomerProfile
from squelch.observability import observed

app = create_api(revalidated=True, tells_story=True)


@app.get("/api/customers/<customer_ref>", summary="The customer's profile and current contract.", tags=["customers"])
def get_customer(customer_ref: CustomerRef) -> CustomerProfile:
    return customers.profile(customer_ref)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
