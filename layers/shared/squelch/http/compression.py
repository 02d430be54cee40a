"""gzip for large answers, as API Gateway HTTP APIs expect it from a function: the compressed bytes
in base64 with isBase64Encoded, and Content-Encoding: gzip, which API Gateway decodes and passes on.

Powertools' route-level `compress=True` would do the coding, but compresses every answer of any
size, takes "gzip;q=0" (refused) for gzip, and adds no Vary; this does it for every route once.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Mapping
from typing import Any

from squelch.http.conditional import GZIP_SUFFIX

# Below this an answer fits in a packet or two anyway, and the gzip header and base64 eat the gain.
MIN_BYTES = 1024
# zlib's default: on our answers as small as level 9 makes them (measured), and never slower.
LEVEL = 6


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding value allows gzip: named (or x-gzip, or *) with a q above 0."""
    if not accept_encoding:
        return False
    qualities: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[coding.lower()] = quality
    quality = next((qualities[c] for c in ("gzip", "x-gzip", "*") if c in qualities), 0.0)
    return quality > 0


def vary(headers: dict[str, str], *names: str) -> None:
    """Add names to the Vary header (once each, whatever their case)."""
    key = next((k for k in headers if k.lower() == "vary"), "Vary")
    present = [v.strip() for v in headers.get(key, "").split(",") if v.strip()]
    known = {v.lower() for v in present}
    headers[key] = ", ".join(present + [n for n in names if n.lower() not in known])


def compress(response: dict[str, Any], accept_encoding: str | None) -> None:
    """gzip the response's body in place when it is large, the client takes gzip, and it shrinks;
    a strong ETag then names the gzip-coded bytes (RFC 9110: each content coding its own tag)."""
    headers: dict[str, str] = response.setdefault("headers", {})
    body = response.get("body")
    if not isinstance(body, str) or response.get("isBase64Encoded") or _header(headers, "content-encoding"):
        return
    raw = body.encode("utf-8", "surrogatepass")
    if len(raw) < MIN_BYTES or not accepts_gzip(accept_encoding):
        return
    packed = gzip.compress(raw, compresslevel=LEVEL, mtime=0)  # mtime 0: the same answer, the same bytes
    if len(packed) >= len(raw):
        return
    response["body"] = base64.b64encode(packed).decode()
    response["isBase64Encoded"] = True
    headers["Content-Encoding"] = "gzip"
    etag_key = next((k for k in headers if k.lower() == "etag"), None)
    if etag_key and headers[etag_key].endswith('"') and not headers[etag_key].startswith("W/"):
        headers[etag_key] = headers[etag_key][:-1] + GZIP_SUFFIX + '"'


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)
