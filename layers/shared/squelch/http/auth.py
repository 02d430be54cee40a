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
from squelch.http.local_authorizer import ISSUER as LOCAL_ISSUER
from squelch.settings import get_settings

# Claims that every JWT the authorizer accepts carries, so the header's token can be recognised.
IDENTIFYING_CLAIMS = ("sub", "iat", "exp")
# Issuers whose every token says what it is for (token_use): Cognito's user pools, and the local one.
ISSUERS_WITH_TOKEN_USE = ("https://cognito-idp.", LOCAL_ISSUER)
ACCESS = "access"  # the token_use of an access token


@dataclass(frozen=True)
class Caller:
    username: str
    source_ip: str | None
    admin: bool = False  # a member of the admin group: may reset or delete any presenter's sandbox


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


def verified_token(event: dict[str, Any]) -> dict[str, Any] | None:
    """The payload of the token the route's authorizer verified, once it is known to be an access token
    of one of the stack's clients (401 otherwise); None on a route no authorizer guards."""
    claims = _claims(event)
    if not claims:
        return None
    payload = token_payload(_header(event, "authorization"))
    if payload is None or not _same_token(payload, claims):
        raise Unauthenticated("unauthenticated", "The bearer token is not the one the authorizer verified.")
    require_access_token_of_the_stack(payload)
    return payload


def require_access_token_of_the_stack(payload: dict[str, Any]) -> None:
    """The authorizer accepts every token of the issuer for the stack's clients, ID tokens included
    (their aud is the client). Only access tokens are API tokens: their token_use says "access" (every
    Cognito token says what it is for; another provider's may say nothing), and their audience, aud or
    else client_id as API Gateway reads them, is one of JWT_AUDIENCES."""
    token_use = payload.get("token_use")
    says_what_it_is = str(payload.get("iss", "")).startswith(ISSUERS_WITH_TOKEN_USE)
    if token_use != ACCESS and (token_use is not None or says_what_it_is):
        raise Unauthenticated(
            "access_token_required",
            "This is not an access token (an ID token, perhaps): send the access token the sign-in returned.",
        )
    audience = payload.get("aud") if "aud" in payload else payload.get("client_id")
    audiences = audience if isinstance(audience, list) else [audience]
    accepted = get_settings().jwt_audience_list
    if not any(isinstance(a, str) and a in accepted for a in audiences):
        raise Unauthenticated(
            "token_for_another_client", "The token was issued to another application: sign in through this one."
        )


def _claims(event: dict[str, Any]) -> dict[str, Any] | None:
    context = event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    return claims if isinstance(claims, dict) and claims else None


def demo_user(event: dict[str, Any]) -> Caller:
    """The caller, when a signed-in member of the demo group or the admin group; else 401 or 403."""
    payload = verified_token(event)
    if payload is None:
        raise Unauthenticated("unauthenticated", "Sign in first: send Authorization: Bearer <token>.")
    claims = _claims(event) or {}
    context = event.get("requestContext") or {}
    settings = get_settings()
    groups = groups_of(payload, settings.demo_groups_claim)
    admin = settings.demo_admin_group in groups
    if settings.demo_group not in groups and not admin:
        raise Forbidden("not_a_demo_user", f"Only members of the {settings.demo_group!r} group may do this.")
    username = claims.get("cognito:username") or claims.get("username") or claims.get("sub") or "unknown"
    return Caller(str(username), (context.get("http") or {}).get("sourceIp"), admin)
