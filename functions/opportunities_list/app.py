"""GET /api/customers/{customer_ref}/opportunities:
Expansion opportunities, each with its insight."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import opportunities
from squelch.http import create_api
from squelch.models.common import CustomerRef
from squelch.models.opportunities import OpportunityList
from squelch.observability import observed

app = create_api(revalidated=True, tells_story=True)


@app.get(
    "/api/customers/<customer_ref>/opportunities",
    summary="Expansion opportunities, each with its insight.",
    tags=["customers"],
)
def list_opportunities(customer_ref: CustomerRef) -> OpportunityList:
    return opportunities.of_customer(customer_ref)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
