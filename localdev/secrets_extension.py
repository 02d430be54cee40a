"""A local stand-in for the AWS Parameters and Secrets Lambda Extension, speaking its HTTP protocol.

In Lambda the extension listens on localhost:PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (2773 by
default) and answers `GET /secretsmanager/get?secretId=<id>` with GetSecretValue's JSON, when the
request carries the function's session token in `X-Aws-Parameters-Secrets-Token`; it fetches each
secret from Secrets Manager on first use and caches it. This stand-in does the same with boto3
(moto's in tests and benchmarks), so the layer's extension path runs here unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from psycopg.conninfo import conninfo_to_dict

Fetch = Callable[[str], dict[str, Any]]  # secret id -> GetSecretValue's answer
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"  # noqa: S105 - a header name, not a secret


class _Handler(BaseHTTPRequestHandler):
    server: _ExtensionServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if self.headers.get(TOKEN_HEADER) != self.server.session_token:
            return self._answer(401, {"message": "missing or wrong X-Aws-Parameters-Secrets-Token"})
        secret_id = parse_qs(url.query).get("secretId", [""])[0]
        if url.path != "/secretsmanager/get" or not secret_id:
            return self._answer(400, {"message": "GET /secretsmanager/get?secretId=<id>"})
        try:
            value = self.server.cached(secret_id)
        except Exception as error:
            return self._answer(400, {"message": str(error)})
        self.server.requests += 1
        return self._answer(200, value)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ExtensionServer(ThreadingHTTPServer):
    def __init__(self, session_token: str, fetch: Fetch) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.session_token, self.fetch = session_token, fetch
        self.cache: dict[str, dict[str, Any]] = {}
        self.requests = 0

    def cached(self, secret_id: str) -> dict[str, Any]:
        if secret_id not in self.cache:
            self.cache[secret_id] = self.fetch(secret_id)
        return self.cache[secret_id]


def rds_secret(database_url: str) -> dict[str, Any]:
    """The secret RDS (and the stack) keeps for a database, naming database_url's: what the layer's
    secret path reads, for a local Secrets Manager (moto's) to hold."""
    parts = conninfo_to_dict(database_url)
    return {
        "engine": "postgres",
        "host": parts.get("host", "localhost"),
        "port": int(parts.get("port") or 5432),
        "dbname": parts["dbname"],
        "username": parts.get("user", "postgres"),
        "password": parts.get("password") or "",
    }


def from_secrets_manager(client: Any) -> Fetch:
    def fetch(secret_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = client.get_secret_value(SecretId=secret_id)
        return {key: value for key, value in answer.items() if key != "ResponseMetadata"}

    return fetch


@contextmanager
def running(session_token: str, fetch: Fetch) -> Iterator[_ExtensionServer]:
    """The stand-in on a free port of 127.0.0.1 (its `server_port`) until the block ends."""
    server = _ExtensionServer(session_token, fetch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
