"""CORS as the HttpApi's CorsConfiguration applies it: an allowed Origin is echoed back on every
response. In AWS, API Gateway answers preflights itself; the local server uses preflight_headers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from squelch.settings import get_settings


@lru_cache(maxsize=32)
def _pattern(allowed: tuple[str, ...]) -> re.Pattern[str]:
    # "*" alone allows any origin; inside an origin it matches host or port characters only,
    # so http://localhost:* admits http://localhost:5173 but not http://localhost:1@evil.example.
    alternatives = [".*" if entry == "*" else re.escape(entry).replace(r"\*", r"[A-Za-z0-9.-]*") for entry in allowed]
    return re.compile("|".join(f"(?:{a})" for a in alternatives) or "(?!)")


def allowed_origin(origin: str | None, allowed: Iterable[str] | None = None) -> str | None:
    """The origin to echo in Access-Control-Allow-Origin, or None when it is not allowed."""
    if not origin:
        return None
    entries = tuple(allowed if allowed is not None else get_settings().cors_allow_origins)
    return origin if _pattern(entries).fullmatch(origin) else None


def cors_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    origin = allowed_origin(_header(request_headers, "origin"))
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {"Vary": "Origin"}


def preflight_headers(
    request_headers: Mapping[str, str], methods: Iterable[str], headers: Iterable[str], max_age: int
) -> dict[str, str]:
    answer = cors_headers(request_headers)
    if "Access-Control-Allow-Origin" in answer:
        answer |= {
            "Access-Control-Allow-Methods": ",".join(methods),
            "Access-Control-Allow-Headers": ",".join(headers),
            "Access-Control-Max-Age": str(max_age),
        }
    return answer


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)
