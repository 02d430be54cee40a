"""PUT /api/workflows/{session_id}/step: save one step's data; the last step completes the session."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import workflows
from squelch.http import create_api
from squelch.models.common import SessionId
from squelch.models.workflows import SandboxKey, SavedStep, SaveStepRequest
from squelch.observability import observed

app = create_api()


@app.put(
    "/api/workflows/<session_id>/step",
    summary="Save a step of a workflow session.",
    tags=["workflows"],
    responses={
        200: {"description": "Saved.", "content": {"application/json": {"model": SavedStep}}},
        403: {"description": "sandbox_key_required: a private sandbox, and no X-Demo-Sandbox-Key or another key."},
        409: {"description": "The session is completed."},
        413: {
            "description": "step_data_too_large: the step's data takes over 8 KiB as stored; payload_too_large: the "
            "body is over 256 KiB."
        },
    },
)
def save_step(session_id: SessionId, request: SaveStepRequest, sandbox_key: SandboxKey = None) -> SavedStep:
    return workflows.save_step(session_id, request.step, request.data, sandbox_key)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
