"""What `sam local` (SAM CLI's emulation in Docker) needs from this machine.

- The env-vars file its containers read (samconfig.toml names it): events/local-env.json, with the
  database URL the containers use and the key of `make demo-token`'s tokens, which the layer checks
  itself under sam local (SAM CLI skips JWT authorizers). The key stays out of the repository.
- A way for containers to reach the embedded PostgreSQL, which listens on a Unix socket only: a TCP
  relay on an address the containers reach as host.docker.internal (127.0.0.1 for Docker Desktop,
  the docker0 bridge, 172.17.0.1 by default, for Linux Docker Engine).
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from localdev.auth import signing_key
from localdev.template import ROOT

SOURCE = ROOT / "events" / "local-env.json"
ENV_FILE = ROOT / ".data" / "sam-local-env.json"
RELAY_HOST, RELAY_PORT = "127.0.0.1", 5433


def container_url(port: int) -> str:
    """The embedded database as a container reaches the relay: as the API functions' login, as in AWS."""
    return f"postgresql://squelch_app@host.docker.internal:{port}/squelch?sslmode=disable"


def write_env_file(database_url: str | None = None, path: Path = ENV_FILE) -> Path:
    """events/local-env.json, its DATABASE_URL replaced when given, plus the local token key; readable
    by its owner only, since the key signs tokens the local servers accept."""
    values: dict[str, Any] = json.loads(SOURCE.read_text())
    parameters = values["Parameters"]
    if database_url:
        parameters["DATABASE_URL"] = database_url
    parameters["SAM_LOCAL_AUTH_KEY"] = signing_key().decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(values, indent=2) + "\n")
    return path


def socket_path(url: str) -> str:
    """The Unix socket a libpq URL of the embedded server connects through."""
    info = conninfo_to_dict(url)
    directory = str(info.get("host") or "")
    if not directory.startswith("/"):
        raise ValueError("not a server on a Unix socket: the relay serves the embedded database only")
    return str(Path(directory) / f".s.PGSQL.{info.get('port') or 5432}")


class Relay(socketserver.ThreadingTCPServer):
    """Every TCP connection it accepts is piped, byte for byte, to the server's Unix socket. The
    server trusts whoever connects (the embedded one knows no passwords): bind it only where the
    containers are, never to 0.0.0.0."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, target: str) -> None:
        self.target = target
        super().__init__((host, port), _Pipe)


class _Pipe(socketserver.BaseRequestHandler):
    server: Relay

    def handle(self) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            upstream.connect(self.server.target)
            back = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
            back.start()
            _copy(self.request, upstream)
            back.join()


def _copy(source: socket.socket, destination: socket.socket) -> None:
    """Until source ends; then destination learns there is no more (the other direction goes on)."""
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            destination.sendall(data)
    with contextlib.suppress(OSError):
        destination.shutdown(socket.SHUT_WR)
