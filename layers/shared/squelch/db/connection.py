"""One PostgreSQL connection per Lambda container, opened lazily and reused across invocations.

"Per container" is per thread here, so the in-process local server, which runs several
handlers at once on a thread pool, gives each worker its own connection as Lambda would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from squelch.db.credentials import conninfo
from squelch.domain.errors import Unavailable
from squelch.settings import get_settings

T = TypeVar("T")
Connection = psycopg.Connection[dict[str, Any]]

_local = threading.local()


def connection() -> Connection:
    """The container's connection, opened on first use and re-opened once it is closed or broken."""
    conn: Connection | None = getattr(_local, "conn", None)
    if conn is None or conn.closed or conn.broken:
        conn = _open()
        _local.conn = conn
    return conn


def close() -> None:
    conn: Connection | None = getattr(_local, "conn", None)
    _local.conn = None
    if conn is not None:
        conn.close()


def _open() -> Connection:
    settings = get_settings()
    # RDS Proxy pins a client to one backend while it holds server-side prepared statements;
    # prepare_threshold=None keeps psycopg from preparing any, so the proxy can multiplex.
    prepare_threshold = None if settings.db_proxy_endpoint else 5
    try:
        return psycopg.connect(conninfo(settings), autocommit=True, row_factory=dict_row,
                               prepare_threshold=prepare_threshold)
    except psycopg.OperationalError as error:
        raise Unavailable("database_unavailable", "The database is not reachable; try again shortly.") from error


def run(work: Callable[[Connection], T], *, read_only: bool = False) -> T:
    """Run work(conn) in one transaction and return its result.

    A connection the server dropped while the container was idle is only found broken on its next
    use; then the work is retried once on a fresh connection. Nothing was committed by the failed
    attempt, so the retry is safe. Read-only work runs in one REPEATABLE READ snapshot, so a read
    of several tables never sees half of a concurrent reset.
    """
    try:
        return _in_transaction(connection(), work, read_only)
    except psycopg.OperationalError as error:
        if not getattr(_local, "conn", None) or not _local.conn.broken:
            raise Unavailable("database_unavailable", "The database connection failed; try again.") from error
        close()
        try:
            return _in_transaction(connection(), work, read_only)
        except psycopg.OperationalError as retry_error:
            raise Unavailable("database_unavailable", "The database connection failed; try again.") from retry_error


def _in_transaction(conn: Connection, work: Callable[[Connection], T], read_only: bool) -> T:
    with conn.transaction():
        if read_only:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return work(conn)
