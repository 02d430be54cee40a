"""TLS to the database: required by default (libpq's own default, prefer, would fall back to
plaintext and check nothing), and the server verified (verify-full) when a CA bundle is configured.

Against a PostgreSQL server with TLS turned on, started by the test from the machine's PostgreSQL
installation (the embedded server is built without TLS), with a test CA made by trustme."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import trustme
from conftest import ROOT, body_of, invoke, load_event, one, use_environment
from moto import mock_aws
from pg_cluster import throwaway_cluster
from psycopg.conninfo import conninfo_to_dict

from localdev.server import free_port
from squelch import db
from squelch.db import credentials
from squelch.errors import Unavailable
from squelch.settings import get_settings


@dataclass(frozen=True)
class TlsServer:
    port: int
    ca: Path
    other_ca: Path

    def url(self, host: str = "localhost") -> str:
        return f"postgresql://postgres@{host}:{self.port}/postgres"


def _start_server(tls: bool) -> Iterator[TlsServer]:
    """A throwaway PostgreSQL server with TLS on or off; its certificate, from a test CA, names
    localhost only (connecting to 127.0.0.1 is another name)."""
    ca, other_ca = trustme.CA(organization_name="Squelch test CA"), trustme.CA(organization_name="Someone else")

    def certificates(folder: Path) -> None:
        ca.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        other_ca.cert_pem.write_to_path(str(folder / "other-ca.pem"))
        (folder / "server.pem").chmod(0o600)

        # Over TCP, logins come over TLS only when the server has it (hostssl), as RDS's rds.force_ssl does.
        (folder / "pg_hba.conf").write_text(
            f"local all all trust\n{'hostssl' if tls else 'host'} all all 127.0.0.1/32 trust\n"
        )

    settings = {
        "ssl": "on" if tls else "off",
        "ssl_cert_file": "{folder}/server.pem",
        "ssl_key_file": "{folder}/server.pem",
        "hba_file": "{folder}/pg_hba.conf",
    }
    with throwaway_cluster(settings, certificates, with_tls=True) as cluster:
        yield TlsServer(cluster.port, cluster.folder / "ca.pem", cluster.folder / "other-ca.pem")


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    yield from _start_server(tls=True)


@pytest.fixture(scope="module")
def plaintext_server() -> Iterator[TlsServer]:
    yield from _start_server(tls=False)


@pytest.fixture
def clean_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_environment(monkeypatch, DB_SECRET_ARN=None, DB_SSLMODE=None, DB_SSLROOTCERT=None)
    yield
    db.close()
    get_settings.cache_clear()


def encrypted() -> bool:
    """Whether the container's connection (opened as every function opens it) is encrypted."""
    return bool(one(db.connection(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")["ssl"])


def test_the_default_connection_is_encrypted(tls_server: TlsServer, clean_connection, monkeypatch) -> None:
    # Given a URL that says nothing about TLS
    use_environment(monkeypatch, DATABASE_URL=tls_server.url())
    # Then the connection requires it
    assert conninfo_to_dict(credentials.conninfo(get_settings()))["sslmode"] == "require"
    assert encrypted()


def test_a_server_without_tls_is_refused_by_default(plaintext_server: TlsServer, clean_connection, monkeypatch) -> None:
    # Given a server over TCP without TLS, and a URL that says nothing about TLS
    use_environment(monkeypatch, DATABASE_URL=plaintext_server.url())
    # Then no plaintext connection is made
    with pytest.raises(Unavailable) as refused:
        db.connection()
    assert "server does not support SSL" in str(refused.value.__cause__)
    # Unless the URL opts out on purpose, as the local embedded server's does
    use_environment(monkeypatch, DATABASE_URL=plaintext_server.url() + "?sslmode=disable")
    assert one(db.connection(), "SELECT 1 AS one")["one"] == 1


def test_a_ca_bundle_verifies_the_server(tls_server: TlsServer, clean_connection, monkeypatch) -> None:
    use_environment(monkeypatch, DATABASE_URL=tls_server.url(), DB_SSLROOTCERT=str(tls_server.ca))
    assert conninfo_to_dict(credentials.conninfo(get_settings()))["sslmode"] == "verify-full"
    assert encrypted()


def test_a_server_signed_by_another_ca_is_refused(tls_server: TlsServer, clean_connection, monkeypatch) -> None:
    use_environment(monkeypatch, DATABASE_URL=tls_server.url(), DB_SSLROOTCERT=str(tls_server.other_ca))
    with pytest.raises(Unavailable) as refused:
        db.connection()
    assert "certificate verify failed" in str(refused.value.__cause__)


def test_a_certificate_for_another_name_is_refused(tls_server: TlsServer, clean_connection, monkeypatch) -> None:
    # The certificate names localhost; 127.0.0.1 is the same server under a name it does not carry
    use_environment(monkeypatch, DATABASE_URL=tls_server.url("127.0.0.1"), DB_SSLROOTCERT=str(tls_server.ca))
    with pytest.raises(Unavailable) as refused:
        db.connection()
    assert "does not match host name" in str(refused.value.__cause__)


# ---- a connection that fails for TLS says why, and what to change, in one line


def tls_lines(log_output: io.StringIO) -> list[dict]:
    """The functions' log lines that explain a TLS failure."""
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    return [line for line in lines if line["message"] == "database connection failed on TLS"]


DOCUMENTED_503 = {
    "code": "database_unavailable",
    "message": "The database is not reachable; try again shortly.",
    "details": [],
}


def test_a_function_on_a_server_without_tls_logs_which_parameter_to_set(
    plaintext_server: TlsServer, clean_connection, monkeypatch, log_output
) -> None:
    # Given DATABASE_URL names a server without TLS, and says nothing about TLS
    use_environment(monkeypatch, DATABASE_URL=plaintext_server.url())
    # When a function connects
    response = invoke("CustomerGetFunction", load_event("customer_get.json"))
    # Then the client gets the documented 503, and the function's log says why in one line, without a traceback
    assert response["statusCode"] == 503 and body_of(response)["error"] == DOCUMENTED_503
    [line] = tls_lines(log_output)
    assert "has no TLS" in line["reason"] and "set sslmode=disable in DATABASE_URL" in line["reason"]
    assert "exception" not in line and "\n" not in line["reason"]


@mock_aws
def test_a_secret_naming_a_server_without_tls_logs_which_variable_to_set(
    plaintext_server: TlsServer, clean_connection, monkeypatch, log_output
) -> None:
    # Given the credentials come from an RDS secret (no URL to change) naming a server without TLS
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    credentials._secrets_client.cache_clear()
    secret = {"host": "127.0.0.1", "port": plaintext_server.port, "username": "postgres", "password": "-"}
    arn = boto3.client("secretsmanager").create_secret(Name="squelch/db", SecretString=json.dumps(secret))["ARN"]
    use_environment(monkeypatch, DATABASE_URL=None, DB_SECRET_ARN=arn)
    try:
        # When a function connects, Then its log names the variable that turns TLS off
        assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 503
        [line] = tls_lines(log_output)
        assert "has no TLS" in line["reason"] and "set DB_SSLMODE=disable" in line["reason"]
    finally:
        credentials._secrets_client.cache_clear()


def test_a_server_that_takes_tls_only_says_to_stop_disabling_it(
    tls_server: TlsServer, clean_connection, monkeypatch, log_output
) -> None:
    use_environment(monkeypatch, DATABASE_URL=tls_server.url() + "?sslmode=disable")
    assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 503
    [line] = tls_lines(log_output)
    assert (
        "takes logins over TLS only" in line["reason"] and "remove sslmode=disable from DATABASE_URL" in line["reason"]
    )


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("sslmode=verify-full&sslrootcert={other_ca}", "is not signed by the CA"),
        ("sslmode=verify-full", "/.postgresql/root.crt does not exist"),
        ("sslmode=verify-full&sslrootcert={folder}/no-such-ca.pem", "no-such-ca.pem does not exist"),
    ],
    ids=["another-ca", "no-ca-given", "a-ca-file-that-is-not-there"],
)
def test_a_server_certificate_that_cannot_be_verified_says_why(
    tls_server: TlsServer, clean_connection, monkeypatch, log_output, query: str, said: str
) -> None:
    # Given verify-full with the wrong CA, or none
    url = f"{tls_server.url()}?{query.format(other_ca=tls_server.other_ca, folder=tls_server.ca.parent)}"
    use_environment(monkeypatch, DATABASE_URL=url, HOME=str(tls_server.ca.parent))
    # When a function connects, Then its log line says so, and which parameter gives the CA
    assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 503
    [line] = tls_lines(log_output)
    assert said in line["reason"] and "sslrootcert=" in line["reason"] and "DATABASE_URL" in line["reason"]


def test_a_certificate_for_another_name_says_which_name_it_carries(
    tls_server: TlsServer, clean_connection, monkeypatch, log_output
) -> None:
    use_environment(monkeypatch, DATABASE_URL=tls_server.url("127.0.0.1"), DB_SSLROOTCERT=str(tls_server.ca))
    assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 503
    [line] = tls_lines(log_output)
    assert 'is for "localhost", not "127.0.0.1"' in line["reason"]


def local_command(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A make target as a user runs it, with env added to the environment (not the test's database)."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL", "MAKEFLAGS")}
    return subprocess.run(
        [str(shutil.which("make")), "--no-print-directory", *command],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("server", "query", "said"),
    [
        ("plaintext_server", "", "has no TLS, and the connection requires it"),
        ("tls_server", "?sslmode=verify-full&sslrootcert={other_ca}", "is not signed by the CA"),
    ],
    ids=["no-tls", "another-ca"],
)
def test_make_run_says_why_tls_failed_in_one_line(request, server: str, query: str, said: str) -> None:
    # Given DATABASE_URL names a server the connection's TLS settings do not fit
    chosen: TlsServer = request.getfixturevalue(server)
    url = chosen.url() + query.format(other_ca=chosen.other_ca)
    # When `make run` starts
    run = local_command("run", DATABASE_URL=url, PORT=str(free_port()))
    # Then it ends saying why and what to change, without a traceback
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert said in run.stderr and "DATABASE_URL" in run.stderr, output
    assert "Traceback" not in output, output


def test_make_test_says_why_tls_failed_in_one_line(plaintext_server: TlsServer) -> None:
    # Given TEST_DATABASE_URL requires TLS of a server without it
    url = plaintext_server.url() + "?sslmode=require"
    # When `make test` runs
    tests = local_command(
        "test",
        "PYTEST_ARGS=tests/test_migrations.py -k migrates_an_empty -p no:cacheprovider -q",
        TEST_DATABASE_URL=url,
    )
    # Then it stops at once, saying why and what to change, without a traceback
    output = tests.stdout + tests.stderr
    assert tests.returncode != 0
    assert "TEST_DATABASE_URL" in output and "set sslmode=disable in TEST_DATABASE_URL" in output, output
    assert "Traceback" not in output and "psycopg.OperationalError" not in output, output
