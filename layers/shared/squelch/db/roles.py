"""The login the API functions use: a member of squelch_runtime (migration 0003), nothing more.

The migrate function, connected as the schema's owner, creates it or sets its password from the
runtime secret, so a rotated password takes effect on the next deploy or migrate run.
"""

from __future__ import annotations

import random
import time
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.rows import tuple_row

RUNTIME_GROUP = "squelch_runtime"
CONCURRENTLY_UPDATED = "tuple concurrently updated"
ATTEMPTS = 10
POWERS = "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles WHERE rolname = %s"


class RoleError(RuntimeError):
    """The runtime login cannot be provisioned as asked."""


def provision_login(conn: psycopg.Connection[Any], username: str, password: str | None) -> None:
    """Create the login, or set its password, and make it a member of squelch_runtime."""
    if username == conn.info.user:
        raise RoleError("the runtime login must be another role than the schema's owner")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            _provision(conn, username, password)
            return
        except (errors.DuplicateObject, errors.UniqueViolation, errors.InternalError) as error:
            # Another runner (a deploy, make run beside make refresh, a test session: roles belong to
            # the whole server, beyond any advisory lock of one database) created or changed the role
            # meanwhile. PostgreSQL reports a concurrent change of the same catalog row as an internal
            # error, "tuple concurrently updated"; the transaction was rolled back, so run it again.
            if isinstance(error, errors.InternalError) and CONCURRENTLY_UPDATED not in str(error):
                raise
            if attempt == ATTEMPTS:
                raise
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 (a pause, not a secret)


def _provision(conn: psycopg.Connection[Any], username: str, password: str | None) -> None:
    row = conn.cursor(row_factory=tuple_row).execute(POWERS, [username]).fetchone()
    if row and row[0]:
        raise RoleError(
            f"role {username!r} has superuser, CREATEROLE, CREATEDB or BYPASSRLS; the runtime login must not"
        )
    login = sql.SQL("LOGIN PASSWORD {}").format(sql.Literal(password)) if password else sql.SQL("LOGIN")
    with conn.transaction():
        conn.execute(
            sql.SQL("{} {} {}").format(sql.SQL("ALTER ROLE" if row else "CREATE ROLE"), sql.Identifier(username), login)
        )
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(RUNTIME_GROUP), sql.Identifier(username)))
