"""TLS to the database: verified (verify-full) by default against RDS (the Amazon RDS CA bundle
shipped in the layer) and RDS Proxy (the system trust store), required everywhere else (libpq's own
default, prefer, would fall back to plaintext and check nothing), and verified against any CA bundle
configured.

Against a PostgreSQL server with TLS turned on, started by the test from the machine's PostgreSQL
installation (the embedded server is built without TLS), with a test CA made by trustme. Its
certificate also names an RDS endpoint and an RDS Proxy endpoint, which the test reaches on
127.0.0.1 through libpq's hostaddr: libpq checks the certificate against the host name it was given."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
import yaml
from conftest import ROOT, one, use_environment
from cryptography import x509
from cryptography.x509.oid import NameOID
from pg_cluster import throwaway_cluster
from psycopg.conninfo import conninfo_to_dict

from localdev.template import _CloudFormationLoader
from squelch import db
from squelch.db import credentials, tls
from squelch.errors import Unavailable
from squelch.settings import get_settings
from tools import rds_ca_bundle

RDS_HOST = "squelch.c1x2y3z4w5v6.eu-west-1.rds.amazonaws.com"
PROXY_HOST = "squelch-proxy.proxy-c1x2y3z4w5v6.eu-west-1.rds.amazonaws.com"


@dataclass(frozen=True)
class TlsServer:
    port: int
    ca: Path
    other_ca: Path

    def url(self, host: str = "localhost") -> str:
        # A name other than localhost is reached on 127.0.0.1 (hostaddr), and checked as the name it is.
        address = "" if host in ("localhost", "127.0.0.1") else "?hostaddr=127.0.0.1"
        return f"postgresql://postgres@{host}:{self.port}/postgres{address}"


def _start_server(tls: bool) -> Iterator[TlsServer]:
    """A throwaway PostgreSQL server with TLS on or off; its certificate, from a test CA, names
    localhost, RDS_HOST and PROXY_HOST only (connecting to 127.0.0.1 is another name)."""
    ca, other_ca = trustme.CA(organization_name="Squelch test CA"), trustme.CA(organization_name="Someone else")

    def certificates(folder: Path) -> None:
        ca.issue_cert("localhost", RDS_HOST, PROXY_HOST).private_key_and_cert_chain_pem.write_to_path(
            str(folder / "server.pem")
        )
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
    use_environment(monkeypatch, DB_SECRET_ARN=None, DB_SSLMODE=None, DB_SSLROOTCERT=None, DB_PROXY_ENDPOINT=None)
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


# ---- the defaults for RDS and RDS Proxy


def test_the_layer_ships_amazon_rds_ca_bundle_pinned_by_its_hash() -> None:
    # Given the bundle in the layer's package (sam build copies it into /opt/python/squelch/db/certs/)
    data = tls.RDS_CA_BUNDLE.read_bytes()
    # Then it is the pinned file
    assert rds_ca_bundle.sha256(data) == rds_ca_bundle.BUNDLE_SHA256
    rds_ca_bundle.check()
    # And every certificate in it is a CA of Amazon RDS, signed by itself or by another CA of the bundle
    certificates = x509.load_pem_x509_certificates(data)
    by_subject = {certificate.subject: certificate for certificate in certificates}
    assert len(certificates) >= 100
    for certificate in certificates:
        subject = certificate.subject
        assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Amazon Web Services, Inc."
        assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "Amazon RDS"
        assert str(subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value).startswith("Amazon RDS ")
        assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        certificate.verify_directly_issued_by(by_subject[certificate.issuer])
    # And the current generation of RDS CAs (rds-ca-rsa2048-g1 and its siblings) covers the regions the template names
    assert bundle_regions(certificates) == set(TEMPLATE_RDS_REGIONS)


def bundle_regions(certificates: list[x509.Certificate]) -> set[str]:
    """The regions with all three current RDS CAs in the bundle (Beta and Preview are AWS's own)."""
    names = [str(c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value) for c in certificates]
    found = [re.fullmatch(r"Amazon RDS ([a-z]+-[a-z]+-\d) Root CA (RSA2048|RSA4096|ECC384) G1", n) for n in names]
    kinds: dict[str, set[str]] = {}
    for match in filter(None, found):
        kinds.setdefault(match[1], set()).add(match[2])
    return {region for region, present in kinds.items() if len(present) == 3}


TEMPLATE = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506
# The rule that refuses a created database in a region the bundle has no CA for.
TEMPLATE_RDS_REGIONS = TEMPLATE["Rules"]["RdsCaBundleCoversTheRegion"]["Assertions"][0]["Assert"]["Fn::Contains"][0]


def test_an_rds_endpoint_is_verified_against_the_shipped_bundle_by_default(
    tls_server: TlsServer, clean_connection, monkeypatch
) -> None:
    # Given a URL naming an RDS endpoint and nothing about TLS
    use_environment(monkeypatch, DATABASE_URL=tls_server.url(RDS_HOST))
    # Then the server is verified, host name included, against the RDS bundle in the layer
    given = conninfo_to_dict(credentials.conninfo(get_settings()))
    assert (given["sslmode"], given["sslrootcert"]) == ("verify-full", str(tls.RDS_CA_BUNDLE))
    # So a server whose certificate no Amazon RDS CA signed is refused
    with pytest.raises(Unavailable) as refused:
        db.connection()
    assert "certificate verify failed" in str(refused.value.__cause__)


def test_an_rds_endpoint_signed_by_the_bundle_connects_and_another_name_does_not(
    tls_server: TlsServer, clean_connection, monkeypatch
) -> None:
    # Given the server's CA in the place of the RDS bundle
    monkeypatch.setattr(tls, "RDS_CA_BUNDLE", tls_server.ca)
    # When the connection names the RDS endpoint its certificate names
    use_environment(monkeypatch, DATABASE_URL=tls_server.url(RDS_HOST))
    # Then it is made, verified
    assert encrypted()
    db.close()
    # And another RDS endpoint served by the same certificate is refused
    use_environment(monkeypatch, DATABASE_URL=tls_server.url(RDS_HOST.replace("squelch.", "other.")))
    with pytest.raises(Unavailable) as refused:
        db.connection()
    assert "does not match host name" in str(refused.value.__cause__)


def test_rds_proxy_is_verified_against_the_system_trust_store(
    tls_server: TlsServer, clean_connection, monkeypatch
) -> None:
    # Given the functions connecting through RDS Proxy (DB_PROXY_ENDPOINT, as the stack sets it)
    use_environment(monkeypatch, DATABASE_URL=tls_server.url(PROXY_HOST), DB_PROXY_ENDPOINT=PROXY_HOST)
    given = conninfo_to_dict(credentials.conninfo(get_settings()))
    # Then the proxy's certificate is verified against the system's roots (it is a public ACM certificate)
    assert (given["sslmode"], given["sslrootcert"]) == ("verify-full", tls.SYSTEM_TRUST_STORE)
    # So with the test CA as the system's roots it connects, and with another CA it does not
    monkeypatch.setattr(tls, "SYSTEM_TRUST_STORE", str(tls_server.ca))
    assert encrypted()
    db.close()
    monkeypatch.setattr(tls, "SYSTEM_TRUST_STORE", str(tls_server.other_ca))
    with pytest.raises(Unavailable) as refused:
        db.connection()
    assert "certificate verify failed" in str(refused.value.__cause__)


@pytest.mark.parametrize(
    ("host", "proxy", "root"),
    [
        (RDS_HOST, None, str(tls.RDS_CA_BUNDLE)),
        ("squelch.cluster-c1x2y3z4w5v6.us-east-1.rds.amazonaws.com", None, str(tls.RDS_CA_BUNDLE)),
        (PROXY_HOST, None, tls.SYSTEM_TRUST_STORE),
        (PROXY_HOST, PROXY_HOST, tls.SYSTEM_TRUST_STORE),
        ("db.internal.example", "db.internal.example", tls.SYSTEM_TRUST_STORE),
        ("db.internal.example", None, None),
        ("rds.amazonaws.com.attacker.example", None, None),
        ("127.0.0.1", None, None),
        ("/var/run/postgresql", None, None),
    ],
)
def test_the_secrets_host_decides_the_default(monkeypatch, host: str, proxy: str | None, root: str | None) -> None:
    # Given the functions' secret naming host (and the proxy, if any, replacing it as the stack does)
    use_environment(
        monkeypatch,
        DATABASE_URL=None,
        DB_SECRET_ARN="arn:secret",
        DB_PROXY_ENDPOINT=proxy,
        DB_SSLMODE=None,
        DB_SSLROOTCERT=None,
    )
    monkeypatch.setattr(credentials, "_secret", lambda arn: {"host": host, "username": "u", "password": "p"})
    # When the connection string is made
    given = conninfo_to_dict(credentials.conninfo(get_settings()))
    # Then RDS and RDS Proxy are verified, anything else only encrypted
    assert given.get("sslrootcert") == root
    assert given["sslmode"] == ("verify-full" if root else "require")


def test_settings_or_the_url_win_over_the_default(monkeypatch) -> None:
    # Given an RDS endpoint and a URL or settings that say otherwise
    cases = {
        f"postgresql://u@{RDS_HOST}/db?sslmode=disable": ({}, {"sslmode": "disable"}),
        f"postgresql://u@{RDS_HOST}/db": ({"DB_SSLMODE": "require"}, {"sslmode": "require"}),
        f"postgresql://u@{RDS_HOST}/db?sslrootcert=/mine.pem": ({}, {"sslmode": "require", "sslrootcert": "/mine.pem"}),
        f"postgresql://u@{RDS_HOST}/db ": (
            {"DB_SSLROOTCERT": "/mine.pem"},
            {"sslmode": "verify-full", "sslrootcert": "/mine.pem"},
        ),
    }
    for url, (environment, expected) in cases.items():
        use_environment(
            monkeypatch, **({"DATABASE_URL": url.strip(), "DB_SSLMODE": None, "DB_SSLROOTCERT": None} | environment)
        )
        given = conninfo_to_dict(credentials.conninfo(get_settings()))
        # Then theirs is what is used
        assert {key: given[key] for key in ("sslmode", "sslrootcert") if key in given} == expected, url
