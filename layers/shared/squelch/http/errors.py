"""The one place that turns failures into HTTP responses, all in the ErrorResponse shape.

Clients get a code and a message they can act on; tracebacks go to the log, never to the client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError, ResponseValidationError

from squelch.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    Unauthenticated,
    Unavailable,
)
from squelch.models.errors import ErrorBody, ErrorResponse
from squelch.observability import logger

STATUS_OF: dict[type[DomainError], int] = {
    BadRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    Invalid: 422,
    Unavailable: 503,
}


def error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response[str]:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details or []))
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


def domain_error(error: DomainError) -> Response[str]:
    status = next((code for kind, code in STATUS_OF.items() if isinstance(error, kind)), 400)
    if status >= 500:
        logger.warning("dependency unavailable", extra={"code": error.code}, exc_info=error)
    response = error_response(status, error.code, error.message, error.details)
    if isinstance(error, Unavailable) and error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def invalid_request(error: RequestValidationError) -> Response[str]:
    problems = [_problem(e) for e in error.errors()]
    if any(p["type"] == "json_invalid" for p in problems):
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    summary = "; ".join(f"{'.'.join(map(str, p['loc'])) or 'body'}: {p['msg']}" for p in problems)
    return error_response(422, "invalid_request", f"Invalid request: {summary}", problems)


def not_utf8(_: UnicodeDecodeError) -> Response[str]:
    return error_response(400, "malformed_body", "The request body is not UTF-8 text.")


def invalid_response(error: ResponseValidationError) -> Response[str]:
    logger.error("response failed its own model", extra={"errors": error.errors()})
    return error_response(500, "internal_error", "The server produced an invalid answer; it has been logged.")


def unexpected(error: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")


HANDLERS: dict[type[Exception], Callable[[Any], Response[str]]] = {
    DomainError: domain_error,
    RequestValidationError: invalid_request,
    UnicodeDecodeError: not_utf8,
    ResponseValidationError: invalid_response,
    Exception: unexpected,
}


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    for kind, handler in HANDLERS.items():
        app.exception_handler(kind)(handler)

    def route_not_found(_: Exception) -> Response[str]:
        event = app.current_event
        return error_response(404, "route_not_found", f"No route {event.http_method} {event.path}.")

    app.not_found(route_not_found)


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    """A validation problem without the rejected input echoed back (it may be huge or secret)."""
    return {
        "loc": [part for part in error.get("loc", ()) if part != "body"],
        "msg": error.get("msg", ""),
        "type": error.get("type", ""),
    }
