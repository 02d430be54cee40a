"""GET /api/workflows/{session_id}/context: everything saved so far, with the customer's context."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import workflows
from squelch.http import create_api
from squelch.models.common import SessionId
from squelch.models.workflows import WorkflowContext
from squelch.observability import observed

app = create_api(revalidated=True, tells_story=True)


@app.get(
    "/api/workflows/<session_id>/context",
    summary="A workflow session's saved state and its customer's context.",
    tags=["workflows"],
)
def get_context(session_id: SessionId) -> WorkflowContext:
    return workflows.context(session_id)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
