"""Where the database credentials come from: DATABASE_URL, or an RDS-style Secrets Manager secret."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from squelch.errors import Unavailable
from squelch.settings import Settings


@cache
def _secrets_client() -> Any:
    import boto3  # only the Secrets Manager path pays for boto3's import

    return boto3.client("secretsmanager")


# Dates and instants must not depend on the server's default zone (the embedded server takes the
# machine's zone at initdb): every session works in UTC.
UTC_SESSION = "-c TimeZone=UTC"


def conninfo(settings: Settings) -> str:
    """A libpq connection string with the settings' timeout and TLS; secrets are read on every
    (re)connect, so a rotated password is picked up the next time a connection is opened.

    TLS is required unless the URL or DB_SSLMODE says otherwise (a local server without TLS says
    sslmode=disable): libpq's own default, prefer, would fall back to plaintext and check no
    certificate. With a CA bundle configured the server's certificate and name are verified. The
    session's time zone is UTC."""
    if settings.database_url:
        base = settings.database_url
    elif settings.db_secret_arn:
        base = _conninfo_from_secret(settings.db_secret_arn, settings.db_proxy_endpoint)
    else:
        raise Unavailable("database_not_configured", "Set DATABASE_URL or DB_SECRET_ARN.")
    given = conninfo_to_dict(base)
    extra: dict[str, str] = {}
    if "sslmode" not in given:
        extra["sslmode"] = settings.db_sslmode or ("verify-full" if settings.db_sslrootcert else "require")
    if settings.db_sslrootcert:
        extra["sslrootcert"] = settings.db_sslrootcert
    if not settings.db_proxy_endpoint:  # RDS Proxy refuses startup options: connection.py sets the zone instead
        extra["options"] = f"{given.get('options', '')} {UTC_SESSION}".strip()
    return make_conninfo(base, connect_timeout=settings.db_connect_timeout, application_name="squelch", **extra)


def _secret(secret_arn: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(_secrets_client().get_secret_value(SecretId=secret_arn)["SecretString"])
    return value


def runtime_login(secret_arn: str, host: str, port: int, dbname: str) -> tuple[str, str]:
    """The API functions' username and password from their secret, which is completed with the
    database's coordinates when it lacks them (the stack generates it with a username and password
    only), so that it has the RDS shape the functions read."""
    secret = _secret(secret_arn)
    coordinates = {"engine": "postgres", "host": host, "port": port, "dbname": dbname}
    if any(secret.get(key) != value for key, value in coordinates.items()):
        _secrets_client().put_secret_value(SecretId=secret_arn, SecretString=json.dumps(secret | coordinates))
    return str(secret["username"]), str(secret["password"])


def _conninfo_from_secret(secret_arn: str, proxy_endpoint: str | None) -> str:
    secret = _secret(secret_arn)
    return make_conninfo(
        host=proxy_endpoint or secret["host"],
        port=str(secret.get("port", 5432)),
        dbname=secret.get("dbname", "postgres"),
        user=secret["username"],
        password=secret["password"],
    )
