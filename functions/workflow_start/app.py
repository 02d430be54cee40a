"""POST /api/workflows/start: start a guided workflow, or meet the open session of that customer
and type (201 when created, 200 when it already existed)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import workflows
from squelch.http import create_api
from squelch.models.workflows import SandboxKey, StartedWorkflow, StartWorkflowRequest
from squelch.observability import observed

app = create_api(tells_story=True)


@app.post(
    "/api/workflows/start",
    status_code=201,
    summary="Start a workflow session (or return the open one).",
    tags=["workflows"],
    responses={
        201: {"description": "Started.", "content": {"application/json": {"model": StartedWorkflow}}},
        200: {
            "description": "An open session of this customer and type existed; here it is.",
            "content": {"application/json": {"model": StartedWorkflow}},
        },
        403: {"description": "sandbox_key_required: a private sandbox, and no X-Demo-Sandbox-Key or another key."},
    },
)
def start_workflow(request: StartWorkflowRequest, sandbox_key: SandboxKey = None) -> Response[StartedWorkflow]:
    session, created = workflows.start(request.customer_id, request.workflow_type, sandbox_key)
    return Response(status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=session)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
