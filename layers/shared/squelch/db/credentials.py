"""Where the database credentials come from: DATABASE_URL, or an RDS-style Secrets Manager secret."""

from __future__ import annotations

import json
import os
import re
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


def tls_problem(error: BaseException, url_setting: str | None) -> str | None:
    """Why TLS stopped a connection, and what to change, in one line; None when TLS is not why.

    url_setting names the URL the connection string came from (DATABASE_URL), whose parameters
    the advice is about; None when it came from an RDS secret, whose TLS DB_SSLMODE and
    DB_SSLROOTCERT set. libpq's own words are matched (it gives no code for these failures)."""
    text = str(error)

    def setting(parameter: str, variable: str) -> str:
        return f"set {parameter} in {url_setting}" if url_setting else f"set {variable}"

    if match := re.search(r'server at "([^"]+)".*?, port (\d+) failed: server does not support SSL', text):
        return (
            f"The database server at {match[1]}:{match[2]} has no TLS, and the connection requires it: "
            f"{setting('sslmode=disable', 'DB_SSLMODE=disable')} if the network to it is trusted, or turn TLS "
            "on in the server."
        )
    if "no pg_hba.conf entry" in text and "no encryption" in text:
        undo = f"remove sslmode=disable from {url_setting}" if url_setting else "unset DB_SSLMODE"
        return f"The database server takes logins over TLS only, and the connection turned TLS off: {undo}."
    ca = setting("sslrootcert=/path/to/ca.pem", "DB_SSLROOTCERT=/path/to/ca.pem")
    if match := re.search(r'root certificate file "([^"]+)" does not exist', text):
        return (
            f"Verifying the database server's certificate needs the CA that signed it, and {match[1]} does not "
            f"exist: {ca} (for RDS, AWS's global-bundle.pem)."
        )
    if "certificate verify failed" in text:
        return (
            "The database server's certificate is not signed by the CA the connection trusts (sslrootcert, "
            f"DB_SSLROOTCERT): {ca}, the bundle of the CA that signed it (for RDS, AWS's global-bundle.pem)."
        )
    # libpq names the certificate's first name and counts the others: 'for "a" (and 2 other names)'.
    names = r'server certificate for "([^"]+)"( \(and \d+ other names?\))? does not match host name "([^"]+)"'
    if match := re.search(names, text):
        return (
            f'The database server\'s certificate is for "{match[1]}"{match[2] or ""}, not "{match[3]}", the host '
            f"connected to: connect to a name it carries (sslmode=verify-full checks the name; verify-ca checks "
            "the CA only)."
        )
    return None


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
