"""DELETE /api/demo/sandboxes/{name}: remove a sandbox and everything in it, for demo users."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import demo
from squelch.http import create_api
from squelch.http.auth import demo_user
from squelch.models.demo import SandboxName
from squelch.observability import observed

app = create_api()


@app.delete(
    "/api/demo/sandboxes/<name>",
    summary="Delete a sandbox with everything in it (its owner or the admin group; not the default one).",
    tags=["demo"],
    security=[{"DemoJwt": []}],
    responses={
        204: {"description": "Deleted."},
        403: {
            "description": "not_a_demo_user: the token's groups include neither the demo group nor the admin group; "
            "sandbox_owned_by_another: another presenter's sandbox (only its owner or the admin group may)."
        },
        409: {"description": "The default sandbox cannot be deleted."},
    },
)
def delete_sandbox(name: SandboxName) -> Response[None]:
    caller = demo_user(app.current_event.raw_event)
    demo.delete_sandbox(name, demo.Presenter(caller.username, caller.admin))
    return Response(status_code=204, body=None)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
