"""The HttpApi's JWT authorizer, done locally: under `sam local`, by the function itself.

In AWS, API Gateway verifies a route's bearer token (signature, expiry, issuer, audience) before the
function runs and hands it the claims. SAM CLI emulates only Lambda authorizers: it skips DemoJwt and
calls the function with no claims. So when, and only when, SAM CLI's emulation runs the function
(it sets AWS_SAM_LOCAL=true in its containers), `authorize` does that part here, with the key and
rules of the local server (`make run`, localdev/gateway.py), which uses this module too: tokens of
`make demo-token`, HS256 with the key in .data/local-auth.key, this issuer and audience. The key
reaches sam local's containers in SAM_LOCAL_AUTH_KEY, from the env-vars file `make sam-env` writes;
the template declares it empty, and a deployed function never sets AWS_SAM_LOCAL, so outside that
emulation the event is passed on untouched and only API Gateway's claims count.

Which routes need a token is the template's choice, the same mapping as the route's Auth, handed
to each function as ROUTE_AUTHORIZER (DemoJwt, or NONE for an open route).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response

from squelch.http.errors import error_response
from squelch.settings import get_settings

ISSUER = "squelch-local"
AUDIENCE = "squelch-local-demo"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iss", "aud", "sub")
OPEN_ROUTE = "NONE"
# What SAM CLI sets in its containers, exactly; anything else is not its emulation.
SAM_LOCAL = "true"
# Shorter keys are not the 64 characters `make sam-env` hands over: a truncated or placeholder value.
MIN_KEY_BYTES = 32
EXPIRED_CHALLENGE = 'Bearer error="invalid_token" error_description="the token has expired"'
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


class InvalidToken(Exception):
    """The token is missing, malformed, forged, not yet valid, or for another issuer or audience."""


class ExpiredToken(InvalidToken):
    """The token was genuine, and its time is up."""


def verify(authorization: str | None, key: bytes, now: float | None = None) -> dict[str, Any]:
    """The claims of a bearer token signed with key, checked as PyJWT's decode checks them for the
    local server (HS256 only; exp, iss, aud and sub required; iat and nbf not in the future; exp
    past means expired), and no more lenient: numeric dates must be JSON numbers, not strings.
    The signature is checked first, so a forged token is never called merely expired."""
    scheme, _, token = (authorization or "").partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3 or not all(_SEGMENT.fullmatch(part) for part in parts):
        raise InvalidToken("not a bearer JWT")
    header, payload = _json_object(parts[0]), _json_object(parts[1])
    if header.get("alg") != ALGORITHM:
        raise InvalidToken("the algorithm must be HS256")
    expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _decode(parts[2])):
        raise InvalidToken("bad signature")
    _check_claims(payload, time.time() if now is None else now)
    return payload


def _check_claims(payload: dict[str, Any], now: float) -> None:
    missing = [claim for claim in REQUIRED_CLAIMS if payload.get(claim) is None]
    if missing:
        raise InvalidToken(f"missing claims: {', '.join(missing)}")
    for claim in ("iat", "nbf"):
        if claim in payload and _number(payload[claim], claim) > now:
            raise InvalidToken(f"not valid yet ({claim})")
    if _number(payload["exp"], "exp") <= now:
        raise ExpiredToken("the token has expired")
    if payload["iss"] != ISSUER:
        raise InvalidToken("another issuer")
    audience = payload["aud"]
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences) or AUDIENCE not in audiences:
        raise InvalidToken("another audience")
    if not isinstance(payload["sub"], str) or not isinstance(payload.get("jti", ""), str):
        raise InvalidToken("sub and jti must be strings")


def _number(value: Any, claim: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) == float("inf"):
        raise InvalidToken(f"{claim} must be a number")
    return int(value)


def _decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidToken("not base64url") from error


def _json_object(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_decode(segment))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InvalidToken("not JSON") from error
    if not isinstance(value, dict):
        raise InvalidToken("not a JSON object")
    return value


def as_gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as HTTP APIs pass them to a function: every value a string, arrays as "[a b]"."""

    def text(value: Any) -> str:
        if isinstance(value, list):
            return "[" + " ".join(map(str, value)) + "]"
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)

    return {key: text(value) for key, value in claims.items()}


def unauthenticated() -> Response[str]:
    return error_response(401, "unauthenticated", "A valid bearer token is required: `make demo-token` prints one.")


def expired() -> Response[str]:
    """API Gateway's authorizer says why only in WWW-Authenticate (its body is {"message": "Unauthorized"})."""
    response = error_response(401, "token_expired", "The bearer token has expired: sign in again (`make demo-token`).")
    response.headers["WWW-Authenticate"] = EXPIRED_CHALLENGE
    return response


def authorize(event: Mapping[str, Any]) -> Mapping[str, Any] | Response[str]:
    """The event as API Gateway would hand it to this function, or the 401 it would answer instead.

    Outside SAM CLI's emulation: the event itself, whatever its Authorization header holds. Under it,
    for a route that needs a token: the event with the verified token's claims, as the authorizer
    passes them; an event that already carries claims (`sam local invoke` with an API Gateway event,
    such as events/demo_reset.json) is one whose authorizer's part is done.
    """
    settings = get_settings()
    if settings.aws_sam_local != SAM_LOCAL or settings.route_authorizer == OPEN_ROUTE:
        return event
    context = event.get("requestContext") or {}
    if ((context.get("authorizer") or {}).get("jwt") or {}).get("claims"):
        return event
    key = settings.sam_local_auth_key.get_secret_value().encode() if settings.sam_local_auth_key else b""
    if len(key) < MIN_KEY_BYTES:
        return error_response(
            401,
            "unauthenticated",
            "Under sam local the functions check tokens with the local key, and none was given: "
            "run `make sam-env`, then start sam local again.",
        )
    authorization = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "authorization"), None)
    try:
        claims = verify(authorization, key)
    except ExpiredToken:
        return expired()
    except InvalidToken:
        return unauthenticated()
    authorizer = {"jwt": {"claims": as_gateway_claims(claims), "scopes": None}}
    return {**event, "requestContext": {**context, "authorizer": authorizer}}
