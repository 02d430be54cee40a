"""Two database roles: the migrator owns the schema; the API functions connect as a login that is a
member of squelch_runtime, which reads and writes rows and can change nothing else. Every route test
runs as that login (conftest's story fixture), so these rights are also shown to be enough."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, use_environment
from moto import mock_aws
from psycopg import sql

from squelch.db import credentials, roles
from squelch.domain import demo


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE demo_customers ADD COLUMN sneaky integer",
        "DROP TABLE demo_contacts",
        "CREATE TABLE sneaky (id integer)",
        "TRUNCATE demo_support_tickets",
        "CREATE INDEX sneaky_idx ON demo_operations (name)",
        "ALTER TABLE demo_workflow_state DISABLE ROW LEVEL SECURITY",
        "CREATE FUNCTION sneaky() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
        "DELETE FROM schema_migrations",
        "SELECT * FROM schema_migrations",
        "UPDATE demo_reset_log SET requested_by = 'someone else'",
        "DELETE FROM demo_reset_log",
        "CREATE ROLE sneaky LOGIN",
        "SET ROLE postgres",
    ],
)
def test_runtime_login_cannot_change_the_schema_or_the_records(
    story: DictConnection, runtime_url: str, statement: str
) -> None:
    with psycopg.connect(runtime_url, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_runtime_login_reads_and_writes_rows(story: DictConnection, runtime_url: str) -> None:
    with psycopg.connect(runtime_url) as conn:
        conn.execute("SELECT set_config('squelch.sandbox', 'default', true)")
        conn.execute("UPDATE demo_customers SET health_score = 5 WHERE customer_id = 'aco-001'")
        assert conn.execute("SELECT count(*) FROM demo_contacts").fetchone() == (2,)
        conn.rollback()


# ---- what the runtime login may see: what its routes need, no more

LOG_LINE = (
    "INSERT INTO demo_reset_log (requested_by, anchor_date, duration_ms, source_ip, sandbox, checkpoint, source) "
    "VALUES ('someone', current_date, 1, '203.0.113.9', 'default', 'act1-start', 'presenter')"
)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT requested_by, source_ip FROM demo_reset_log",
        "SELECT count(*) FROM demo_reset_log",
        "SELECT 1 FROM demo_reset_log WHERE requested_by = 'presenter@squelch.example'",
        LOG_LINE + " RETURNING requested_by",
        LOG_LINE + " RETURNING reset_id",
    ],
)
def test_runtime_login_may_not_read_the_reset_log(story: DictConnection, runtime_url: str, statement: str) -> None:
    # Given a reset logged (its presenter's name and address), When the login reads the log, Then it may not
    invoke("DemoResetFunction", load_event("demo_reset.json"))
    with psycopg.connect(runtime_url, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_runtime_login_may_add_to_the_reset_log(story: DictConnection, runtime_url: str) -> None:
    before = story.execute("SELECT count(*) AS n FROM demo_reset_log").fetchone()
    with psycopg.connect(runtime_url, autocommit=True) as conn:
        conn.execute(LOG_LINE)
    after = story.execute("SELECT count(*) AS n FROM demo_reset_log").fetchone()
    assert before is not None and after == {"n": before["n"] + 1}


def enter(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute("SELECT set_config('squelch.sandbox', %s, true)", [name])


def test_runtime_login_sees_and_writes_only_its_own_sandboxs_row(story: DictConnection, runtime_url: str) -> None:
    # Given two other sandboxes besides the default one
    for name in ("alpha", "beta"):
        demo.reset(story, DEMO_DAY, name=name)
    with psycopg.connect(runtime_url) as conn:
        # When the login works in alpha, Then it sees alpha's row and no other
        enter(conn, "alpha")
        assert conn.execute("SELECT name FROM demo_sandboxes").fetchall() == [("alpha",)]
        assert conn.execute("SELECT count(*) FROM demo_sandboxes WHERE name = 'beta'").fetchone() == (0,)
        # And cannot change or delete another's, nor make one under another name
        assert conn.execute("UPDATE demo_sandboxes SET checkpoint = 'x' WHERE name = 'beta'").rowcount == 0
        assert conn.execute("DELETE FROM demo_sandboxes WHERE name IN ('beta', 'default')").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO demo_sandboxes (name, checkpoint, anchor_date)"
                " VALUES ('gamma', 'act1-start', current_date)"
            )
        conn.rollback()
        # But its own row it reads and writes, as the routes do
        enter(conn, "alpha")
        assert conn.execute("UPDATE demo_sandboxes SET last_activity_at = now() WHERE name = 'alpha'").rowcount == 1
        conn.rollback()
    rows = story.execute("SELECT name, checkpoint FROM demo_sandboxes ORDER BY name").fetchall()
    assert [(r["name"], r["checkpoint"]) for r in rows] == [
        ("alpha", "act1-start"),
        ("beta", "act1-start"),
        ("default", "act1-start"),
    ]


def test_without_a_sandbox_the_runtime_login_sees_no_sandbox(story: DictConnection, runtime_url: str) -> None:
    with psycopg.connect(runtime_url, autocommit=True) as conn:
        try:
            seen = conn.execute("SELECT name FROM demo_sandboxes").fetchall()
        except psycopg.errors.UndefinedObject:  # squelch.sandbox was never named on this connection
            seen = []
        assert seen == []


# What spans every sandbox goes through one function each, run as the schema's owner.
SPANNING = {
    "demo_sandbox_directory()": "SELECT * FROM demo_sandbox_directory()",
    "demo_sandbox_count()": "SELECT demo_sandbox_count()",
    "demo_remove_idle_sandboxes(integer)": "SELECT demo_remove_idle_sandboxes(14)",
    "demo_stale_sandboxes(date)": "SELECT demo_stale_sandboxes(current_date)",
}


def test_what_spans_every_sandbox_runs_as_the_owner_for_the_runtime_login_only(
    story: DictConnection, runtime_url: str
) -> None:
    for signature in SPANNING:
        function = story.execute(
            "SELECT p.prosecdef, pg_get_userbyid(p.proowner) AS owner, p.proconfig,"
            " has_function_privilege('public', p.oid, 'EXECUTE') AS anyone,"
            " has_function_privilege('squelch_runtime', p.oid, 'EXECUTE') AS runtime"
            " FROM pg_proc p WHERE p.oid = %s::regprocedure",
            [signature],
        ).fetchone()
        assert function is not None, signature
        owner = story.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'demo_sandboxes'").fetchone()
        assert owner is not None
        assert (function["prosecdef"], function["owner"]) == (True, owner["tableowner"]), signature
        assert function["proconfig"] == ["search_path=public, pg_temp"], signature  # no schema of the caller's
        assert (function["anyone"], function["runtime"]) == (False, True), signature


def test_the_directory_gives_the_listings_columns_and_no_more(story: DictConnection, runtime_url: str) -> None:
    demo.reset(story, DEMO_DAY, name="alpha")
    with psycopg.connect(runtime_url, autocommit=True) as conn:
        cursor = conn.execute(SPANNING["demo_sandbox_directory()"])
        columns = [column.name for column in cursor.description or []]
        names = [row[0] for row in cursor.fetchall()]
    assert columns == [
        "name",
        "checkpoint",
        "anchor_date",
        "created_at",
        "last_activity_at",
        "owner",
        "sandbox_key",
        "story",
    ]
    assert names == ["default", "alpha"]


def test_idle_sandboxes_cannot_be_removed_younger_than_a_day(story: DictConnection, runtime_url: str) -> None:
    demo.reset(story, DEMO_DAY, name="alpha")
    with psycopg.connect(runtime_url, autocommit=True) as conn:
        for days in (0, -1):
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                conn.execute("SELECT demo_remove_idle_sandboxes(%s)", [days])
    assert story.execute("SELECT count(*) AS n FROM demo_sandboxes WHERE name = 'alpha'").fetchone() == {"n": 1}


@pytest.fixture
def login_name(story: DictConnection) -> Iterator[str]:
    """A login name no other test run uses (roles belong to the whole server); dropped afterwards."""
    name = f"squelch_rt_{uuid.uuid4().hex[:10]}"
    yield name
    story.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def password_matches(stored: str | None, password: str, username: str) -> bool:
    """Whether a role's stored password (pg_authid.rolpassword: a SCRAM-SHA-256 verifier, or an md5 hash
    on a server set to password_encryption = md5) is that of this password."""
    if stored is None:
        return False
    if stored.startswith("md5"):
        return stored == "md5" + hashlib.md5((password + username).encode()).hexdigest()  # noqa: S324 (PostgreSQL's)
    iterations_salt, keys = stored.removeprefix("SCRAM-SHA-256$").split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return (
        base64.b64encode(hashlib.sha256(client_key).digest()).decode(),
        base64.b64encode(hmac.new(salted, b"Server Key", "sha256").digest()).decode(),
    ) == (stored_key, server_key)


@mock_aws
def test_migrate_function_provisions_the_login_from_the_runtime_secret(
    story: DictConnection, migrator, runtime_url: str, login_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a runtime secret as the stack generates it: a username and a password, nothing else
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    credentials._secrets_client.cache_clear()
    client = boto3.client("secretsmanager")
    arn = client.create_secret(
        Name="squelch/runtime", SecretString=json.dumps({"username": login_name, "password": "first-password"})
    )["ARN"]
    use_environment(monkeypatch, DB_RUNTIME_SECRET_ARN=arn)
    try:
        # When the migrate function runs (as the owner), twice, the password rotated in between
        assert invoke("DatabaseMigrateFunction", {})["runtime_login"] == login_name
        secret = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
        client.put_secret_value(SecretId=arn, SecretString=json.dumps(secret | {"password": "second-password"}))
        assert invoke("DatabaseMigrateFunction", {})["runtime_login"] == login_name
        # Then the login exists, is a member of squelch_runtime, and has no power beyond it
        role = story.execute(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,"
            " pg_has_role(rolname, 'squelch_runtime', 'MEMBER') AS member FROM pg_roles WHERE rolname = %s",
            [login_name],
        ).fetchone()
        assert role == {
            "rolcanlogin": True,
            "rolsuper": False,
            "rolcreaterole": False,
            "rolcreatedb": False,
            "rolbypassrls": False,
            "member": True,
        }
        # And its password is the secret's, as rotated
        stored = story.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [login_name]).fetchone()
        assert stored is not None and password_matches(stored["rolpassword"], "second-password", login_name)
        # And the secret was completed with the database's coordinates, the RDS shape the functions read
        secret = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
        info = story.info
        assert secret == {
            "username": login_name,
            "password": "second-password",
            "engine": "postgres",
            "host": info.host,
            "port": info.port,
            "dbname": info.dbname,
        }
        # And a route function given that secret (and no DATABASE_URL) answers as that login
        use_environment(
            monkeypatch, DATABASE_URL=None, DB_SECRET_ARN=arn, DB_RUNTIME_SECRET_ARN=None, DB_SSLMODE="prefer"
        )  # the test server has no TLS
        response = invoke("CustomerGetFunction", load_event("customer_get.json"))
        assert response["statusCode"] == 200 and body_of(response)["name"] == "Obsidian Black"
    finally:
        credentials._secrets_client.cache_clear()


def test_the_runtime_login_cannot_be_the_owner_or_a_powerful_role(story: DictConnection, login_name: str) -> None:
    with pytest.raises(roles.RoleError, match="another role than the schema's owner"):
        roles.provision_login(story, story.info.user, None)
    story.execute(sql.SQL("CREATE ROLE {} CREATEDB").format(sql.Identifier(login_name)))
    with pytest.raises(roles.RoleError, match="must not"):
        roles.provision_login(story, login_name, "pw")


def test_logins_provisioned_at_the_same_time_all_succeed(
    story: DictConnection, app_database: str, login_name: str
) -> None:
    # Given eight runners that provision the same login at once, over and over (two deploys against one
    # database, make run beside make refresh, two test sessions on one server), each on its own connection
    rounds, runners = 4, 8
    failures: list[BaseException] = []
    start = threading.Barrier(runners)

    def runner(number: int) -> None:
        with psycopg.connect(app_database, autocommit=True) as conn:
            for round_ in range(rounds):
                start.wait()
                try:
                    roles.provision_login(conn, login_name, f"password-{round_}-{number}")
                except Exception as error:
                    failures.append(error)

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then none of them failed, and the login is a member of squelch_runtime
    assert not failures, [f"{type(f).__name__}: {f}" for f in failures[:3]]
    member = story.execute("SELECT pg_has_role(%s, 'squelch_runtime', 'MEMBER') AS m", [login_name]).fetchone()
    assert member == {"m": True}
