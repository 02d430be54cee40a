"""TLS to the database: required by default (libpq's own default, prefer, would fall back to
plaintext and check nothing), and the server verified (verify-full) when a CA bundle is configured.

Against a PostgreSQL server with TLS turned on, started by the test from the machine's PostgreSQL
installation (the embedded server is built without TLS), with a test CA made by trustme."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from conftest import one, use_environment
from psycopg.conninfo import conninfo_to_dict

from localdev.server import free_port
from squelch import db
from squelch.db import credentials
from squelch.errors import Unavailable
from squelch.settings import get_settings


def _postgres_with_tls() -> Path | None:
    """The bin folder of a PostgreSQL server on this machine that was built with OpenSSL."""
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return None
    configure = subprocess.run([pg_config, "--configure"], capture_output=True, text=True).stdout
    bindir = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip())
    has_tls = "--with-openssl" in configure or "--with-ssl=openssl" in configure
    return bindir if has_tls and (bindir / "initdb").exists() else None


@dataclass(frozen=True)
class TlsServer:
    port: int
    ca: Path
    other_ca: Path

    def url(self, host: str = "localhost") -> str:
        return f"postgresql://postgres@{host}:{self.port}/postgres"


def _start_server(tls: bool) -> Iterator[TlsServer]:
    """A throwaway PostgreSQL server on 127.0.0.1, with TLS on or off, trusting every login."""
    bindir = _postgres_with_tls()
    if bindir is None:
        pytest.skip(
            "needs a PostgreSQL server installation built with TLS (pg_config on PATH), e.g. Debian's postgresql"
        )
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="squelch-tls-"))
    ca, other_ca = trustme.CA(organization_name="Squelch test CA"), trustme.CA(organization_name="Someone else")
    certificate = ca.issue_cert("localhost")  # the name only: connecting to 127.0.0.1 is another name
    certificate.private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    other_ca.cert_pem.write_to_path(str(folder / "other-ca.pem"))
    (folder / "server.pem").chmod(0o600)
    if as_postgres:
        shutil.chown(folder, "postgres")
        shutil.chown(folder / "server.pem", "postgres")
    data, port = folder / "data", free_port()
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = (
        f"-c ssl={'on' if tls else 'off'} -c ssl_cert_file={folder}/server.pem "
        f"-c ssl_key_file={folder}/server.pem -c listen_addresses=127.0.0.1 -c port={port} "
        f"-c unix_socket_directories={folder}"
    )
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield TlsServer(port, folder / "ca.pem", folder / "other-ca.pem")
    finally:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


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
