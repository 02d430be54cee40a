"""One PostgreSQL connection per Lambda container, opened lazily and reused across invocations.

"Per container" is per thread here, so the in-process local server, which runs several
handlers at once on a thread pool, gives each worker its own connection as Lambda would.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import psycopg
from psycopg import IsolationLevel
from psycopg.rows import dict_row, tuple_row

from squelch import snapstart, warmup
from squelch.db import sandbox
from squelch.db.credentials import conninfo, tls_problem
from squelch.errors import NotFound, Unavailable
from squelch.observability import logger
from squelch.settings import get_settings

T = TypeVar("T")
# Rows come as dicts unless a query picks its own row type per cursor (queries/ always does).
Connection = psycopg.Connection[Any]

_local = threading.local()
# Who wants to know the story version a read-only transaction sees (the HTTP layer's ETag).
_version_reader: ContextVar[Callable[[int], None] | None] = ContextVar("story_version_reader", default=None)


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


snapstart.forget_on_snapshot(close)  # no restored container may share the snapshot's socket


def _open(info: str | None = None) -> Connection:
    """A new connection, to conninfo `info` when the caller has read it already (the warm-up times the
    secret's read apart from the connect)."""
    settings = get_settings()
    # RDS Proxy pins a client to one backend while it holds server-side prepared statements;
    # prepare_threshold=None keeps psycopg from preparing any, so the proxy can multiplex.
    prepare_threshold = None if settings.db_proxy_endpoint else 5
    try:
        conn = psycopg.connect(
            info or conninfo(settings), autocommit=True, row_factory=dict_row, prepare_threshold=prepare_threshold
        )
        if settings.db_proxy_endpoint:  # the proxy refuses the TimeZone startup option conninfo gives otherwise
            conn.execute("SET TIME ZONE 'UTC'")
        return conn
    except psycopg.OperationalError as error:
        if any(refusal in str(error) for refusal in NO_FREE_CONNECTION):
            raise Unavailable(
                "database_busy", "The database has no free connection right now; try again in a moment.", retry_after=2
            ) from error
        # The client gets the same 503 either way; the operator's fix for a TLS mismatch is in the log.
        if problem := tls_problem(error, "DATABASE_URL" if settings.database_url else None):
            logger.error("database connection failed on TLS", extra={"reason": problem})
        raise Unavailable("database_unavailable", UNREACHABLE) from error


UNREACHABLE = "The database is not reachable; try again shortly."


def check(timings: warmup.Timings) -> str:
    """The string "ok" when the container's connection is open (opened now, its credentials read first and timed
    apart, unless it was) and answers SELECT 1, which reads no table; otherwise the code a request would
    have met. Never raises: the warm-up and the preflight report, they do not fail."""
    started = time.perf_counter()
    try:
        conn: Connection | None = getattr(_local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            settings = get_settings()
            info = conninfo(settings)  # reads the secret unless DATABASE_URL is set
            if not settings.database_url:
                timings["secret"] = warmup.elapsed_ms(started)
            started = time.perf_counter()
            conn = _local.conn = _open(info)
        conn.execute("SELECT 1")
        timings["connect"] = warmup.elapsed_ms(started)
        return "ok"
    except Unavailable as error:
        return error.code
    except psycopg.Error as error:
        logger.warning("database check failed", extra={"reason": type(error).__name__})
        close()
        return "database_error"


@warmup.on_warm_up(warmup.DATABASE)
def _warm(answer: warmup.Answer) -> None:
    answer["database"] = check(answer["timings_ms"])


# How PostgreSQL refuses a connection when it has none free (SQLSTATE 53300, which libpq does not
# pass on for a failed connection, so the server's English message is matched): max_connections
# reached, the slots reserved for superusers reached, or a role's CONNECTION LIMIT.
NO_FREE_CONNECTION = (
    "too many clients already",
    "remaining connection slots are reserved",
    "too many connections for role",
)


# What libpq says while a server cannot take connections yet: nothing listens, nothing answers, its
# name does not resolve yet, or it is still starting. A server that answers and refuses (a wrong
# password, no such database, no TLS) will not change its mind, so those fail at once.
NOT_ACCEPTING_YET = re.compile(
    r"Connection refused|timeout expired|timed out|failed to resolve host|could not translate host name"
    r"|No route to host|Network is unreachable|Connection reset|server closed the connection unexpectedly"
    r"|the database system is (?:starting up|not yet accepting connections|in recovery mode)",
    re.IGNORECASE,
)


def wait_until_accepting(seconds: float, first_pause: float = 1.0, longest_pause: float = 10.0) -> None:
    """Open the container's connection, trying again for up to `seconds` while PostgreSQL does not
    accept connections yet (a database created in the same deployment, a network still being
    wired); pauses double from first_pause. Raises the last failure when time is up, and at once
    when the server answers with a refusal that waiting cannot change."""
    deadline = time.monotonic() + seconds
    pause, attempts = first_pause, 1
    while True:
        try:
            connection()
            if attempts > 1:
                logger.info("database accepts connections", extra={"attempts": attempts})
            return
        except Unavailable as error:
            if not NOT_ACCEPTING_YET.search(str(error.__cause__)) or time.monotonic() + pause > deadline:
                raise
            logger.warning(
                "database not accepting connections yet; trying again",
                extra={"attempt": attempts, "pause_seconds": pause, "reason": str(error.__cause__)},
            )
        time.sleep(pause)
        pause, attempts = min(pause * 2, longest_pause), attempts + 1


class _BrokenBeforeWork(Exception):
    """The connection failed at BEGIN: nothing of the work was sent, so it can run again elsewhere."""


LOST = "The database connection failed; try again."
LOST_DURING_WRITE = (
    "The database connection was lost while saving; the change may have been applied. "
    "Read the current state before trying again."
)
REFUSED = "The database refused the change and rolled it back; nothing was applied. Try again."
CONFLICT = (
    "The change met another one at the same moment and the database rolled it back; nothing was applied. Try again."
)
# A transaction the server rolls back to break a deadlock or a serialization failure did nothing:
# it runs again (this many times in all), after a short random pause that keeps two rivals apart.
ROLLED_BACK = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
ROLLED_BACK_ATTEMPTS = 3


class _RolledBack(Exception):
    """The server rolled the whole transaction back to break a deadlock or a serialization failure."""

    def __init__(self, error: psycopg.Error) -> None:
        super().__init__(str(error))
        self.error = error


def run(work: Callable[[Connection], T], *, read_only: bool = False, creates_sandbox: bool = False) -> T:
    """Run work(conn) in one transaction, in the request's sandbox, and return its result (see
    _run_once). A transaction the server rolled back to break a deadlock or a serialization failure
    runs again, up to ROLLED_BACK_ATTEMPTS times in all; then the caller gets a 503 saying nothing
    was applied."""
    attempt = 1
    while True:
        try:
            return _run_once(work, read_only, creates_sandbox)
        except _RolledBack as rolled_back:
            error = rolled_back.error
            if attempt == ROLLED_BACK_ATTEMPTS:
                raise Unavailable("database_conflict", CONFLICT, retry_after=1) from error
            logger.warning(
                "transaction rolled back by the database; running it again",
                extra={"sqlstate": error.sqlstate, "attempt": attempt},
            )
            time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 (a pause, not a secret)
            attempt += 1


def _run_once(work: Callable[[Connection], T], read_only: bool, creates_sandbox: bool) -> T:
    """Run work(conn) in one transaction, in the request's sandbox, and return its result.

    The transaction names the sandbox to PostgreSQL, whose row-level security then shows the API
    functions' login that sandbox's rows only; a sandbox that does not exist is a 404 unless the
    work creates it (the reset). Read-only work runs in one REPEATABLE READ snapshot, so a read of
    several tables never sees half of a concurrent reset.

    A connection the server dropped while the container was idle is only found broken on its next
    use, at BEGIN, before any of the work is sent: then the work runs again on a fresh connection.
    A failure after BEGIN may come after the server committed (the answer to COMMIT lost), so
    writes are not run again: the caller gets a 503 saying the change may have been applied. Reads
    may run again whenever the connection broke. An error the server answered over a connection that
    still works (a deadlock, a timeout) rolled the transaction back: nothing was applied.
    """
    try:
        return _in_transaction(connection(), work, read_only, creates_sandbox)
    except _BrokenBeforeWork:
        pass
    except psycopg.OperationalError as error:
        if not _broken():
            if error.sqlstate in ROLLED_BACK:
                raise _RolledBack(error) from error  # run() runs it again
            raise Unavailable("database_unavailable", LOST if read_only else REFUSED) from error
        if not read_only:
            raise Unavailable("database_unavailable", LOST_DURING_WRITE) from error
    close()
    try:
        return _in_transaction(connection(), work, read_only, creates_sandbox)
    except (_BrokenBeforeWork, psycopg.OperationalError) as error:
        if isinstance(error, psycopg.Error) and error.sqlstate in ROLLED_BACK and not _broken():
            raise _RolledBack(error) from error  # run() runs it again
        raise Unavailable("database_unavailable", LOST) from error


@contextmanager
def reporting_story_version(reader: Callable[[int], None]) -> Iterator[None]:
    """Until the block ends, every read-only transaction db.run opens calls reader(version) with the
    story version of its sandbox, read in its snapshot (by the statement that enters the sandbox,
    so it costs nothing) before the work runs: the version of exactly the rows the work reads."""
    token = _version_reader.set(reader)
    try:
        yield
    finally:
        _version_reader.reset(token)


# The login sees a sandbox's row only where the transaction names it (row-level security, migration
# 0009): this statement, its own transaction, names it first. The sandbox is named in a subquery of FROM,
# which a volatile set_config keeps from being merged, and its row is read by a subquery correlated to it,
# so PostgreSQL evaluates the one before the other.
STORY_VERSION = """
SELECT (SELECT version FROM demo_sandboxes WHERE name = entered.name)
FROM (SELECT set_config('squelch.sandbox', %(name)s, true) AS name) AS entered
"""


def story_version(name: str) -> int | None:
    """The sandbox's story version as committed now, in one statement outside any transaction;
    None when there is no such sandbox. Run again on a fresh connection if the container's broke."""

    def read() -> int | None:
        row = connection().cursor(row_factory=tuple_row).execute(STORY_VERSION, {"name": name}).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    try:
        return read()
    except psycopg.OperationalError as error:
        if not _broken():
            raise Unavailable("database_unavailable", LOST) from error
    close()
    try:
        return read()
    except psycopg.OperationalError as error:
        raise Unavailable("database_unavailable", LOST) from error


def run_idempotent(work: Callable[[Connection], T]) -> T:
    """Run work(conn) that opens its own transactions and may safely run twice (the migration
    runner: it skips what is applied); again on a fresh connection if the container's one broke."""
    try:
        return work(connection())
    except psycopg.OperationalError:
        if not _broken():
            raise
    close()
    return work(connection())


def _broken() -> bool:
    conn: Connection | None = getattr(_local, "conn", None)
    return conn is None or conn.broken


# How a read begins (BEGIN itself says REPEATABLE READ READ ONLY: no statement of its own), and a write.
READ = (True, IsolationLevel.REPEATABLE_READ)
WRITE = (False, None)


def _in_transaction(conn: Connection, work: Callable[[Connection], T], read_only: bool, creates_sandbox: bool) -> T:
    conn.read_only, conn.isolation_level = READ if read_only else WRITE
    begun = False
    try:
        with conn.transaction():
            begun = True
            version = _enter_sandbox(conn, sandbox.current(), creates_sandbox)
            reader = _version_reader.get()
            if read_only and version is not None and reader is not None:
                reader(version)
            return work(conn)
    except psycopg.OperationalError as error:
        if not begun and conn.broken:
            raise _BrokenBeforeWork from error
        raise


# One statement names the sandbox and then reads its story version (NULL: no such sandbox), in that order
# (see STORY_VERSION): the login sees the row only once the sandbox is named.
ENTER_SANDBOX = """
SELECT entered.name, (SELECT version FROM demo_sandboxes WHERE name = entered.name)
FROM (SELECT set_config('squelch.sandbox', %(name)s, true) AS name) AS entered
"""


# A name no sandbox can have (sandbox.NAME, and the sandboxes' CHECK, want 1-40 characters): a transaction that
# enters it is shown no story row by row-level security, whatever it reads.
NO_SANDBOX = ""


def outside_every_sandbox(work: Callable[[Connection], T]) -> T:
    """Run work(conn) on the container's connection in a transaction begun as a route's read begins (READ ONLY,
    REPEATABLE READ, then ENTER_SANDBOX) but in NO_SANDBOX, and rolled back: for the warm-up, which sends what a
    first request sends and must not see a story row. Row-level security plans a story table's read with the
    sandbox the transaction entered (without one, PostgreSQL raises 42704 planning it). The connection's
    transaction settings are put back after (the migration runner's transactions take them as they are)."""
    conn = connection()
    settings = conn.read_only, conn.isolation_level
    conn.read_only, conn.isolation_level = READ
    try:
        with conn.transaction(force_rollback=True):
            conn.cursor(row_factory=tuple_row).execute(ENTER_SANDBOX, {"name": NO_SANDBOX}).fetchone()
            return work(conn)
    finally:
        if not conn.broken:
            conn.read_only, conn.isolation_level = settings


def _enter_sandbox(conn: Connection, name: str, creates_sandbox: bool) -> int | None:
    """Enter the sandbox; its story version, or None when it does not exist (a 404 unless the work creates it)."""
    row = conn.cursor(row_factory=tuple_row).execute(ENTER_SANDBOX, {"name": name}).fetchone()
    version = row[1] if row else None
    if version is None and not creates_sandbox:
        raise sandbox_not_found(name)
    return None if version is None else int(version)


def sandbox_not_found(name: str) -> NotFound:
    return NotFound(
        "sandbox_not_found",
        f"No sandbox named {name!r}. A presenter creates it with POST /api/demo/reset and the header "
        f"X-Demo-Sandbox: {name}.",
    )
