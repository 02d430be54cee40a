"""GET /api/customers/{customer_ref}/tickets:
Tickets of the past two weeks and the spike against the normal rate."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import tickets
from squelch.http import create_api
from squelch.models.common import CustomerRef
from squelch.models.tickets import TicketList
from squelch.observability import observed

app = create_api(revalidated=True, tells_story=True)


@app.get(
    "/api/customers/<customer_ref>/tickets",
    summary="Tickets of the past two weeks and the spike against the normal rate.",
    tags=["customers"],
)
def list_tickets(customer_ref: CustomerRef) -> TicketList:
    return tickets.of_customer(customer_ref)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
