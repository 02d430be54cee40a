"""An HTTP server on 127.0.0.1 that hands every request to the gateway, one log line each.

It answers only requests addressed to this machine by a loopback name or address (Host: localhost,
127.x.x.x or [::1], any port), or a name LOCAL_ALLOWED_HOSTS adds: a page on another name that its
owner pointed at 127.0.0.1 (DNS rebinding) gets a 421 and nothing else, since the browser would take
whatever we answered, tokens from the local sign-in included, as that page's own. A body is read only
with a Content-Length that is a plain count of bytes up to the cap.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from localdev import gateway
from localdev.messages import HttpRequest, HttpResponse

log = logging.getLogger("localdev")
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's own payload limit


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart (delayed ACK)
    server_version = "squelch-local"

    def _serve(self) -> None:
        started = time.perf_counter()
        path, _, query = self.path.partition("?")
        refusal = _misdirected(self.headers.get_all("host") or []) or _unreadable(self.headers)
        if refusal:
            response = refusal
            self.close_connection = True  # the body, if any, is never read: the connection cannot go on
        else:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            request = HttpRequest(self.command, path, query, headers, body, self.client_address[0])
            response = gateway.handle(request)
        # Logged before the response is sent, so whoever reads the response can already read its line.
        elapsed = (time.perf_counter() - started) * 1000
        log.info("%s %s %d %.1fms %s", self.command, self.path, response.status, elapsed, response.function or "-")
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        # A 204 or 304 has no content, and the length a 304 may state is its 200's (RFC 9110, 8.6).
        if response.status not in (204, 304):
            self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        # Every method (TRACE, PROPFIND, ...) reaches the gateway, which answers 405 or 404 in JSON.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # _serve logs one line per request instead


LOOPBACK_NAMES = ("localhost",)
# A Host value: a name or IPv4 address, or an IPv6 address in brackets, then an optional port.
_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[^\s:\[\]/@]+)(?::(?P<port>[0-9]{1,5}))?")
_LENGTH = re.compile(r"[0-9]{1,20}")


def allowed_host(host: str) -> bool:
    """Whether a Host header's value names this machine: localhost, a 127.0.0.0/8 address or [::1], on
    any port, or a name or address LOCAL_ALLOWED_HOSTS lists (comma-separated), compared without case."""
    match = _HOST.fullmatch(host.strip())
    if not match:
        return False
    name = match["name"].lower().rstrip(".")
    extra = {h.strip().lower().rstrip(".") for h in os.environ.get("LOCAL_ALLOWED_HOSTS", "").split(",") if h.strip()}
    if name in LOOPBACK_NAMES or name in extra:
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]") if name.startswith("[") else name)
    except ValueError:
        return False
    if name.startswith("[") != (address.version == 6):
        return False  # an IPv6 address is written in brackets, an IPv4 one is not
    return address.is_loopback and not getattr(address, "ipv4_mapped", None)


def _misdirected(hosts: list[str]) -> HttpResponse | None:
    if len(hosts) == 1 and allowed_host(hosts[0]):
        return None
    named = hosts[0] if hosts else "none"
    return gateway.error(
        421,
        "host_not_allowed",
        f"This local server answers requests for localhost, 127.0.0.1 or [::1] only, not for {named!r} "
        "(add a name of your own to LOCAL_ALLOWED_HOSTS).",
    )


def _unreadable(headers: Any) -> HttpResponse | None:
    """The refusal of a body this server will not read: chunked, of no or several lengths, or too large."""
    if headers.get("transfer-encoding"):
        return gateway.error(411, "length_required", "Send the body with a Content-Length, not chunked.")
    lengths = headers.get_all("content-length") or []
    if len(set(lengths)) > 1 or not all(_LENGTH.fullmatch(length.strip()) for length in lengths):
        return gateway.error(
            400, "malformed_content_length", "Content-Length must be one whole number of bytes, 0 or more."
        )
    if lengths and int(lengths[0]) > MAX_BODY_BYTES:
        return gateway.error(413, "payload_too_large", "The request body is over 10 MB.")
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now, for servers started by tests, benchmarks and fuzzing."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class LocalServer(HTTPServer):
    """Handles connections on a fixed pool of threads, so each worker keeps its database connection
    across requests as a warm Lambda container does. A keep-alive connection holds its worker until
    the client closes it, so the pool is sized above the clients a front end or a load test opens."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, workers: int = 32) -> None:
        super().__init__((host, port), _RequestHandler)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        self._pool.submit(self._process, request, client_address)

    def _process(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        # A keep-alive connection's worker waits for the client's next request, and the interpreter waits
        # for every worker before it exits: reading ends now (a request under way still gets its answer).
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RD)
