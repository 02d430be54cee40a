"""The migration runner: from empty, re-runs, edited and missing files, concurrent runners."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from squelch.db import migrations
from squelch.db.migrations import MigrationError

SEVEN_TABLES = {
    "demo_customers",
    "demo_contacts",
    "demo_operations",
    "demo_support_tickets",
    "demo_contracts",
    "demo_strategic_plans",
    "demo_workflow_state",
}


def tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def test_migrates_an_empty_database(empty_database: str) -> None:
    # Given an empty database
    with psycopg.connect(empty_database, autocommit=True) as conn:
        # When the runner runs
        applied = migrations.migrate(conn)
        # Then every migration is applied and recorded, and the schema is there
        assert applied == [f"{m.version}_{m.name}" for m in migrations.discover()]
        assert SEVEN_TABLES | {"demo_opportunities", "demo_health_components", "schema_migrations"} <= tables(conn)
        recorded = conn.execute("SELECT version, checksum FROM schema_migrations ORDER BY version").fetchall()
        assert recorded == [(m.version, m.checksum) for m in migrations.discover()]


def test_second_run_is_a_no_op(empty_database: str) -> None:
    with psycopg.connect(empty_database, autocommit=True) as conn:
        # Given a migrated database
        migrations.migrate(conn)
        before = conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
        # When the runner runs again
        applied = migrations.migrate(conn)
        # Then nothing is applied and the ledger is untouched
        assert applied == []
        assert conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall() == before


def copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(migrations.default_directory(), target)
    return target


def test_refuses_an_edited_applied_migration(empty_database: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        # Given a database migrated from these files
        migrations.migrate(conn, directory)
        # And a new pending migration next to an applied file that someone then edited
        (directory / "9998_pending.sql").write_text("CREATE TABLE should_not_exist (id int);")
        first = sorted(directory.glob("0001_*.sql"))[0]
        first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
        # When the runner runs, then it refuses, naming the file
        with pytest.raises(MigrationError, match=r"0001_.*edited"):
            migrations.migrate(conn, directory)
        # And nothing was applied
        assert "should_not_exist" not in tables(conn)


def test_refuses_when_an_applied_migration_file_is_missing(empty_database: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    (directory / "0900_extra.sql").write_text("CREATE TABLE extra (id int);")
    with psycopg.connect(empty_database, autocommit=True) as conn:
        migrations.migrate(conn, directory)
        (directory / "0900_extra.sql").unlink()
        with pytest.raises(MigrationError, match="0900 is applied but its file is missing"):
            migrations.migrate(conn, directory)


def test_a_failing_migration_is_rolled_back_whole(empty_database: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    (directory / "0900_broken.sql").write_text("CREATE TABLE half (id int);\nSELECT 1 / 0;")
    with psycopg.connect(empty_database, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            migrations.migrate(conn, directory)
        assert "half" not in tables(conn)
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations").fetchall()]
        assert "0900" not in versions and versions  # the good ones before it stay applied


def test_rejects_badly_named_files(tmp_path: Path) -> None:
    (tmp_path / "1_Create Things.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_lower_snake_name"):
        migrations.discover(tmp_path)


def test_concurrent_runners_apply_each_migration_once(empty_database: str) -> None:
    # Given four runners starting at once on an empty database
    results: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def runner() -> None:
        try:
            with psycopg.connect(empty_database, autocommit=True) as conn:
                barrier.wait()
                results.append(migrations.migrate(conn))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then none failed, exactly one applied the migrations, and the others found nothing to do
    assert errors == []
    expected = [f"{m.version}_{m.name}" for m in migrations.discover()]
    assert sorted(results, key=len) == [[], [], [], expected]


def test_refuses_a_new_file_numbered_below_an_applied_one(empty_database: str, tmp_path: Path) -> None:
    # Given a database migrated up to the last file
    directory = copy_migrations(tmp_path)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        migrations.migrate(conn, directory)
        # When a file appears whose number sorts before one already applied (a merge from an old branch)
        (directory / "0000_late_arrival.sql").write_text("CREATE TABLE late_arrival (id integer);")
        # Then the runner refuses it rather than applying it out of order
        with pytest.raises(MigrationError, match=r"0000_late_arrival.*below.*applied"):
            migrations.migrate(conn, directory)
        assert "late_arrival" not in tables(conn)


def test_a_connection_lost_during_a_migration_reports_that_error(empty_database: str, tmp_path: Path) -> None:
    # Given a migration during which the server ends the runner's connection
    directory = copy_migrations(tmp_path)
    (directory / "9999_lose_the_connection.sql").write_text("SELECT pg_terminate_backend(pg_backend_pid());")
    # Then the error is the lost connection, not a failure of the unlock that follows it
    with psycopg.connect(empty_database, autocommit=True) as conn, pytest.raises(psycopg.OperationalError) as raised:
        migrations.migrate(conn, directory)
    assert isinstance(raised.value, psycopg.errors.AdminShutdown), repr(raised.value)
