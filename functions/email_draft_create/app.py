"""POST /api/ai/email-draft: an email from the CSM to one of the customer's contacts."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import insights
from squelch.http import create_api
from squelch.models.ai import EmailDraft, EmailDraftRequest
from squelch.observability import observed

app = create_api(tells_story=True)


@app.post(
    "/api/ai/email-draft",
    summary="Draft an email to a contact, in the CSM's name.",
    tags=["ai"],
    responses={
        200: {"description": "The draft.", "content": {"application/json": {"model": EmailDraft}}},
        409: {"description": "The recipient names several contacts; resend with one of their contact_ids."},
    },
)
def draft_email(request: EmailDraftRequest) -> EmailDraft:
    return insights.email_draft(request.recipient, request.context, request.purpose, request.customer_id)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
