"""POST /api/demo/preflight: warm every route function and check the database, the request's sandbox and
the AI provider, for signed-in demo users; the demo-hours schedule invokes it directly to warm only."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import demo, readiness
from squelch.errors import BadRequest
from squelch.http import create_api
from squelch.http.auth import demo_user
from squelch.models.readiness import ReadinessReport
from squelch.observability import observed

app = create_api()


@app.post(
    "/api/demo/preflight",
    summary="Warm every route function and check the demo: database, your sandbox's story, the AI provider "
    "(demo group).",
    tags=["demo"],
    security=[{"DemoJwt": []}],
    responses={
        200: {
            "description": "The readiness report, ready or not (a database that is down is reported, not a 503).",
            "content": {"application/json": {"model": ReadinessReport}},
        },
        400: {"description": "body_not_accepted: the preflight takes no body."},
        403: {"description": "not_a_demo_user: the token's groups include neither the demo group nor the admin group."},
    },
)
def preflight() -> ReadinessReport:
    caller = demo_user(app.current_event.raw_event)
    if app.current_event.body:  # no option to give: a body is a client that means something else
        raise BadRequest("body_not_accepted", "The preflight takes no body: send the request without one.")
    return readiness.preflight(demo.Presenter(caller.username, caller.admin))


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if readiness.is_warm_all(event):  # the demo-hours schedule, not a request
        return readiness.warm_all("schedule").model_dump(mode="json")
    return app.resolve(event, context)
