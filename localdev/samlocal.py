"""What `sam local` (SAM CLI's emulation in Docker) needs from this machine.

- The env-vars file its containers read (samconfig.toml names it): events/local-env.json, with the
  database URL the containers use and the key of `make demo-token`'s tokens, which the layer checks
  itself under sam local (SAM CLI skips JWT authorizers). The key stays out of the repository. SAM CLI
  gives a function the file's "Parameters", then its own section: the migrate function's names the
  schema's owner and no runtime secret (the template's exists in AWS only), the console's the local
  sign-in below, the preflight's the functions it warms and `sam local start-lambda` (Lambda's Invoke
  API for its warm-ups) as its container reaches this machine.
- A way for containers to reach the embedded PostgreSQL, which listens on a Unix socket only: a TCP
  relay on an address the containers reach as host.docker.internal (127.0.0.1 for Docker Desktop,
  the docker0 bridge, 172.17.0.1 by default, for Linux Docker Engine).
- The console's sign-in (localdev.console_sign_in), which `make run` serves beside the routes and
  sam local cannot (it serves the template's routes only): a server of its own on 127.0.0.1, where
  the presenter's browser is, for a console on any loopback port.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from localdev import console_sign_in
from localdev.auth import signing_key
from localdev.database import RUNTIME_LOGIN
from localdev.messages import HttpRequest
from localdev.template import ROOT

SOURCE = ROOT / "events" / "local-env.json"
ENV_FILE = ROOT / ".data" / "sam-local-env.json"
RELAY_HOST, RELAY_PORT = "127.0.0.1", 5433
SIGN_IN_HOST, SIGN_IN_PORT = "127.0.0.1", 3002
LAMBDA_PORT = 3003  # sam local start-lambda's, as docs/LOCAL.md runs it
MIGRATE_FUNCTION, CONSOLE_FUNCTION = "DatabaseMigrateFunction", "ConsoleGetFunction"
PREFLIGHT_FUNCTION = "DemoPreflightFunction"
STYLESHEET = ROOT / "functions" / "console_get" / "console.css"
MAX_FORM_BYTES = 64 * 1024
log = logging.getLogger("localdev")


def container_url(port: int, login: str = RUNTIME_LOGIN) -> str:
    """The embedded database as a container reaches the relay: as the API functions' login, as in AWS
    (or as the schema's owner, the migrate function's)."""
    return f"postgresql://{login}@host.docker.internal:{port}/squelch?sslmode=disable"


def lambda_endpoint(port: int) -> str:
    """`sam local start-lambda --port <port>` as the preflight's container reaches it."""
    return f"http://host.docker.internal:{port}"


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def as_containers_reach_it(url: str) -> str:
    """A server of this machine (localhost, 127.0.0.1, ::1) as sam local's containers reach it,
    host.docker.internal (samconfig.toml maps it on Linux Docker Engine too); any other as it is."""
    info = conninfo_to_dict(url)
    if info.get("host") in LOOPBACK:
        info.pop("hostaddr", None)
        return make_conninfo("", **{**info, "host": "host.docker.internal"})
    return url


def console_environment(sign_in_port: int) -> dict[str, str]:
    """The console's settings for the sign-in served on 127.0.0.1:sign_in_port: absolute URLs, since the
    console is on sam local's port; no sign-out page (the local sign-in keeps no session)."""
    origin = f"http://{SIGN_IN_HOST}:{sign_in_port}"
    return {
        "CONSOLE_AUTHORIZE_URL": origin + console_sign_in.AUTHORIZE_PATH,
        "CONSOLE_TOKEN_URL": origin + console_sign_in.TOKEN_PATH,
        "CONSOLE_LOGOUT_URL": "",
        "CONSOLE_CLIENT_ID": console_sign_in.CLIENT_ID,
        "CONSOLE_SCOPES": console_sign_in.ENVIRONMENT["CONSOLE_SCOPES"],
    }


