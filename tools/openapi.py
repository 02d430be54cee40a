"""One OpenAPI document for every route of template.yaml, generated from the functions' own
resolvers and pydantic models, with the API's one error shape on every error status.

`make openapi` writes docs/openapi.json; a test fails when that file is stale.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from localdev import runtime, template
from localdev.template import ROOT
from squelch.db import sandbox
from squelch.http import compression, conditional
from squelch.http.api import SANDBOX_HEADER, VARY

DOCUMENT = ROOT / "docs" / "openapi.json"
TITLE = "Squelch Act 1 demo API"
VERSION = "1.0.0"
DESCRIPTION = (
    "The back end of Squelch's Act 1 sales demo. Every error answers "
    '`{"error": {"code", "message", "details"}}`. Customer references are an id (`aco-001`) or a slug (`aco`).'
)
SECURITY_SCHEMES = {
    "DemoJwt": HTTPBearer(
        bearerFormat="JWT",
        description="A token of the HttpApi's JWT authorizer (Cognito by default) whose groups include the demo "
        "group. Locally, `make demo-token` prints one.",
    )
}
ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
SANDBOX_REF = {"$ref": "#/components/parameters/DemoSandbox"}
# Every route reads it (squelch.http.api), so it is declared once and referenced by every operation.
SANDBOX_PARAMETER = {
    "name": SANDBOX_HEADER,
    "in": "header",
    "required": False,
    "description": "The presenter's sandbox (named copy of the story) to work in; without it, the default one. "
    "A malformed name is a 400 invalid_sandbox, an unknown one a 404 sandbox_not_found.",
    "schema": {"type": "string", "pattern": sandbox.NAME.pattern, "default": sandbox.DEFAULT},
}
IF_NONE_MATCH_REF = {"$ref": "#/components/parameters/IfNoneMatch"}
IF_NONE_MATCH_PARAMETER = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the answer the client holds (or a list of them, or *): when it is still the "
    "current answer, the route answers 304 with no body.",
    "schema": {"type": "string"},
}
# The headers of answers: every success response has Vary and may be gzip-coded; the GETs of the
# story (revalidated routes) also have an ETag and their caching rule.
HEADERS = {
    "ETag": {
        "description": "A strong validator of this answer: it changes when the sandbox's story is written to "
        "(reset, refresh, workflow write), the day changes, or the route's code does. Send it back in "
        f"If-None-Match. A gzip-coded answer's tag ends in {conditional.GZIP_SUFFIX}; either validates.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": f"`{conditional.CACHE_CONTROL}`: a browser may keep the answer and always revalidates it.",
        "schema": {"type": "string"},
    },
    "Vary": {
        "description": f"`{', '.join(VARY)}`: the request headers that change the answer.",
        "schema": {"type": "string"},
    },
    "Content-Encoding": {
        "description": f"`gzip` when the answer is {compression.MIN_BYTES} bytes or more and Accept-Encoding "
        "allows gzip; absent otherwise.",
        "schema": {"type": "string", "enum": ["gzip"]},
    },
}
EVERY_ANSWER_HEADERS = ("Vary", "Content-Encoding")
REVALIDATED_HEADERS = ("ETag", "Cache-Control", "Vary", "Content-Encoding")
NOT_MODIFIED = {
    "description": "Not Modified: the If-None-Match tag is the current answer's; no body.",
    "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in ("ETag", "Cache-Control", "Vary")},
}
POWERTOOLS_DESCRIPTIONS = ("Successful Response", "Validation Error", "Response Validation Error")
ERROR_DESCRIPTIONS = {
    "400": "Malformed request: the body is not valid JSON, a required confirmation is missing, or the "
    "X-Demo-Sandbox header is not a sandbox name.",
    "401": "Missing or invalid bearer token.",
    "401-open": "Only when the stack requires sign-in on every route (RequireSignIn=true): a missing or "
    "invalid bearer token.",
    "403": "Signed in, but not allowed.",
    "404": "No such customer, session, sandbox or other named thing.",
    "409": "The request conflicts with the current state.",
    "413": "The request body (any method's) is over 256 KiB.",
    "415": "A body was sent that is not declared as JSON (Content-Type must be application/json).",
    "422": "A field is missing or invalid; details lists each problem.",
    "500": "Unexpected server error; it is logged with the request id.",
    "503": "The database cannot be reached (database_unavailable), has no free connection (database_busy), or "
    "rolled the change back in a conflict with another (database_conflict: nothing was applied); retry shortly.",
}
STORY_OUT_OF_RANGE = (
    "story_out_of_range: today is not in the year before the demo story's renewal, so the story is not told "
    "until its sandbox is reset (POST /api/demo/reset) or refreshed."
)
ERROR_HEADERS = {
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before retrying; sent with database_busy and database_conflict.",
            "required": False,
            "schema": {"type": "integer", "minimum": 1},
        }
    }
}


def _error_statuses(operation: dict[str, Any]) -> list[str]:
    # Any request can name an unknown customer, session, route or sandbox, or a malformed sandbox, and
    # carry a body (a GET's too) that is too large or not JSON; any route wants a token when the stack
    # requires sign-in everywhere (RequireSignIn=true).
    statuses = ["400", "401", "404", "413", "415", "422", "500", "503"]
    if operation.get("security"):
        statuses += ["403"]
    return statuses + [code for code in operation.get("responses", {}) if code in ERROR_DESCRIPTIONS]


def _error_schemas() -> dict[str, Any]:
    from squelch.models.errors import ErrorResponse

    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    definitions = schema.pop("$defs", {})
    return {**definitions, "ErrorResponse": schema}


@cache
def build() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    revalidated: list[dict[str, Any]] = []
    telling: list[dict[str, Any]] = []  # operations that may answer 409 story_out_of_range
    for function in template.load().values():
        if not function.routes:
            continue
        app = runtime.load_module(function).app
        part = app.get_openapi_schema(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        for path, item in part["paths"].items():
            paths.setdefault(path, {}).update(item)
            if app.revalidated and "get" in item:
                revalidated.append(item["get"])
            if app.tells_story:
                telling.extend(item.values())
        schemas.update(part.get("components", {}).get("schemas", {}))
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    schemas.update(_error_schemas())
    for path, item in paths.items():
        for operation in item.values():
            # Powertools names operations {function}_{path}_{method}; the function name is enough.
            operation["operationId"] = operation["operationId"].split("_api_")[0]
            operation["parameters"] = [*operation.get("parameters", []), SANDBOX_REF]
            responses = operation.setdefault("responses", {})
            if any(operation is t for t in telling):
                own = responses.get("409", {}).get("description")
                responses["409"] = {"description": f"{own} Or {STORY_OUT_OF_RANGE}" if own else STORY_OUT_OF_RANGE}
            for status in _error_statuses(operation):
                # A route's own words for an error win over ours; Powertools' generic ones do not.
                described = responses.get(status, {}).get("description")
                responses[status] = {
                    "description": described
                    if described not in (None, *POWERTOOLS_DESCRIPTIONS)
                    else ERROR_DESCRIPTIONS[
                        "401-open" if status == "401" and not operation.get("security") else status
                    ],
                    "content": {"application/json": {"schema": ERROR_REF}},
                    **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {}),
                }
            revalidates = any(operation is r for r in revalidated)
            if revalidates:
                operation["parameters"].append(IF_NONE_MATCH_REF)
                responses["304"] = NOT_MODIFIED
            for status, response in responses.items():
                if status.startswith("2"):
                    names: tuple[str, ...] = REVALIDATED_HEADERS if revalidates else EVERY_ANSWER_HEADERS
                    if status == "204":  # no content to code
                        names = tuple(name for name in names if name != "Content-Encoding")
                    response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in names}
            operation["responses"] = dict(sorted(responses.items()))
            if not any(status.startswith("2") for status in responses):
                raise ValueError(f"{path}: no success response; a route's `responses` must include it")
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "parameters": {"DemoSandbox": SANDBOX_PARAMETER, "IfNoneMatch": IF_NONE_MATCH_PARAMETER},
            "headers": HEADERS,
            "securitySchemes": {
                name: scheme.model_dump(mode="json", by_alias=True, exclude_none=True)
                for name, scheme in SECURITY_SCHEMES.items()
            },
        },
    }


def declared_statuses(document: dict[str, Any] | None = None) -> dict[str, set[int]]:
    """ "METHOD /path" -> the statuses the document says that operation answers."""
    document = document or json.loads(DOCUMENT.read_text())
    return {
        f"{method.upper()} {path}": {int(status) for status in operation["responses"]}
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def undeclared(observed: Iterable[tuple[str, int]], document: dict[str, Any] | None = None) -> dict[str, set[int]]:
    """Of the (route key, status) pairs seen answered, those the document does not declare, by route.
    Route keys the document has no operation for (the console's page, a hand-made event for a path
    no function serves) are not the document's to declare."""
    declared = declared_statuses(document)
    missing: dict[str, set[int]] = {}
    for route, status in observed:
        if route in declared and status not in declared[route]:
            missing.setdefault(route, set()).add(status)
    return missing


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.relative_to(ROOT)} ({len(build()['paths'])} paths)", file=sys.stderr)


if __name__ == "__main__":
    main()
