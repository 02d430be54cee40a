"""GET /api/customers/{customer_ref}/operations:
The customer's operations, newest first."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import operations
from squelch.http import create_api
from squelch.models.common import CustomerRef
from squelch.models.operations import OperationList
from squelch.observability import observed

app = create_api(revalidated=True, tells_story=True)


@app.get(
    "/api/customers/<customer_ref>/operations",
    summary="The customer's operations, newest first.",
    tags=["customers"],
)
def list_operations(customer_ref: CustomerRef) -> OperationList:
    return operations.of_customer(customer_ref)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
