"""Where the database credentials come from: DATABASE_URL, or an RDS-style Secrets Manager secret."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from psycopg.conninfo import make_conninfo

from squelch.domain.errors import Unavailable
from squelch.settings import Settings


@cache
def _secrets_client() -> Any:
    import boto3  # only the Secrets Manager path pays for boto3's import

    return boto3.client("secretsmanager")


def conninfo(settings: Settings) -> str:
    """A libpq connection string with the settings' timeout; secrets are read on every (re)connect,
    so a rotated password is picked up the next time a connection is opened."""
    if settings.database_url:
        base = settings.database_url
    elif settings.db_secret_arn:
        base = _conninfo_from_secret(settings.db_secret_arn, settings.db_proxy_endpoint)
    else:
        raise Unavailable("database_not_configured", "Set DATABASE_URL or DB_SECRET_ARN.")
    return make_conninfo(base, connect_timeout=settings.db_connect_timeout, application_name="squelch")


def _conninfo_from_secret(secret_arn: str, proxy_endpoint: str | None) -> str:
    secret: dict[str, Any] = json.loads(_secrets_client().get_secret_value(SecretId=secret_arn)["SecretString"])
    return make_conninfo(
        host=proxy_endpoint or secret["host"],
        port=str(secret.get("port", 5432)),
        dbname=secret.get("dbname", "postgres"),
        user=secret["username"],
        password=secret["password"],
    )
