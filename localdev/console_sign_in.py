"""The presenter console's sign-in on this machine: a small OAuth 2 authorization server that does what
the stack's Cognito hosted sign-in does for the console (authorization code with PKCE), and signs a
local presenter in with a token of the local key, the one `make demo-token` uses.

Only local servers answer these paths; the console function has no sign-in code of its own. It reads
where to send presenters from its environment: these paths of `make run`'s server, the sign-in `make
sam-db` serves on a port of its own for the console of `sam local` (localdev.samlocal.SignInServer),
the Cognito domain in AWS.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qs, urlencode, urlsplit

from localdev import auth
from localdev.messages import HttpRequest

# (status, headers, body): the gateway makes its response of it.
Answer = tuple[int, dict[str, str], bytes]

AUTHORIZE_PATH = "/local-sign-in/authorize"
TOKEN_PATH = "/local-sign-in/token"  # noqa: S105 - a path, not a secret
CLIENT_ID = "squelch-local-console"
CONSOLE_PATH = "/console"
# What the console function reads under `make run` (template.yaml gives it Cognito's in AWS).
ENVIRONMENT = {
    "CONSOLE_AUTHORIZE_URL": AUTHORIZE_PATH,
    "CONSOLE_TOKEN_URL": TOKEN_PATH,
    "CONSOLE_CLIENT_ID": CLIENT_ID,
    "CONSOLE_SCOPES": "openid",
}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
ADMIN_GROUP = "demo-admin"  # the DemoAdminGroup parameter's default, as "demo" is DemoGroup's
# Token lifetimes a presenter may pick; the short one shows what an expired sign-in looks like.
LIFETIMES = {43200: "12 hours", 3600: "1 hour", 5: "5 seconds (to rehearse an expired sign-in)"}
CODE_SECONDS = 60
PAGE_HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class _Grant:
    challenge: str
    redirect_uri: str
    username: str
    groups: tuple[str, ...]
    lifetime: int
    expires: float


_grants: dict[str, _Grant] = {}
_lock = threading.Lock()


class _Refused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


# Whether a redirect_uri is a console this sign-in may send a code to: None if so, else why not.
Consoles = Callable[[HttpRequest, str], str | None]


def this_servers_console(request: HttpRequest, redirect_uri: str) -> str | None:
    """`make run`: the console of the server this sign-in is part of, and no other, on a loopback origin.
    The server also answers names LOCAL_ALLOWED_HOSTS lists (a laptop reached from the LAN), but their
    console cannot sign in there: a browser gives the console's PKCE (crypto.subtle) to secure contexts
    only, which plain http is on loopback alone, and a name may be anyone's to point elsewhere."""
    console = _console_url(request)
    if console_on_this_machine(request, console) is not None:
        return f"The console signs in on this machine only: open it at http://127.0.0.1:PORT{CONSOLE_PATH}."
    return None if redirect_uri == console else f"The console signs in for {console} only."


def console_on_this_machine(request: HttpRequest, redirect_uri: str) -> str | None:
    """`make sam-db`'s sign-in, for the console sam local serves: a console on a loopback address, on
    any port, as RFC 8252 (7.3) has an authorization server take a native app's loopback redirect URI.
    The code is no use without the verifier the console keeps (PKCE)."""
    parts = urlsplit(redirect_uri)
    if _on_this_machine(parts) and parts.path == CONSOLE_PATH and not parts.query and not parts.fragment:
        return None
    return f"The console signs in on this machine only: http://127.0.0.1:PORT{CONSOLE_PATH} or http://localhost:PORT{CONSOLE_PATH}."


def _on_this_machine(parts: SplitResult) -> bool:
    """Plain http to a loopback address, with no user name, and a valid port if any."""
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and "@" not in parts.netloc


def handle(request: HttpRequest, consoles: Consoles = this_servers_console) -> Answer | None:
    """The answer to a local sign-in request; None for any other path. consoles says where a code may go."""
    if request.path == AUTHORIZE_PATH and request.method == "GET":
        return _guarded(request, consoles, _sign_in_page)
    if request.path == AUTHORIZE_PATH and request.method == "POST":
        return _guarded(request, consoles, _approve)
    if request.path == TOKEN_PATH and request.method == "POST":
        return _token(request)
    return None


def token_cors_headers(origin: str | None) -> dict[str, str]:
    """CORS for the token endpoint, whose caller is the console's page on another origin (sam local's,
    another port of this machine): it reads the answer of a plain form POST, so there is no preflight."""
    parts = urlsplit(origin or "")
    if _on_this_machine(parts) and not parts.path and not parts.query and not parts.fragment:
        return {"access-control-allow-origin": str(origin), "vary": "Origin"}
    return {"vary": "Origin"}


def _guarded(request: HttpRequest, consoles: Consoles, answer: Callable[[HttpRequest, Consoles], Answer]) -> Answer:
    try:
        return answer(request, consoles)
    except _Refused as refused:
        # Never redirect to a redirect_uri that failed its checks: say so on a page of our own.
        page = _page("Sign-in refused", f"<p>{html.escape(refused.description)}</p>")
        return 400, dict(PAGE_HEADERS), page.encode()


def _fields(request: HttpRequest) -> dict[str, str]:
    text = request.query if request.method == "GET" else request.body.decode("utf-8", "replace")
    return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _console_url(request: HttpRequest) -> str:
    return f"http://{request.headers.get('host', '127.0.0.1')}{CONSOLE_PATH}"


