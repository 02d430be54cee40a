"""How a connection's server is verified, when neither the URL nor the settings say.

- An RDS instance or cluster endpoint (`*.rds.amazonaws.com`): verify-full against the Amazon RDS CA
  bundle shipped beside this module (certs/global-bundle.pem: AWS's global bundle, pinned by its
  SHA-256 in tools/rds_ca_bundle.py). RDS signs its servers' certificates with its own CAs, which no
  system trust store holds.
- RDS Proxy (the proxy endpoint the stack or DB_PROXY_ENDPOINT names, or any `*.proxy-*.rds.amazonaws.com`):
  verify-full against the system trust store, since the proxy presents a public ACM certificate.
  The store is named by its path, not libpq's `sslrootcert=system`: psycopg's binary wheels carry
  their own OpenSSL, whose default store (/usr/lib/psycopg-openssl) is not on Lambda.
- Any other host (your own PostgreSQL, Supabase, a laptop's): TLS required, certificate not
  checked (`require`), unless DB_SSLROOTCERT names its CA; libpq's own default, `prefer`, would
  fall back to plaintext.
"""

from __future__ import annotations

import re
from pathlib import Path

from squelch.settings import Settings

RDS_CA_BUNDLE = Path(__file__).resolve().parent / "certs" / "global-bundle.pem"
# Amazon Linux 2023's (the python3.12 runtime's) bundle of the system's trusted roots.
SYSTEM_TRUST_STORE = "/etc/pki/tls/certs/ca-bundle.crt"
RDS_HOST = re.compile(r"^[a-z0-9.-]+\.rds\.amazonaws\.com\.?$", re.IGNORECASE)
RDS_PROXY_HOST = re.compile(r"(?:^|\.)proxy-[a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com\.?$", re.IGNORECASE)


def parameters(given: dict[str, str], settings: Settings) -> dict[str, str]:
    """sslmode and sslrootcert to add to a connection string whose own parameters are `given`:
    what DB_SSLMODE and DB_SSLROOTCERT say, else the default for the host it connects to."""
    if "sslmode" in given or "sslrootcert" in given or settings.db_sslmode or settings.db_sslrootcert:
        return _configured(given, settings)
    root = default_root(given.get("host", ""), settings)
    return {"sslmode": "verify-full", "sslrootcert": root} if root else {"sslmode": "require"}


def default_root(host: str, settings: Settings) -> str | None:
    """The CA file a connection to host is verified against by default; None: not verified."""
    if (settings.db_proxy_endpoint and host == settings.db_proxy_endpoint) or RDS_PROXY_HOST.search(host):
        return SYSTEM_TRUST_STORE
    if RDS_HOST.fullmatch(host):
        return str(RDS_CA_BUNDLE)
    return None


def _configured(given: dict[str, str], settings: Settings) -> dict[str, str]:
    extra: dict[str, str] = {}
    if "sslmode" not in given:
        extra["sslmode"] = settings.db_sslmode or ("verify-full" if settings.db_sslrootcert else "require")
    if settings.db_sslrootcert and "sslrootcert" not in given:
        extra["sslrootcert"] = settings.db_sslrootcert
    return extra
