"""Where the database credentials come from: DATABASE_URL, or an RDS-style Secrets Manager secret."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any
from urllib.parse import urlencode

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from squelch import snapstart
from squelch.db import tls
from squelch.errors import Unavailable
from squelch.observability import logger
from squelch.settings import Settings, get_settings


@cache
def _secrets_client() -> Any:
    import boto3  # only the Secrets Manager path pays for boto3's import

    return boto3.client("secretsmanager")


snapstart.forget_on_snapshot(_secrets_client.cache_clear)  # it holds the snapshot's credentials


# Dates and instants must not depend on the server's default zone (the embedded server takes the
# machine's zone at initdb): every session works in UTC.
UTC_SESSION = "-c TimeZone=UTC"


def conninfo(settings: Settings) -> str:
    """A libpq connection string with the settings' timeout and TLS; secrets are read on every
    (re)connect, so a rotated password is picked up the next time a connection is opened.

    TLS as squelch.db.tls decides unless the URL or DB_SSLMODE says otherwise (a local server
    without TLS says sslmode=disable): verified against RDS and RDS Proxy, or against the CA bundle
    configured, else required. The session's time zone is UTC."""
    if settings.database_url:
        base = settings.database_url
    elif settings.db_secret_arn:
        base = _conninfo_from_secret(settings.db_secret_arn, settings.db_proxy_endpoint)
    else:
        raise Unavailable("database_not_configured", "Set DATABASE_URL or DB_SECRET_ARN.")
    given = conninfo_to_dict(base)
    extra = tls.parameters({key: str(value) for key, value in given.items() if value is not None}, settings)
    if not settings.db_proxy_endpoint:  # RDS Proxy refuses startup options: connection.py sets the zone instead
        extra["options"] = f"{given.get('options', '')} {UTC_SESSION}".strip()
    return make_conninfo(base, connect_timeout=settings.db_connect_timeout, application_name="squelch", **extra)


UNREADABLE = "The database credentials could not be read; try again shortly."


def _secret(secret_arn: str) -> dict[str, Any]:
    """The secret's JSON: from the Parameters and Secrets Lambda Extension when it is attached (no
    boto3 import, no client to build: the costliest part of a new container's first request), else
    from Secrets Manager through boto3. Failures are a 503; the reason goes to the log."""
    settings = get_settings()
    try:
        text = None
        if settings.parameters_secrets_extension_http_port:
            text = _from_extension(settings.parameters_secrets_extension_http_port, secret_arn, settings)
        if text is None:
            text = _from_secrets_manager(secret_arn)
        value: dict[str, Any] = json.loads(text)
    except (OSError, ValueError, KeyError) as error:
        logger.error("database secret unreadable", extra={"reason": f"{type(error).__name__}: {error}"})
        raise Unavailable("database_unavailable", UNREADABLE) from error
    return value


def _from_secrets_manager(secret_arn: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError  # loaded with boto3 on this path anyway

    try:
        return str(_secrets_client().get_secret_value(SecretId=secret_arn)["SecretString"])
    except (BotoCoreError, ClientError) as error:
        raise ValueError(str(error)) from error


def _from_extension(port: int, secret_arn: str, settings: Settings) -> str | None:
    """The secret string from the extension on localhost:port, with the container's session token as
    AWS documents; None when nothing listens there (the extension layer is not attached)."""
    import http.client  # only this path pays for it

    connection = http.client.HTTPConnection("localhost", port, timeout=settings.db_connect_timeout)
    try:
        connection.request(
            "GET",
            f"/secretsmanager/get?{urlencode({'secretId': secret_arn})}",
            headers={"X-Aws-Parameters-Secrets-Token": os.environ.get("AWS_SESSION_TOKEN", "")},
        )
        response = connection.getresponse()
        body = response.read()
    except ConnectionRefusedError:
        logger.warning("no Parameters and Secrets extension on its port; reading the secret with boto3")
        return None
    finally:
        connection.close()
    if response.status != 200:
        raise ValueError(f"the extension answered {response.status}: {body[:200]!r}")
    return str(json.loads(body)["SecretString"])


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
