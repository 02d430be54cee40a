"""Database credentials through the AWS Parameters and Secrets Lambda Extension: when the stack
attaches it (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT set), a new container reads its secret over
localhost with its session token, without importing boto3 or building a client; without it, or
when nothing listens there, boto3 as before. Against a local stand-in that speaks the extension's
protocol, backed by moto's Secrets Manager."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import RUNTIME_LOGIN, DictConnection, invoke, load_event, one, use_environment
from moto import mock_aws

from localdev import secrets_extension
from localdev.server import free_port
from squelch import db
from squelch.db import credentials

SESSION_TOKEN = "session-token-of-this-container"


@pytest.fixture
def secret_arn(story: DictConnection, runtime_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An RDS-style secret (in moto) naming the test database, as the API functions' login."""
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
        credentials._secrets_client.cache_clear()
        secret = json.dumps(secrets_extension.rds_secret(runtime_url))
        arn = boto3.client("secretsmanager").create_secret(Name="squelch/app", SecretString=secret)["ARN"]
        use_environment(monkeypatch, DATABASE_URL=None, DB_SECRET_ARN=arn, DB_SSLMODE="prefer")
        yield arn
        db.close()
        credentials._secrets_client.cache_clear()


def from_moto() -> secrets_extension.Fetch:
    return secrets_extension.from_secrets_manager(boto3.client("secretsmanager"))


def no_boto3(*args: Any) -> Any:
    raise AssertionError("the extension path must not build a boto3 client")


def test_a_new_container_reads_its_secret_through_the_extension(secret_arn: str, monkeypatch) -> None:
    # Given the extension running beside the function, and boto3 unusable
    with secrets_extension.running(
        SESSION_TOKEN, secrets_extension.from_secrets_manager(boto3.client("secretsmanager"))
    ) as extension:
        use_environment(monkeypatch, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=str(extension.server_port))
        monkeypatch.setattr(boto3, "client", no_boto3)
        # When a route runs in a new container
        response = invoke("CustomerGetFunction", load_event("customer_get.json"))
        # Then it answered from the database the secret names, having asked the extension once
        assert response["statusCode"] == 200
        assert extension.requests == 1
        assert one(db.connection(), "SELECT current_user AS who")["who"] == RUNTIME_LOGIN


def test_the_extension_refuses_a_caller_without_the_session_token(secret_arn: str, monkeypatch) -> None:
    # Given the extension, and a container whose session token is not the one it expects
    with secrets_extension.running(
        "another-token", secrets_extension.from_secrets_manager(boto3.client("secretsmanager"))
    ) as extension:
        use_environment(monkeypatch, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=str(extension.server_port))
        # When a route runs, Then it is a 503 saying the database is unavailable, not a 500
        response = invoke("CustomerGetFunction", load_event("customer_get.json"))
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"]["code"] == "database_unavailable"
    assert SESSION_TOKEN not in response["body"]


def test_without_a_listening_extension_boto3_reads_the_secret(secret_arn: str, monkeypatch, caplog) -> None:
    # Given the port is configured but nothing listens there (the layer was not attached)
    use_environment(monkeypatch, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=str(free_port()))
    # When a route runs, Then boto3 reads the secret and the route answers
    assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 200


def test_without_the_extension_setting_boto3_reads_the_secret(secret_arn: str, monkeypatch) -> None:
    use_environment(monkeypatch, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=None)
    assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 200


def test_a_secret_that_cannot_be_read_is_a_503_not_a_500(secret_arn: str, monkeypatch) -> None:
    # Given a secret ARN that Secrets Manager does not know (deleted, or a typo in the parameter)
    use_environment(monkeypatch, DB_SECRET_ARN=secret_arn + "-gone", PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=None)
    # When a route runs, Then it says the database is unavailable, without the ARN's details
    response = invoke("CustomerGetFunction", load_event("customer_get.json"))
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"]["code"] == "database_unavailable"
