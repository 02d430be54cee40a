"""Data access: the container's connection, transactions, the story version and the migration runner."""

from squelch.db.connection import (
    Connection,
    check,
    close,
    connection,
    outside_every_sandbox,
    reporting_story_version,
    run,
    run_idempotent,
    story_version,
    wait_until_accepting,
)

__all__ = [
    "Connection",
    "check",
    "close",
    "connection",
    "outside_every_sandbox",
    "reporting_story_version",
    "run",
    "run_idempotent",
    "story_version",
    "wait_until_accepting",
]