def _checked(request: HttpRequest, consoles: Consoles) -> dict[str, str]:
    """The authorization request's fields, after the checks Cognito makes of a public PKCE client."""
    fields = _fields(request)
    if fields.get("client_id") != CLIENT_ID:
        raise _Refused("invalid_client", f"Unknown client {fields.get('client_id')!r}; the console's is {CLIENT_ID}.")
    if (refusal := consoles(request, fields.get("redirect_uri", ""))) is not None:
        raise _Refused("invalid_request", refusal)
    if fields.get("response_type") != "code":
        raise _Refused("unsupported_response_type", "Only the authorization code flow is offered.")
    if fields.get("code_challenge_method") != "S256" or not fields.get("code_challenge"):
        raise _Refused("invalid_request", "A PKCE code_challenge with code_challenge_method=S256 is required.")
    return fields


def _sign_in_page(request: HttpRequest, consoles: Consoles) -> Answer:
    fields = _checked(request, consoles)
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in fields.items()
        if name in ("client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method")
    )
    lifetimes = "".join(f'<option value="{seconds}">{label}</option>' for seconds, label in LIFETIMES.items())
    body = f"""
<p>This sign-in exists only in the local server (<code>make run</code>, or <code>make sam-db</code> for
  <code>sam local</code>). It signs you in as a local presenter
  with a token of the same local key as <code>make demo-token</code>. In AWS the console signs in with the
  stack's Cognito user pool instead.</p>
<form method="post" action="{AUTHORIZE_PATH}" class="card">
  {hidden}
  <p><label for="username">Presenter</label>
     <input id="username" name="username" value="presenter@squelch.local" maxlength="128" required></p>
  <p><label><input type="checkbox" name="demo_group" value="yes" checked> member of the demo group</label></p>
  <p><label><input type="checkbox" name="admin_group" value="yes"> administrator (the {ADMIN_GROUP} group: may reset
     or delete any presenter's sandbox)</label></p>
  <p><label for="lifetime">Signed in for</label> <select id="lifetime" name="lifetime">{lifetimes}</select></p>
  <p><button type="submit" name="decision" value="allow" class="primary">Sign in as a local presenter</button>
     <button type="submit" name="decision" value="deny" class="quiet">Cancel</button></p>
</form>"""
    # The form posts here, and its answer redirects to the console: a browser holds that redirect to
    # form-action too, so the console's origin is named when it is another (sam local's port).
    console = urlsplit(fields["redirect_uri"])
    policy = PAGE_HEADERS["content-security-policy"].replace(
        "form-action 'self'", f"form-action 'self' {console.scheme}://{console.netloc}"
    )
    return 200, PAGE_HEADERS | {"content-security-policy": policy}, _page("Local sign-in", body).encode()


def _approve(request: HttpRequest, consoles: Consoles) -> Answer:
    fields = _checked(request, consoles)
    back = {"state": fields["state"]} if "state" in fields else {}
    if fields.get("decision") != "allow":
        location = f"{fields['redirect_uri']}?{urlencode({'error': 'access_denied', **back})}"
        return 303, {"location": location, "cache-control": "no-store"}, b""
    username = fields.get("username", "").strip()
    if not username or len(username) > 128:
        raise _Refused("invalid_request", "Give a presenter name of 1 to 128 characters.")
    lifetime = int(fields["lifetime"]) if fields.get("lifetime", "").isdigit() else 0
    if lifetime not in LIFETIMES:
        raise _Refused("invalid_request", "Pick one of the offered sign-in lifetimes.")
    code = secrets.token_urlsafe(32)
    chosen = {"demo": fields.get("demo_group") == "yes", ADMIN_GROUP: fields.get("admin_group") == "yes"}
    groups = tuple(group for group, member in chosen.items() if member)
    grant = _Grant(
        fields["code_challenge"], fields["redirect_uri"], username, groups, lifetime, time.monotonic() + CODE_SECONDS
    )
    with _lock:
        _grants[code] = grant
    location = f"{fields['redirect_uri']}?{urlencode({'code': code, **back})}"
    return 303, {"location": location, "cache-control": "no-store"}, b""


def _token(request: HttpRequest) -> Answer:
    """Exchange a code for a token, once, with the verifier whose SHA-256 is the code's challenge."""
    headers = {"content-type": "application/json", "cache-control": "no-store"}
    try:
        token, lifetime = _exchange(_fields(request))
    except _Refused as refused:
        return 400, headers, json.dumps({"error": refused.error, "error_description": refused.description}).encode()
    return 200, headers, json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": lifetime}).encode()


def _exchange(fields: dict[str, str]) -> tuple[str, int]:
    if fields.get("grant_type") != "authorization_code":
        raise _Refused("unsupported_grant_type", "Only grant_type=authorization_code is offered.")
    with _lock:
        grant = _grants.pop(fields.get("code", ""), None)  # a code is good for one exchange only
    if grant is None or grant.expires < time.monotonic():
        raise _Refused("invalid_grant", "The code is unknown, used or expired.")
    if fields.get("client_id") != CLIENT_ID or fields.get("redirect_uri") != grant.redirect_uri:
        raise _Refused("invalid_grant", "The code was issued to another client or redirect_uri.")
    digest = hashlib.sha256(fields.get("code_verifier", "").encode()).digest()
    if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
        raise _Refused("invalid_grant", "The code_verifier does not match the code_challenge.")
    return auth.issue_token(grant.username, grant.groups, ttl_seconds=grant.lifetime), grant.lifetime


def _page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Squelch presenter console</title>
<link rel="stylesheet" href="{CONSOLE_PATH}?asset=console.css"></head>
<body><header><h1>Squelch presenter console · {html.escape(title)}</h1></header>
<main>{body}</main></body>
</html>
"""
