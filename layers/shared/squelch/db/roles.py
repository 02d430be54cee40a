"""The login the API functions use: a member of squelch_runtime (migration 0003), nothing more.

The migrate function, connected as the schema's owner, creates it or sets its password from the
runtime secret, so a rotated password takes effect on the next deploy or migrate run.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.rows import tuple_row

RUNTIME_GROUP = "squelch_runtime"
POWERS = "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles WHERE rolname = %s"


class RoleError(RuntimeError):
    """The runtime login cannot be provisioned as asked."""


def provision_login(conn: psycopg.Connection[Any], username: str, password: str | None) -> None:
    """Create the login, or set its password, and make it a member of squelch_runtime."""
    if username == conn.info.user:
        raise RoleError("the runtime login must be another role than the schema's owner")
    try:
        _provision(conn, username, password)
    except (errors.DuplicateObject, errors.UniqueViolation):
        _provision(conn, username, password)  # another runner created it meanwhile: now it exists


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
