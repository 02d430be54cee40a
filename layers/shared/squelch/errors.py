"""Errors the domain raises; squelch.http.errors is the one place that maps them to HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A failure the caller can act on: a machine-readable code and a message for a person."""

    def __init__(self, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []


class BadRequest(DomainError):
    """The request cannot be taken as it is (for example, a required confirmation is missing)."""


class Unauthenticated(DomainError):
    """No valid identity came with the request."""


class Forbidden(DomainError):
    """The caller is known but not allowed to do this."""


class NotFound(DomainError):
    """The thing asked for does not exist."""


class Invalid(DomainError):
    """The request is well-formed but its values are not acceptable."""


class Conflict(DomainError):
    """The request clashes with the current state."""


class TooLarge(DomainError):
    """A part of the request is larger than what is kept of it (the body as a whole is the HTTP layer's)."""


class Unavailable(DomainError):
    """A dependency (the database) cannot be reached; the request may succeed later, after
    retry_after seconds when that is known (sent as Retry-After)."""

    def __init__(
        self, code: str, message: str, details: list[dict[str, Any]] | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(code, message, details)
        self.retry_after = retry_after
