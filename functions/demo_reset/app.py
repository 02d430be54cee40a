"""POST /api/demo/reset: delete the demo data and re-seed the story, for signed-in demo users."""

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
    summary="Reset the demo to a fresh story (demo group only).",
    tags=["demo"],
    security=[{"DemoJwt": []}],
)
def reset_demo(request: Annotated[ResetRequest | None, Body()] = None) -> ResetResponse:
    caller = demo_user(app.current_event.raw_event)
    return demo.reset_demo(request.confirm if request else None, caller.username, caller.source_ip)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
