"""What the HttpApi's JWT authorizer does in AWS, for the local server: verify a bearer token
(signature, expiry, issuer, audience) and hand its claims to the function as API Gateway does.

Tokens are signed with a key kept in .data/ (made on first use); `make demo-token` prints one. The
rules (issuer, audience, algorithm, what is checked) are the layer's squelch.http.local_authorizer,
which does the same under `sam local`, where `make sam-env` hands the functions this key.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from localdev.template import ROOT
from squelch.http import local_authorizer
from squelch.http.local_authorizer import ALGORITHM, AUDIENCE, ISSUER, ExpiredToken, InvalidToken, as_gateway_claims

KEY_FILE = ROOT / ".data" / "local-auth.key"
__all__ = ["ALGORITHM", "AUDIENCE", "ISSUER", "ExpiredToken", "InvalidToken", "as_gateway_claims"]


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
    """An access token of the local client, shaped as Cognito's (token_use, client_id, username), with
    the aud the local authorizer requires (as PyJWT does) naming the same client."""
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "client_id": AUDIENCE,
        "token_use": "access",
        "sub": username,
        "username": username,
        "cognito:username": username,
        "cognito:groups": list(groups),
        "iat": now,
        "exp": now + ttl_seconds,
        **claims,
    }
    return jwt.encode(payload, signing_key(), algorithm=ALGORITHM)


def verify(authorization: str | None) -> dict[str, Any]:
    return local_authorizer.verify(authorization, signing_key())
