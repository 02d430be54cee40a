"""The API functions' login wherever this repository runs them: `make run`, `make refresh` and `make invoke`,
on the embedded PostgreSQL or on your own (DATABASE_URL), connect the route functions as a member of
squelch_runtime, as the stack does in AWS. The owner (the migrator) is not bound by row-level security, so
run as the owner every sandbox's rows would mix; as this login they cannot.

On the embedded server the login needs no password (it trusts local connections). On your own server it
gets one, generated once and kept in .data/ (as the local token key is), and set each time the login is
provisioned, so it is the same for every database of that server this machine uses.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from localdev import database
from localdev.template import ROOT

RUNTIME_LOGIN = database.RUNTIME_LOGIN
PASSWORD_FILE = ROOT / ".data" / "runtime-login.key"


def password(path: Path = PASSWORD_FILE) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def use_runtime_login() -> None:
    """Provision the API functions' login as the owner DATABASE_URL names, then point DATABASE_URL at
    that login, so every function invoked from here on connects as it (the caller runs the migrate
    function, which connects as the owner, before)."""
    from squelch import db
    from squelch.db import roles
    from squelch.errors import Unavailable
    from squelch.settings import get_settings

    owner_url = os.environ["DATABASE_URL"]
    url, secret = database.runtime_url(), None  # the embedded server: trusted, no password
    if url is None:
        secret = password()
        url = make_conninfo(owner_url, user=RUNTIME_LOGIN, password=secret)
    try:
        roles.provision_login(db.connection(), RUNTIME_LOGIN, secret)
    except (psycopg.Error, roles.RoleError) as error:
        sys.exit(
            f"Could not create the API functions' login {RUNTIME_LOGIN!r} on the database DATABASE_URL names "
            f"({error}). Its role must be able to create roles (CREATEROLE), as the migrate function's does in "
            "AWS: the routes must not run as the tables' owner, whom row-level security does not bind."
        )
    finally:
        db.close()
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        db.connection()
    except Unavailable as error:
        sys.exit(
            f"Could not log in as {RUNTIME_LOGIN!r} ({error.__cause__}). Let it log in with a password "
            f"(pg_hba.conf, e.g. `host <database> {RUNTIME_LOGIN} 127.0.0.1/32 scram-sha-256`); its password is "
            f"in {PASSWORD_FILE.relative_to(ROOT)}."
        )
    finally:
        db.close()
