"""Which sandbox (named copy of the demo story) the current request works in.

The HTTP layer reads it from the X-Demo-Sandbox header and sets it for the request; every
transaction db.run opens names it to PostgreSQL (set_config('squelch.sandbox', ...)), whose
row-level security then shows the API functions' login that sandbox's rows only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

DEFAULT = "default"  # what clients that send no header see
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

_current: ContextVar[str] = ContextVar("sandbox", default=DEFAULT)


def current() -> str:
    return _current.get()


@contextmanager
def using(name: str) -> Iterator[None]:
    """Work in sandbox `name` (a valid name; see NAME) until the block ends."""
    if not NAME.fullmatch(name):
        raise ValueError(f"not a sandbox name: {name!r}")
    token = _current.set(name)
    try:
        yield
    finally:
        _current.reset(token)
