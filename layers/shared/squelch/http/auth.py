"""Who is calling: the claims API Gateway's JWT authorizer verified, and the demo group rule.

The authorizer has already checked signature, expiry, issuer and audience; the function only
reads the claims. HTTP APIs hand array claims over as one string, e.g. "[demo admins]".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from squelch.domain.errors import Forbidden, Unauthenticated
from squelch.settings import get_settings


@dataclass(frozen=True)
class Caller:
    username: str
    source_ip: str | None


def parse_groups(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(group) for group in value]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [group.strip("\"'") for group in re.split(r"[,\s]+", text) if group.strip("\"'")]


def demo_user(event: dict[str, Any]) -> Caller:
    """The caller, when a signed-in member of the demo group; else 401 or 403."""
    context = event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not claims:
        raise Unauthenticated("unauthenticated", "Sign in first: send Authorization: Bearer <token>.")
    group = get_settings().demo_group
    if group not in parse_groups(claims.get("cognito:groups", claims.get("groups"))):
        raise Forbidden("not_a_demo_user", f"Only members of the {group!r} group may do this.")
    username = claims.get("cognito:username") or claims.get("username") or claims.get("sub") or "unknown"
    return Caller(str(username), (context.get("http") or {}).get("sourceIp"))
