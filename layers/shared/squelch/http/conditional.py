"""Conditional GETs: every answer of a revalidated route carries an ETag computed from what it
depends on, and a client whose copy is still current gets 304 Not Modified without the route
running.

An answer depends on the sandbox's story version (squelch.db: changed by every write to the story,
in the writing transaction), the day its derived fields count from (clock.today()), the request
(method, path and query) and the code that computes it. The tag is a hash of these, so it changes
exactly when one of them does. A 304 costs one statement: the version as committed now. When it
equals the version the client's tag was made from, the client's copy is the current answer.

The ETag of a 200 is computed from the version the route's own read-only snapshot saw (db.run
reports it), so the tag always describes the rows the body was built from.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import squelch
from squelch import clock

# Browsers and data-fetching libraries keep the answer and ask again with If-None-Match each time;
# no shared cache stores it (customer data, chosen by a header).
CACHE_CONTROL = "private, no-cache"
GZIP_SUFFIX = "-gzip"
ANY = frozenset({"*"})  # If-None-Match: * (any current answer)
# An entity-tag of an If-None-Match list: optionally weak (W/), the opaque part between quotes, then
# the end of its list element.
ENTITY_TAG = re.compile(r'(?:W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
# What comes before an element: whitespace, and empty elements, which RFC 9110 (5.6.1) says to ignore.
EMPTY_ELEMENTS = re.compile(r"[\s,]*")


def client_tags(value: str | None) -> frozenset[str] | None:
    """The opaque tags of an If-None-Match value ("*" for any), compared weakly as RFC 9110 says for
    GET; None when there is no header or it is not a list of entity-tags (then nothing matches)."""
    if value is None or not value.strip():
        return None
    if value.strip() == "*":
        return ANY
    tags, position = set(), 0
    while (position := _past_empty_elements(value, position)) < len(value):
        found = ENTITY_TAG.match(value, position)
        if found is None:
            return None
        tags.add(found.group(1))
        position = found.end()
    return frozenset(tags) or None


def _past_empty_elements(value: str, position: int) -> int:
    found = EMPTY_ELEMENTS.match(value, position)
    return found.end() if found else position  # the pattern matches the empty string: always found


@cache
def _digest_of_files(paths: tuple[Path, ...]) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def code_fingerprint(route_files: Iterable[str]) -> bytes:
    """A digest of the code that computes the answers: the layer's modules and the function's own.
    A deployment that changes what a route answers changes every tag, even with the story unchanged."""
    package = Path(squelch.__file__).parent
    layer = sorted(package.rglob("*.py"))
    return _digest_of_files(tuple(layer) + tuple(sorted(Path(name) for name in set(route_files))))


@dataclass
class Revalidation:
    """One request to a revalidated route: what its answer depends on, but the story version."""

    code: bytes
    sandbox: str
    request: str  # method, path and query string
    day: date = field(default_factory=clock.today)
    versions: set[int] = field(default_factory=set)  # what the route's read-only snapshots saw

    @classmethod
    def of(cls, event: Mapping[str, Any], sandbox: str, code: bytes) -> Revalidation:
        context = event.get("requestContext") or {}
        method = (context.get("http") or {}).get("method", "GET")
        request = f"{method} {event.get('rawPath', '')}?{event.get('rawQueryString', '')}"
        return cls(code, sandbox, request)

    def tag(self, version: int) -> str:
        """The opaque part of the ETag (the header's value is it in quotes)."""
        digest = hashlib.blake2b(self.code, digest_size=18)
        parts = f"\0{self.sandbox}\0{version}\0{self.day.isoformat()}\0{self.request}"
        digest.update(parts.encode("utf-8", "surrogatepass"))
        return base64.urlsafe_b64encode(digest.digest()).decode()

    def current_tag(self) -> str | None:
        """The tag of the answer the route built: None when its reads saw more than one version (the
        answer may mix them) or the day changed while it ran (its body may count from either day)."""
        if len(self.versions) != 1 or clock.today() != self.day:
            return None
        return self.tag(next(iter(self.versions)))


def matching(tags: frozenset[str] | None, current: str) -> str | None:
    """The client's tag that names the current answer (as sent, or its gzip-coded variant); None if none does."""
    if not tags:
        return None
    if current in tags:
        return current
    if current + GZIP_SUFFIX in tags:
        return current + GZIP_SUFFIX
    return None


def quoted(tag: str) -> str:
    return f'"{tag}"'


def not_modified(tag: str) -> dict[str, Any]:
    """The payload-2.0 304: no body, the client's tag, and the caching headers of the 200."""
    return {
        "statusCode": 304,
        "headers": {"ETag": quoted(tag), "Cache-Control": CACHE_CONTROL},
        "body": "",
        "isBase64Encoded": False,
        "cookies": [],
    }
