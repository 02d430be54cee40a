"""The container's connection: lazy, reused, re-opened when dropped, bounded when unreachable,
and credentials from DATABASE_URL or a Secrets Manager secret (moto; nothing calls AWS)."""

from __future__ import annotations

import json
import socket

import boto3
import pytest
from conftest import DictConnection, one, use_environment
from moto import mock_aws
from psycopg.conninfo import conninfo_to_dict

from squelch import db
from squelch.db import credentials
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
    secret = {
        "engine": "postgres",
        "host": parts.get("host", "localhost"),
        "port": int(parts.get("port") or 5432),
        "dbname": parts["dbname"],
        "username": parts.get("user", "postgres"),
        "password": parts.get("password") or "",
    }
    arn = boto3.client("secretsmanager").create_secret(Name="squelch/db", SecretString=json.dumps(secret))["ARN"]
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
    secret = {
        "host": "db.internal.invalid",
        "port": int(parts.get("port") or 5432),
        "dbname": parts["dbname"],
        "username": parts.get("user", "postgres"),
        "password": parts.get("password") or "",
    }
    arn = boto3.client("secretsmanager").create_secret(Name="squelch/proxy", SecretString=json.dumps(secret))["ARN"]
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
