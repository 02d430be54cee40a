"""GET /api/demo/stories: the story packs a sandbox can tell, with their accounts and checkpoints, for demo users."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import demo
from squelch.http import create_api
from squelch.http.auth import demo_user
from squelch.models.demo import StoryList
from squelch.observability import observed

app = create_api()


@app.get(
    "/api/demo/stories",
    summary="The stories a sandbox can tell, the default first (demo group only).",
    tags=["demo"],
    security=[{"DemoJwt": []}],
)
def list_stories() -> StoryList:
    demo_user(app.current_event.raw_event)  # presenters only, as the sandboxes they are for
    return demo.stories()


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
