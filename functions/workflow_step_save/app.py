"""PUT /api/workflows/{session_id}/step: save one step's data; the last step completes the session."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import workflows
from squelch.http import create_api
from squelch.models.common import SessionId
from squelch.models.workflows import SavedStep, SaveStepRequest
from squelch.observability import observed

app = create_api()


@app.put(
    "/api/workflows/<session_id>/step",
    summary="Save a step of a workflow session.",
    tags=["workflows"],
    responses={
        200: {"description": "Saved.", "content": {"application/json": {"model": SavedStep}}},
        409: {"description": "The session is completed."},
    },
)
def save_step(session_id: SessionId, request: SaveStepRequest) -> SavedStep:
    return workflows.save_step(session_id, request.step, request.data)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
