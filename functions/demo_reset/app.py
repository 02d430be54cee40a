"""POST /api/demo/reset: reset the request's sandbox (created when new) to a checkpoint of the story,
for signed-in demo users."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import demo
from squelch.http import create_api
from squelch.http.auth import demo_user
from squelch.models.demo import ResetRequest, ResetResponse
from squelch.observability import observed

app = create_api()


@app.post(
    "/api/demo/reset",
    summary="Reset (or create) the sandbox to a checkpoint of a story, with the presenter's names if given (demo "
    "group; its owner or the admin group).",
    tags=["demo"],
    security=[{"DemoJwt": []}],
    responses={
        200: {"description": "Reset (or created).", "content": {"application/json": {"model": ResetResponse}}},
        403: {
            "description": "not_a_demo_user: the token's groups include neither the demo group nor the admin group; "
            "sandbox_owned_by_another: another presenter's sandbox (only its owner or the admin group may)."
        },
        409: {"description": "sandbox_limit_reached: creating one more sandbox than DemoMaxSandboxes allows."},
    },
)
def reset_demo(request: Annotated[ResetRequest | None, Body()] = None) -> ResetResponse:
    caller = demo_user(app.current_event.raw_event)
    asked = request or ResetRequest()
    return demo.reset_demo(
        asked.confirm,
        asked.checkpoint,
        caller.username,
        caller.source_ip,
        admin=caller.admin,
        private=asked.private,
        story=asked.story,
        display=demo.Display(asked.csm_name, asked.account_name),
    )


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
