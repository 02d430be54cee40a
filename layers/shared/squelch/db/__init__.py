"""Data access: the container's connection, transactions and the migration runner."""

from squelch.db.connection import Connection, close, connection, run, run_idempotent, wait_until_accepting

__all__ = ["Connection", "close", "connection", "run", "run_idempotent", "wait_until_accepting"]
