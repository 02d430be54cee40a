"""Applies the versioned SQL files of db/migrations in order, each in its own transaction.

Why our own and not a library: yoyo-migrations and friends either bring their own lock tables or
do not refuse an applied migration whose file was edited, and the whole job is ~80 lines on
psycopg 3. The rules:
- a session-level advisory lock serializes concurrent runners (two deploys, two cold starts);
- applied migrations are recorded with a SHA-256 of their file in schema_migrations;
- an applied file that changed, or vanished, or a new file numbered below an applied one, stops
  the run before anything is applied;
- with nothing pending it changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import tuple_row

# pg_advisory_lock key: any constant shared by every runner of this schema.
MIGRATION_LOCK_KEY = 0x5351_4C43_4D49_4701
FILE_PATTERN = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     text PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL
)
"""


class MigrationError(RuntimeError):
    """The migrations on disk and those applied to the database disagree."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str
    checksum: str


def default_directory() -> Path:
    return Path(str(resources.files("squelch") / "sql" / "migrations"))


def discover(directory: Path | None = None) -> list[Migration]:
    found = []
    for path in sorted((directory or default_directory()).glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lower_snake_name.sql")
        raw = path.read_bytes()
        found.append(Migration(match["version"], match["name"], raw.decode(), hashlib.sha256(raw).hexdigest()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version: {versions}")
    return found


def migrate(conn: psycopg.Connection[Any], directory: Path | None = None) -> list[str]:
    """Apply pending migrations; return the versions applied (empty when up to date).

    conn must be in autocommit mode: each migration opens its own transaction.
    """
    migrations = discover(directory)
    conn.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
    failed = True
    try:
        conn.execute(CREATE_LEDGER)
        ledger = conn.cursor(row_factory=tuple_row).execute("SELECT version, checksum FROM schema_migrations")
        applied: dict[str, str] = dict(ledger.fetchall())
        _check_history(migrations, applied)
        done = []
        for migration in (m for m in migrations if m.version not in applied):
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES (%s, %s, %s, %s)",
                    [
                        migration.version,
                        migration.name,
                        migration.checksum,
                        round((time.perf_counter() - started) * 1000),
                    ],
                )
            done.append(f"{migration.version}_{migration.name}")
        failed = False
        return done
    finally:
        _unlock(conn, hide_errors=failed)


def _unlock(conn: psycopg.Connection[Any], hide_errors: bool) -> None:
    """Release the runner's lock. After a failure the connection may be gone, and the lock with it:
    an error here must not replace the one that stopped the run."""
    try:
        conn.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
    except psycopg.Error:
        if not hide_errors:
            raise


def _check_history(migrations: list[Migration], applied: dict[str, str]) -> None:
    on_disk = {m.version: m for m in migrations}
    latest = max(applied, default="")
    for migration in migrations:
        if migration.version not in applied and migration.version < latest:
            raise MigrationError(
                f"{migration.version}_{migration.name} is numbered below {latest}, which is already applied; "
                "renumber it after the last applied migration so that every database applies files in one order"
            )
    for version, checksum in sorted(applied.items()):
        if version not in on_disk:
            raise MigrationError(f"migration {version} is applied but its file is missing")
        if on_disk[version].checksum != checksum:
            raise MigrationError(
                f"migration {version}_{on_disk[version].name} was edited after it was applied; "
                "add a new migration instead of changing an applied one"
            )
