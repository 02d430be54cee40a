"""The resolver every route function builds at module level: validation, errors and the body limit
live here once, so a handler holds nothing but its route. CORS is API Gateway's (the HttpApi's
CorsConfiguration): it ignores CORS headers a function sends."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from squelch.db import sandbox
from squelch.http import local_authorizer
from squelch.http.errors import error_response, register_error_handlers

MAX_BODY_BYTES = 256 * 1024
JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;.*)?$", re.IGNORECASE)


SANDBOX_HEADER = "X-Demo-Sandbox"


class Api(APIGatewayHttpResolver):
    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        # API Gateway's authorizer runs before anything else; only under `sam local` is it ours to do.
        authorized = local_authorizer.authorize(event)
        if isinstance(authorized, Response):
            return _as_event_response(authorized)
        event = authorized
        refusal = _refusal(event)
        if refusal:
            return _as_event_response(refusal)
        name = _header(event, SANDBOX_HEADER.lower())
        if name is None:
            name = sandbox.DEFAULT
        elif not sandbox.NAME.fullmatch(name):
            return _as_event_response(
                error_response(
                    400,
                    "invalid_sandbox",
                    f"The {SANDBOX_HEADER} header must be 1-40 characters of a-z, 0-9 and -, "
                    "starting with a letter or digit (no header means the default sandbox).",
                    [
                        {
                            "loc": ["header", SANDBOX_HEADER],
                            "msg": "must match ^[a-z0-9][a-z0-9-]{0,39}$",
                            "type": "pattern",
                        }
                    ],
                )
            )
        with sandbox.using(name):
            return super().resolve(event, context)


def create_api() -> Api:
    app = Api(enable_validation=True, response_validation_error_http_code=500, json_body_deserializer=_parse_json)
    register_error_handlers(app)
    return app


def _refusal(event: Mapping[str, Any]) -> Response[str] | None:
    """Bodies we will not parse at all: too large, or declared as something other than JSON."""
    if _body_size(event) > MAX_BODY_BYTES:
        return error_response(413, "payload_too_large", f"The request body is over {MAX_BODY_BYTES // 1024} KiB.")
    content_type = _header(event, "content-type")
    if event.get("body") and content_type and not JSON_TYPE.match(content_type):
        return error_response(
            415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json."
        )
    return None


def _header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header's value; API Gateway hands them over lower-cased, a hand-made event may not."""
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name), None)


def _parse_json(text: str) -> Any:
    """json.loads, with what it cannot take reported as malformed JSON, not a crash: nesting too deep
    for the parser, and integers longer than Python converts (4,300 digits), which raise ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text[:100], 0) from None
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError):
            raise
        raise json.JSONDecodeError(str(error), text[:100], 0) from None


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode("utf-8", "surrogatepass"))


def _as_event_response(response: Response[str]) -> dict[str, Any]:
    """The payload-2.0 answer for a response built before the resolver runs."""
    return {
        "statusCode": response.status_code,
        "headers": {**response.headers, "Content-Type": response.content_type},
        "body": response.body,
        "isBase64Encoded": False,
        "cookies": [],
    }
