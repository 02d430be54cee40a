"""GET /api/demo/sandboxes: every sandbox with its checkpoint, anchor day, last activity and owner, for demo users."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import demo
from squelch.http import create_api
from squelch.http.auth import demo_user
from squelch.models.demo import SandboxList
from squelch.observability import observed

app = create_api()


@app.get(
    "/api/demo/sandboxes",
    summary="The sandboxes, the default first (demo group only).",
    tags=["demo"],
    security=[{"DemoJwt": []}],
)
def list_sandboxes() -> SandboxList:
    caller = demo_user(app.current_event.raw_event)
    return demo.sandboxes(demo.Presenter(caller.username, caller.admin))


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
