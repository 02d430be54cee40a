"""What API Gateway (HTTP API, payload format 2.0) does between a client and a function:
pick the route, build the event, turn the function's answer into an HTTP response."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote

from localdev import auth, console_sign_in, cors, docs_page, runtime
from localdev.messages import HttpRequest, HttpResponse
from localdev.template import ROOT, Function, Route, routes

JSON = "application/json"
OPENAPI_DOCUMENT = ROOT / "docs" / "openapi.json"


def error(status: int, code: str, message: str) -> HttpResponse:
    body = json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()
    return HttpResponse(status, {"content-type": JSON}, body)


def find_route(method: str, path: str) -> tuple[Route, Function, dict[str, str]] | None:
    for route, function in routes():
        params = route.match(path)
        if params is not None and route.method == method:
            return route, function, params
    return None


def allowed_methods(path: str) -> list[str]:
    return sorted({route.method for route, _ in routes() if route.match(path) is not None})


def build_event(request: HttpRequest, route: Route, params: dict[str, str]) -> dict[str, Any]:
    now = time.time()
    try:
        body: str | None = request.body.decode() if request.body else None
        encoded = False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(request.body).decode(), True
    route_key = f"{route.method} {route.path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": request.headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": request.headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": request.headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if request.query:
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(request.query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        event["queryStringParameters"] = {key: ",".join(values) for key, values in query.items()}
    if params:
        event["pathParameters"] = params
    if body is not None:
        event["body"] = body
    return event


def to_http(result: Any) -> HttpResponse:
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse(200, {"content-type": JSON}, json.dumps(result).encode())
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    headers = {key.lower(): str(value) for key, value in (result.get("headers") or {}).items()}
    return HttpResponse(int(result["statusCode"]), headers, body)


def handle(request: HttpRequest) -> HttpResponse:
    """Answer as API Gateway would, plus the local-only API reference; CORS on every answer."""
    # HTTP API hands functions the percent-decoded path, in rawPath and in the routing alike.
    request.path = unquote(request.path)
    response = _route(request)
    for name, value in cors.response_headers(request.headers).items():
        response.headers[name] = _merged_vary(response.headers.get(name), value) if name == "vary" else value
    return response


def _merged_vary(ours: str | None, added: str) -> str:
    """The function's Vary with the gateway's names added, not replaced: both say what the answer depends on."""
    names = [n.strip() for n in (ours or "").split(",") if n.strip()]
    known = {n.lower() for n in names}
    return ", ".join(names + [n.strip() for n in added.split(",") if n.strip() and n.strip().lower() not in known])


def _route(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
        return HttpResponse(204, cors.preflight_headers(request.headers), b"")
    if request.method in ("GET", "HEAD") and (reference := _reference(request.path)) is not None:
        return reference
    if (sign_in := console_sign_in.handle(request)) is not None:
        return HttpResponse(*sign_in)
    found = find_route(request.method, request.path)
    if found is None:
        if methods := allowed_methods(request.path):
            response = error(405, "method_not_allowed", f"{request.path} answers {', '.join(methods)} only.")
            response.headers["allow"] = ", ".join(methods)
            return response
        return error(404, "route_not_found", f"No route {request.method} {request.path}.")
    route, function, params = found
    event = build_event(request, route, params)
    if route.authorizer:
        try:
            claims = auth.verify(request.headers.get("authorization"))
        except auth.ExpiredToken:
            # API Gateway's authorizer says why in the same header (its body is {"message": "Unauthorized"}).
            expired = error(401, "token_expired", "The bearer token has expired: sign in again (`make demo-token`).")
            expired.headers["www-authenticate"] = (
                'Bearer error="invalid_token" error_description="the token has expired"'
            )
            return expired
        except auth.InvalidToken:
            return error(401, "unauthenticated", "A valid bearer token is required: `make demo-token` prints one.")
        event["requestContext"]["authorizer"] = {"jwt": {"claims": auth.as_gateway_claims(claims), "scopes": None}}
    try:
        response = to_http(runtime.invoke(function, event))
    except Exception:  # what API Gateway answers when the function itself crashes
        return error(502, "bad_gateway", "The function failed; see the server log.")
    response.function = function.logical_id
    return response


def _reference(path: str) -> HttpResponse | None:
    """The OpenAPI document (docs/openapi.json: `make openapi` writes it, a test keeps it current) and
    the browsable reference, which only the local server serves."""
    if path == "/api/openapi.json":
        return HttpResponse(200, {"content-type": JSON}, OPENAPI_DOCUMENT.read_bytes())
    if path in ("/api/docs", "/api/docs/"):
        return HttpResponse(200, {"content-type": "text/html; charset=utf-8"}, docs_page.PAGE.encode())
    if path.startswith("/api/docs/") and (found := docs_page.asset(path.removeprefix("/api/docs/"))):
        body, content_type = found
        return HttpResponse(200, {"content-type": content_type, "cache-control": "max-age=3600"}, body)
    return None
