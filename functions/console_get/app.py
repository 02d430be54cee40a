"""GET /console: the presenters' console, one page whose HTML, stylesheet and script ship in this
folder (no build step, nothing from other hosts). It signs a presenter in with OAuth 2 authorization
code + PKCE at the identity provider the deployment names, keeps the token in memory, and then uses
only the public API. The stylesheet and script come from this same route (?asset=console.js), so the
Content-Security-Policy allows scripts from the page's own origin only and exempts no inline code."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from string import Template
from typing import Annotated, Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain.demo import stories
from squelch.errors import NotFound
from squelch.http import create_api
from squelch.observability import observed
from squelch.settings import Settings, get_settings

HERE = Path(__file__).resolve().parent
PAGE = Template((HERE / "console.html").read_text(encoding="utf-8"))
ASSET_TYPES = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
ASSETS = {name: (HERE / name).read_text(encoding="utf-8") for name in ASSET_TYPES}
# A changed asset gets a new URL, so browsers may keep each version for good.
VERSIONS = {name: hashlib.sha256(body.encode()).hexdigest()[:16] for name, body in ASSETS.items()}

app = create_api()


@app.get("/console", include_in_schema=False)
def console(
    asset: Annotated[str | None, Query(max_length=32)] = None,
    v: Annotated[str | None, Query(max_length=32)] = None,
) -> Response[str]:
    settings = get_settings()
    if asset is None:
        return Response(200, "text/html; charset=utf-8", page(settings), security_headers(settings, "no-store"))
    if asset not in ASSETS:
        raise NotFound("asset_not_found", f"The console has no asset {asset!r}; it has {', '.join(ASSETS)}.")
    caching = "public, max-age=31536000, immutable" if v == VERSIONS[asset] else "no-cache"
    return Response(200, ASSET_TYPES[asset], ASSETS[asset], security_headers(settings, caching))


def sign_in(settings: Settings) -> dict[str, str]:
    """What the page needs to send a presenter to the identity provider; empty values when the
    deployment names none (the page then says sign-in is not configured)."""
    return {
        "authorize-url": settings.console_authorize_url or "",
        "token-url": settings.console_token_url or "",
        "client-id": settings.console_client_id or "",
        "scopes": settings.console_scopes,
        "logout-url": settings.console_logout_url or "",
    }


def checkpoint_options() -> str:
    """Every story's checkpoints, a group per story (the default first), each option naming its story: a
    checkpoint's name is unique across the stories, so choosing one chooses its story."""
    groups = []
    for story in stories().stories:
        name = html.escape(story.name)
        options = "".join(
            f'<option value="{html.escape(c.name)}" data-story="{name}">{html.escape(c.name)}</option>'
            for c in story.checkpoints
        )
        groups.append(f'<optgroup label="{html.escape(story.title)}">{options}</optgroup>')
    return "".join(groups)


def page(settings: Settings) -> str:
    attributes = " ".join(f'data-{name}="{html.escape(value)}"' for name, value in sign_in(settings).items())
    options = checkpoint_options()
    return PAGE.substitute(
        sign_in=attributes,
        checkpoint_options=options,
        css=f"console?asset=console.css&amp;v={VERSIONS['console.css']}",
        js=f"console?asset=console.js&amp;v={VERSIONS['console.js']}",
        icon=f"console?asset=favicon.svg&amp;v={VERSIONS['favicon.svg']}",
    )


def origin(url: str | None) -> str | None:
    """scheme://host[:port] of an absolute http(s) URL; None for a relative or other one."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def security_headers(settings: Settings, caching: str) -> dict[str, str]:
    """The page may load only its own files and talk only to its own origin (the API that serves it)
    and the identity provider's token endpoint; sign-in and sign-out are navigations, not requests."""
    token_origin = origin(settings.console_token_url)
    connect = " ".join(["'self'", *([token_origin] if token_origin else [])])
    policy = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        f"connect-src {connect}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return {
        "Content-Security-Policy": "; ".join(policy),
        "X-Content-Type-Options": "nosniff",
        # The page's address carries the authorization code on the way back from sign-in.
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": caching,
    }


@observed(database=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