def write_env_file(
    database_url: str | None = None,
    path: Path = ENV_FILE,
    *,
    migrate_database_url: str | None = None,
    sign_in_port: int | None = None,
    lambda_port: int | None = None,
) -> Path:
    """events/local-env.json plus the local token key, with what is given in place of its defaults: the
    API functions' database, the migrate function's (the owner's; with your own database and no owner's
    URL it takes the API functions'), the local sign-in's port, sam local start-lambda's port. Readable
    by its owner only, since the key signs tokens the local servers accept."""
    values: dict[str, Any] = json.loads(SOURCE.read_text())
    parameters = values["Parameters"]
    if database_url:
        parameters["DATABASE_URL"] = database_url
        values[MIGRATE_FUNCTION].pop("DATABASE_URL")  # the committed one is the relay's
    if migrate_database_url:
        values[MIGRATE_FUNCTION]["DATABASE_URL"] = migrate_database_url
    if sign_in_port:
        values[CONSOLE_FUNCTION] = console_environment(sign_in_port)
    if lambda_port:
        values[PREFLIGHT_FUNCTION]["LAMBDA_ENDPOINT_URL"] = lambda_endpoint(lambda_port)
    parameters["SAM_LOCAL_AUTH_KEY"] = signing_key().decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(values, indent=2) + "\n")
    return path


def write_relay_env_file(
    relay_port: int, owner_url: str, sign_in_port: int, path: Path = ENV_FILE, *, lambda_port: int = LAMBDA_PORT
) -> Path:
    """`make sam-db`'s file: the relay as the API functions' login and, for the migrate function, as the
    owner of owner_url (the embedded server's); the console's sign-in on sign_in_port; the preflight's
    warm-ups to start-lambda on lambda_port."""
    owner = str(conninfo_to_dict(owner_url).get("user") or "postgres")
    return write_env_file(
        container_url(relay_port),
        path,
        migrate_database_url=container_url(relay_port, owner),
        sign_in_port=sign_in_port,
        lambda_port=lambda_port,
    )


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


class SignInServer(ThreadingHTTPServer):
    """The console's local sign-in for the console sam local serves (`make sam-db` runs it): the paths
    of localdev.console_sign_in, a code sent only to a console on this machine, the token's answer
    readable by that console's page (CORS), and the stylesheet the sign-in page links."""

    daemon_threads = True

    def __init__(self, host: str, port: int) -> None:
        super().__init__((host, port), _SignInRequest)

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _SignInRequest(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "squelch-local-sign-in"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_FORM_BYTES:
            status, headers, body = _json(413, "payload_too_large", "A sign-in form is a few hundred bytes.")
            self.close_connection = True
        else:
            lowered = {key.lower(): value for key, value in self.headers.items()}
            request = HttpRequest(self.command, path, query, lowered, self.rfile.read(length) if length else b"")
            status, headers, body = _sign_in_answer(request)
        log.info("sign-in %s %s %d", self.command, path, status)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # _serve logs one line per request instead


def _sign_in_answer(request: HttpRequest) -> console_sign_in.Answer:
    answer = console_sign_in.handle(request, console_sign_in.console_on_this_machine)
    if answer is not None:
        status, headers, body = answer
        if request.path == console_sign_in.TOKEN_PATH:
            headers = headers | console_sign_in.token_cors_headers(request.headers.get("origin"))
        return status, headers, body
    if (
        request.method == "GET"
        and request.path == console_sign_in.CONSOLE_PATH
        and request.query == "asset=console.css"
    ):
        return 200, {"content-type": "text/css; charset=utf-8", "cache-control": "no-cache"}, STYLESHEET.read_bytes()
    return _json(404, "not_found", f"The local sign-in has no {request.method} {request.path}.")


def _json(status: int, code: str, message: str) -> console_sign_in.Answer:
    body = json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()
    return status, {"content-type": "application/json"}, body
