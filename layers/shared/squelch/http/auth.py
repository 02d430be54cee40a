"""Who is calling: the claims API Gateway's JWT authorizer verified, and the demo group rule.

The authorizer has already checked the token in the Authorization header (signature, expiry,
issuer, audience) and hands the function its claims, but flattens every array into one string:
groups ["admins", "my demo"] arrive as "[admins my demo]", which cannot be split back exactly.
So the groups are read from the token itself, the very one the authorizer verified (its payload
must repeat the claims the authorizer passed), and compared name by name.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from squelch.errors import Forbidden, Unauthenticated
from squelch.settings import get_settings

# Claims that every JWT the authorizer accepts carries, so the header's token can be recognised.
IDENTIFYING_CLAIMS = ("sub", "iat", "exp")


@dataclass(frozen=True)
class Caller:
    username: str
    source_ip: str | None


def _header(event: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name), None)


def token_payload(authorization: str | None) -> dict[str, Any] | None:
    """The payload of a bearer JWT, unverified; None when there is none or it is not a JWT."""
    scheme, _, token = (authorization or "").partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _same_token(payload: dict[str, Any], claims: dict[str, Any]) -> bool:
    return all(str(payload.get(name)) == str(claims.get(name)) for name in IDENTIFYING_CLAIMS)


def groups_of(payload: dict[str, Any], claim: str) -> list[str]:
    """The group names in the token's claim: a JSON array of names, or one name as a string."""
    value = payload.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [group for group in value if isinstance(group, str)]
    return []


def demo_user(event: dict[str, Any]) -> Caller:
    """The caller, when a signed-in member of the demo group; else 401 or 403."""
    context = event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not claims:
        raise Unauthenticated("unauthenticated", "Sign in first: send Authorization: Bearer <token>.")
    payload = token_payload(_header(event, "authorization"))
    if payload is None or not _same_token(payload, claims):
        raise Unauthenticated("unauthenticated", "The bearer token is not the one the authorizer verified.")
    settings = get_settings()
    if settings.demo_group not in groups_of(payload, settings.demo_groups_claim):
        raise Forbidden("not_a_demo_user", f"Only members of the {settings.demo_group!r} group may do this.")
    username = claims.get("cognito:username") or claims.get("username") or claims.get("sub") or "unknown"
    return Caller(str(username), (context.get("http") or {}).get("sourceIp"))
