"""GET /api/customers/{customer_ref}/contacts:
The customer's contacts, primary first, with days since last contact."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import contacts
from squelch.http import create_api
from squelch.models.common import CustomerRef
from squelch.models.contacts import ContactList
from squelch.observability import observed

app = create_api(revalidated=True, tells_story=True)


@app.get(
    "/api/customers/<customer_ref>/contacts",
    summary="The customer's contacts, primary first, with days since last contact.",
    tags=["customers"],
)
def list_contacts(customer_ref: CustomerRef) -> ContactList:
    return contacts.of_customer(customer_ref)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
