"""Data access: the container's connection, transactions and the migration runner."""

from squelch.db.connection import Connection, close, connection, run, run_idempotent

__all__ = ["Connection", "close", "connection", "run", "run_idempotent"]
