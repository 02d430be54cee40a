"""TLS to the database: required by default (libpq's own default, prefer, would fall back to
plaintext and check nothing), and the server verified (verify-full) when a CA bundle is configured.

Against a PostgreSQL server with TLS turned on, started by the test from the machine's PostgreSQL
installation (the embedded server is built without TLS), with a test CA made by trustme."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from conftest import one, use_environment
from pg_cluster import throwaway_cluster
from psycopg.conninfo import conninfo_to_dict

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

    settings = {
        "ssl": "on" if tls else "off",
        "ssl_cert_file": "{folder}/server.pem",
        "ssl_key_file": "{folder}/server.pem",
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
