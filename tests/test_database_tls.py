"""TLS to the database: verified (verify-full) by default against RDS (the Amazon RDS CA bundle
shipped in the layer) and RDS Proxy (the system trust store), required everywhere else (libpq's own
default, prefer, would fall back to plaintext and check nothing), and verified against any CA bundle
configured.

Against a PostgreSQL server with TLS turned on, started by the test from the machine's PostgreSQL
installation (the embedded server is built without TLS), with a test CA made by trustme. Its
certificate also names an RDS endpoint and an RDS Proxy endpoint, which the test reaches on
127.0.0.1 through libpq's hostaddr: libpq checks the certificate against the host name it was given."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import trustme
import yaml
from conftest import ROOT, body_of, invoke, load_event, one, use_environment
from cryptography import x509
from cryptography.x509.oid import NameOID
from moto import mock_aws
from pg_cluster import throwaway_cluster
from psycopg.conninfo import conninfo_to_dict

from localdev.server import free_port
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


@pytest.mark.parametrize(
    ("libpq", "said"),
    [
        ('server certificate for "db.a" does not match host name "db.b"', 'is for "db.a", not "db.b"'),
        (
            'server certificate for "db.a" (and 1 other name) does not match host name "db.b"',
            'is for "db.a" (and 1 other name), not "db.b"',
        ),
    ],
    ids=["one-name", "several-names"],
)
def test_a_name_mismatch_is_explained_however_many_names_the_certificate_has(libpq: str, said: str) -> None:
    explained = credentials.tls_problem(Exception(f"connection failed: {libpq}"), "DATABASE_URL")
    assert explained is not None and said in explained


def test_a_certificate_for_another_name_says_which_name_it_carries(
    tls_server: TlsServer, clean_connection, monkeypatch, log_output
) -> None:
    use_environment(monkeypatch, DATABASE_URL=tls_server.url("127.0.0.1"), DB_SSLROOTCERT=str(tls_server.ca))
    assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 503
    [line] = tls_lines(log_output)
    # (the test certificate names localhost, the RDS endpoint and the proxy: libpq counts the two others)
    assert 'is for "localhost" (and 2 other names), not "127.0.0.1"' in line["reason"]


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
