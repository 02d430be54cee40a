"""The container's connection: lazy, reused, re-opened when dropped, bounded when unreachable,
and credentials from DATABASE_URL or a Secrets Manager secret (moto; nothing calls AWS)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from conftest import RUNTIME_LOGIN, DictConnection, database_name, one, use_environment
from moto import mock_aws
from psycopg.conninfo import conninfo_to_dict

from localdev import secrets_extension
from squelch import db
from squelch.db import credentials
from squelch.db.connection import LOST
from squelch.errors import Unavailable
from squelch.settings import Settings


def backend_pid() -> int:
    return db.run(lambda conn: one(conn, "SELECT pg_backend_pid() AS pid")["pid"])


def test_connection_is_opened_once_and_reused(story: DictConnection) -> None:
    assert backend_pid() == backend_pid()


def test_connection_dropped_by_the_server_is_reopened(story: DictConnection) -> None:
    # Given a warm container whose connection the server then terminates
    first = backend_pid()
    story.execute("SELECT pg_terminate_backend(%s)", [first])
    # When the next invocation queries, then it succeeds on a new connection
    second = backend_pid()
    assert second != first


def test_connect_timeout_is_bounded() -> None:
    info = conninfo_to_dict(credentials.conninfo(Settings(database_url="postgresql://u@db.example/x")))
    assert info["connect_timeout"] == "5"


def test_unreachable_database_is_a_clear_unavailable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a port nothing listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    use_environment(monkeypatch, DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/x", DB_SECRET_ARN=None)
    # When a query runs, then the domain error says so, without credentials in the message
    with pytest.raises(Unavailable) as raised:
        db.run(lambda conn: conn.execute("SELECT 1"))
    assert raised.value.code == "database_unavailable"
    assert "postgres@" not in raised.value.message


def test_missing_configuration_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    use_environment(monkeypatch, DATABASE_URL=None, DB_SECRET_ARN=None)
    with pytest.raises(Unavailable, match="DATABASE_URL or DB_SECRET_ARN"):
        db.run(lambda conn: None)


@mock_aws
def test_credentials_from_an_rds_secret(story: DictConnection, app_database: str, monkeypatch) -> None:
    # Given an RDS-style secret holding the test database's coordinates, and no DATABASE_URL
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    credentials._secrets_client.cache_clear()
    parts = conninfo_to_dict(app_database)
    secret = json.dumps(secrets_extension.rds_secret(app_database))
    arn = boto3.client("secretsmanager").create_secret(Name="squelch/db", SecretString=secret)["ARN"]
    use_environment(monkeypatch, DATABASE_URL=None, DB_SECRET_ARN=arn, DB_SSLMODE="prefer")  # test server: no TLS
    try:
        # When the container connects, then it reaches the database the secret names
        name = db.run(lambda conn: one(conn, "SELECT current_database() AS db")["db"])
        assert name == parts["dbname"]
    finally:
        db.close()
        credentials._secrets_client.cache_clear()


@mock_aws
def test_rds_proxy_endpoint_replaces_the_secrets_host_and_disables_prepared_statements(
    story: DictConnection, app_database: str, monkeypatch
) -> None:
    # Given an RDS secret whose host is unreachable, and the proxy endpoint pointing at the real server
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    credentials._secrets_client.cache_clear()
    parts = conninfo_to_dict(app_database)
    secret = json.dumps(secrets_extension.rds_secret(app_database) | {"host": "db.internal.invalid"})
    arn = boto3.client("secretsmanager").create_secret(Name="squelch/proxy", SecretString=secret)["ARN"]
    use_environment(
        monkeypatch,
        DATABASE_URL=None,
        DB_SECRET_ARN=arn,
        DB_PROXY_ENDPOINT=str(parts.get("host", "localhost")),
        DB_SSLMODE="prefer",
    )
    try:
        assert db.run(lambda conn: one(conn, "SELECT 1 AS one")["one"]) == 1
        assert db.connection().prepare_threshold is None
    finally:
        db.close()
        credentials._secrets_client.cache_clear()


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Secrets Manager (moto's, in this process) as the layer's boto3 path reaches it."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    use_environment(monkeypatch, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=None)
    credentials._secrets_client.cache_clear()
    with mock_aws():
        yield boto3.client("secretsmanager")
    credentials._secrets_client.cache_clear()


def test_an_rds_secret_gives_every_coordinate_of_the_connection(secrets: Any) -> None:
    # Given an RDS-style secret, and another without a port or a database
    secret = {"host": "db.internal.example", "port": 6543, "dbname": "squelch", "username": "owner", "password": "p w"}
    arn = secrets.create_secret(Name="squelch/db", SecretString=json.dumps(secret))["ARN"]
    portless = {key: value for key, value in secret.items() if key not in ("port", "dbname")}
    arn_portless = secrets.create_secret(Name="squelch/portless", SecretString=json.dumps(portless))["ARN"]
    # When the connection string is made from each
    coordinates = ("host", "port", "dbname", "user", "password")
    made = [conninfo_to_dict(credentials.conninfo(Settings(db_secret_arn=a))) for a in (arn, arn_portless)]
    # Then it names the secret's host, port, database, user and password; PostgreSQL's defaults where it has none
    expected = {"host": "db.internal.example", "port": "6543", "dbname": "squelch", "user": "owner", "password": "p w"}
    assert [{key: info.get(key) for key in coordinates} for info in made] == [
        expected,
        expected | {"port": "5432", "dbname": "postgres"},
    ]


def test_the_functions_login_comes_from_its_secret_which_is_completed_once(secrets: Any) -> None:
    # Given the functions' secret as the stack generates it: a username and a password only
    generated = {"username": "squelch_app", "password": "generated pass"}
    arn = secrets.create_secret(Name="squelch/runtime", SecretString=json.dumps(generated))["ARN"]
    # When the migrate function reads it for a database
    login = credentials.runtime_login(arn, "db.example", 5432, "squelch")
    # Then it gets that login, and the secret now has the RDS shape the API functions read
    assert login == ("squelch_app", "generated pass")
    stored = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert stored == generated | {"engine": "postgres", "host": "db.example", "port": 5432, "dbname": "squelch"}
    # And reading it again for the same database writes nothing more
    versions = len(secrets.list_secret_version_ids(SecretId=arn)["Versions"])
    assert credentials.runtime_login(arn, "db.example", 5432, "squelch") == login
    assert len(secrets.list_secret_version_ids(SecretId=arn)["Versions"]) == versions


def test_the_story_version_is_read_again_on_a_new_connection_when_the_old_one_was_dropped(
    story: DictConnection,
) -> None:
    # Given a warm container whose connection the server then terminates
    first = backend_pid()
    story.execute("SELECT pg_terminate_backend(%s)", [first])
    committed = one(story, "SELECT version FROM demo_sandboxes WHERE name = 'default'")["version"]
    # When a conditional GET reads the story version, Then it gets it, on a new connection
    assert db.story_version("default") == committed
    assert backend_pid() != first


@pytest.mark.parametrize("dropped_first", [False, True], ids=["connection-fine", "connection-dropped-first"])
def test_a_story_version_the_server_refuses_is_unavailable_and_not_read_again(
    story: DictConnection, app_database: str, dropped_first: bool
) -> None:
    # Given the functions' login gives up waiting for a lock after 100 ms (in this database only), a
    # container whose connection is fine or was just dropped, and the sandboxes' table locked by another
    story.execute(f"ALTER ROLE {RUNTIME_LOGIN} IN DATABASE {database_name(app_database)} SET lock_timeout = '100ms'")
    try:
        db.close()
        pid = backend_pid()
        if dropped_first:
            story.execute("SELECT pg_terminate_backend(%s)", [pid])
        with psycopg.connect(app_database) as locker:
            locker.execute("LOCK TABLE demo_sandboxes IN ACCESS EXCLUSIVE MODE")
            # When a conditional GET reads the story version, Then it is a 503 saying the connection failed
            with pytest.raises(Unavailable) as refused:
                db.story_version("default")
        assert (refused.value.code, refused.value.message) == ("database_unavailable", LOST)
        # And a connection that was fine is kept: only a dropped one is replaced
        assert (backend_pid() == pid) is not dropped_first
    finally:
        story.execute(f"ALTER ROLE {RUNTIME_LOGIN} IN DATABASE {database_name(app_database)} RESET lock_timeout")
        db.close()


def test_read_only_work_runs_in_a_read_only_transaction(story: DictConnection) -> None:
    # Given work that writes, run as a read (as every GET route's is)
    def write(conn: DictConnection) -> None:
        conn.execute("UPDATE demo_customers SET name = name || '!'")

    # When it runs, Then PostgreSQL refuses the write, and nothing changed
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        db.run(write, read_only=True)
    assert one(story, "SELECT count(*) AS n FROM demo_customers WHERE right(name, 1) = '!'")["n"] == 0
