"""CORS as the HttpApi's CorsConfiguration makes API Gateway apply it (and `sam local start-api`
too): preflights answered by the gateway, an allowed Origin echoed on every answer. The functions
send no CORS headers: with a CORS configuration API Gateway ignores any the backend returns.

The rules come from template.yaml; the allowed origins are the CorsAllowOrigins parameter's
default, or CORS_ALLOW_ORIGINS (comma-separated) as a local override of that parameter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from localdev.template import cors_configuration


def _allowed_origins() -> list[str]:
    override = os.environ.get("CORS_ALLOW_ORIGINS")
    origins = override.split(",") if override else list(cors_configuration().origins)
    return [origin.strip() for origin in origins if origin.strip()]


def _granted(origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for origin: API Gateway matches origins exactly, or "*"."""
    if not origin:
        return None
    allowed = _allowed_origins()
    return "*" if "*" in allowed else origin if origin in allowed else None


def response_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    granted = _granted(request_headers.get("origin"))
    if not granted:
        return {}
    answer = {"access-control-allow-origin": granted, "vary": "Origin"}
    if expose := cors_configuration().expose:
        answer["access-control-expose-headers"] = ",".join(expose)
    return answer


def preflight_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    cors = cors_configuration()
    answer = response_headers(request_headers)
    if answer:
        answer |= {
            "access-control-allow-methods": ",".join(cors.methods),
            "access-control-allow-headers": ",".join(cors.headers),
            "access-control-max-age": str(cors.max_age),
        }
    return answer
