"""The resolver every route function builds at module level: validation, errors, body limit and
CORS live here once, so a handler holds nothing but its route."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from squelch.http.cors import cors_headers
from squelch.http.errors import error_response, register_error_handlers

MAX_BODY_BYTES = 256 * 1024


class Api(APIGatewayHttpResolver):
    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if _body_size(event) > MAX_BODY_BYTES:
            response = _as_event_response(
                error_response(413, "payload_too_large", f"The request body is over {MAX_BODY_BYTES // 1024} KiB.")
            )
        else:
            response = super().resolve(event, context)
        response.setdefault("headers", {}).update(cors_headers(event.get("headers") or {}))
        return response


def create_api() -> Api:
    app = Api(enable_validation=True, response_validation_error_http_code=500)
    register_error_handlers(app)
    return app


def _body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode("utf-8", "surrogatepass"))


def _as_event_response(response: Response) -> dict[str, Any]:
    """The payload-2.0 answer for a response built before the resolver runs."""
    return {"statusCode": response.status_code, "headers": {"Content-Type": response.content_type},
            "body": response.body, "isBase64Encoded": False, "cookies": []}
