"""What the HttpApi's JWT authorizer does in AWS, for the local server: verify a bearer token
(signature, expiry, issuer, audience) and hand its claims to the function as API Gateway does.

Tokens are signed with a key kept in .data/ (made on first use); `make demo-token` prints one.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from localdev.template import ROOT

KEY_FILE = ROOT / ".data" / "local-auth.key"
ISSUER = "squelch-local"
AUDIENCE = "squelch-local-demo"
ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired, or for another issuer or audience."""


class ExpiredToken(InvalidToken):
    """The token was good, and its time is up."""


def signing_key(path: Path = KEY_FILE) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip().encode()


def issue_token(
    username: str = "presenter@squelch.local",
    groups: tuple[str, ...] = ("demo",),
    ttl_seconds: int = 12 * 3600,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": username,
        "cognito:username": username,
        "cognito:groups": list(groups),
        "iat": now,
        "exp": now + ttl_seconds,
        **claims,
    }
    return jwt.encode(payload, signing_key(), algorithm=ALGORITHM)


def verify(authorization: str | None) -> dict[str, Any]:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("no bearer token")
    try:
        return jwt.decode(
            token.strip(),
            signing_key(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise ExpiredToken("the token has expired") from error
    except jwt.PyJWTError as error:
        raise InvalidToken(type(error).__name__) from error


def as_gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """HTTP APIs pass every claim as a string, arrays as "[a b]"."""

    def text(value: Any) -> str:
        if isinstance(value, list):
            return "[" + " ".join(map(str, value)) + "]"
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)

    return {key: text(value) for key, value in claims.items()}
