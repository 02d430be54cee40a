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

import boto3
import psycopg
import pytest
from conftest import DictConnection, body_of, invoke, load_event, use_environment
from moto import mock_aws
from psycopg import sql

from squelch.db import credentials, roles


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
