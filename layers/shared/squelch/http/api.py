"""The resolver every route function builds at module level: validation, errors, the body limit,
conditional GETs and compression live here once, so a handler holds nothing but its route. CORS is
API Gateway's (the HttpApi's CorsConfiguration): it ignores CORS headers a function sends."""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Mapping
from typing import Any, cast

import psycopg
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from squelch import db, warmup
from squelch.db import sandbox
from squelch.errors import DomainError
from squelch.http import auth, compression, conditional, local_authorizer
from squelch.http.errors import domain_error, error_response, register_error_handlers

MAX_BODY_BYTES = 256 * 1024
JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;.*)?$", re.IGNORECASE)


SANDBOX_HEADER = "X-Demo-Sandbox"
# Every answer may differ by these: the sandbox, the CORS headers API Gateway adds for an Origin, gzip.
VARY = (SANDBOX_HEADER, "Origin", "Accept-Encoding")


class Api(APIGatewayHttpResolver):
    def __init__(self, *, revalidated: bool = False, tells_story: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.revalidated = revalidated
        self.tells_story = tells_story
        self._fingerprint: bytes | None = None
        self._request = threading.local()

    # Powertools keeps the request being resolved in a class attribute (BaseRouter.current_event) that
    # every resolver of the process shares: where functions run on threads (the local server), a route
    # read another request's event (its path, body and token). Each resolver reads it from its own
    # thread's state instead; in Lambda, one request at a time, the two are the same.
    @property
    def current_event(self) -> APIGatewayProxyEventV2:  # type: ignore[override]
        return cast(APIGatewayProxyEventV2, getattr(self._request, "event", None) or BaseRouter.current_event)

    @property
    def lambda_context(self) -> Any:  # type: ignore[override]
        return getattr(self._request, "context", None) or BaseRouter.lambda_context

    def _route(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """Powertools' routing, validation and route, with this thread's request as the current event."""
        self._request.event, self._request.context = self._to_proxy_event(dict(event)), context
        try:
            return super().resolve(event, context)
        finally:
            self._request.event = self._request.context = None

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        # API Gateway's authorizer runs before anything else; only under `sam local` is it ours to do.
        authorized = local_authorizer.authorize(event)
        if isinstance(authorized, Response):
            return _as_event_response(authorized)
        response = self._answer(authorized, context)
        compression.vary(response.setdefault("headers", {}), *VARY)
        compression.compress(response, _header(authorized, "accept-encoding"))
        return response

    def _answer(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        refusal = _refusal(event) or _token_refusal(event)
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
            if self.revalidated and _method(event) == "GET":
                return self._revalidate(event, context, name)
            return self._route(event, context)

    def _revalidate(self, event: Mapping[str, Any], context: Any, name: str) -> dict[str, Any]:
        """A GET answered with its ETag, or 304 when the client holds the current answer: then one
        statement (the version as committed now) and no route."""
        request = conditional.Revalidation.of(event, name, self._code_fingerprint())
        tags = conditional.client_tags(_header(event, "if-none-match"))
        if tags and tags != conditional.ANY:
            try:
                version = db.story_version(name)
            except (DomainError, psycopg.Error):
                version = None  # the route meets the same failure and answers it its own way
            if version is not None and (held := conditional.matching(tags, request.tag(version))):
                return conditional.not_modified(held)
        with db.reporting_story_version(request.versions.add):
            response = self._route(event, context)
        response.setdefault("headers", {})["Cache-Control"] = conditional.CACHE_CONTROL
        current = request.current_tag() if response.get("statusCode") == 200 else None
        if current is None:
            return response
        # "*" (any current answer) is known to match only now that the route found one.
        if held := current if tags == conditional.ANY else conditional.matching(tags, current):
            return conditional.not_modified(held)
        response["headers"]["ETag"] = conditional.quoted(current)
        return response

    def prepare(self, answer: warmup.Answer | None = None) -> None:
        """What the first request of each route would build, built now (the warm-up's step): Powertools
        makes a route's validation models (its parameters', body's and answer's) on its first request,
        which costs more than the request itself; and the code's fingerprint the ETags carry."""
        for route in self._static_routes + self._dynamic_routes:
            _ = route.dependant, route.body_field
        self._code_fingerprint()

    def _code_fingerprint(self) -> bytes:
        if self._fingerprint is None:
            routes = self._static_routes + self._dynamic_routes
            self._fingerprint = conditional.code_fingerprint(route.func.__code__.co_filename for route in routes)
        return self._fingerprint


def create_api(*, revalidated: bool = False, tells_story: bool = False) -> Api:
    """The resolver of one route function. revalidated: its GET answers carry an ETag and answer
    If-None-Match with 304 (routes whose answer is the sandbox's story, see squelch.http.conditional).
    tells_story: it tells the demo story, so on a day the story does not hold it answers 409
    story_out_of_range (squelch.domain.customers.check_story_holds; the OpenAPI document says so)."""
    app = Api(
        revalidated=revalidated,
        tells_story=tells_story,
        enable_validation=True,
        response_validation_error_http_code=500,
        json_body_deserializer=_parse_json,
    )
    register_error_handlers(app)
    # The module that made it is the handler's: its warm-up prepares this resolver (and no other function's).
    warmup.on_warm_up_of(sys._getframe(1).f_globals.get("__name__", ""), "resolver", app.prepare)
    return app


def _method(event: Mapping[str, Any]) -> str:
    return str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()


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


def _token_refusal(event: Mapping[str, Any]) -> Response[str] | None:
    """On a route the authorizer guards: the 401 for a token that is not an access token of the stack."""
    try:
        auth.verified_token(dict(event))
    except DomainError as error:
        return domain_error(error)
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
