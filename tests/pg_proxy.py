"""A TCP proxy in front of PostgreSQL that can lose the server's answer to a COMMIT: it forwards the
COMMIT, lets the server process it and answer, then closes the client's connection without passing
the answer on, as a network failure at the worst moment would. The work committed; the client
cannot know."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from psycopg.conninfo import conninfo_to_dict, make_conninfo

READY_FOR_QUERY = b"Z"
SIMPLE_QUERY = b"Q"


def _target(url: str) -> tuple[socket.AddressFamily, str | tuple[str, int]]:
    """(address family, address) of the server a libpq URL names, TCP or a Unix socket."""
    info = conninfo_to_dict(url)
    host, port = str(info.get("host") or "localhost"), int(info.get("port") or 5432)
    if host.startswith("/"):
        return socket.AF_UNIX, f"{host}/.s.PGSQL.{port}"
    return socket.AF_INET, (host if host != "localhost" else "127.0.0.1", port)


def _messages(stream: socket.socket, startup: bool) -> Iterator[tuple[bytes, bytes]]:
    """(type byte, whole raw message) of the PostgreSQL protocol; the startup packet has no type."""
    buffer = b""
    while True:
        chunk = stream.recv(65536)
        if not chunk:
            return
        buffer += chunk
        while True:
            header = 4 if startup else 5
            if len(buffer) < header:
                break
            length = struct.unpack("!I", buffer[header - 4 : header])[0]
            total = length + (0 if startup else 1)
            if len(buffer) < total:
                break
            raw, buffer = buffer[:total], buffer[total:]
            kind = b"" if startup else raw[:1]
            if startup and struct.unpack("!I", raw[4:8])[0] == 80877103:  # SSLRequest: refuse, stay plaintext
                stream.sendall(b"N")
                continue
            startup = False
            yield kind, raw


class CommitDroppingProxy:
    def __init__(self, server_url: str) -> None:
        self.family, self.address = _target(server_url)
        self.server_url = server_url
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.drop_next_commit = False
        self.commits_dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, **overrides: str) -> str:
        """server_url, through the proxy (plaintext: the proxy reads the protocol)."""
        info = (
            conninfo_to_dict(self.server_url)
            | {"host": "127.0.0.1", "port": str(self.listener.getsockname()[1]), "sslmode": "disable"}
            | overrides
        )
        return make_conninfo("", **info)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.socket(self.family, socket.SOCK_STREAM)
            server.connect(self.address)
            swallowing = threading.Event()
            threading.Thread(target=self._client_to_server, args=(client, server, swallowing), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(server, client, swallowing), daemon=True).start()

    def _client_to_server(self, client: socket.socket, server: socket.socket, swallowing: threading.Event) -> None:
        try:
            for kind, raw in _messages(client, startup=True):
                if kind == SIMPLE_QUERY and raw[5:].upper().startswith(b"COMMIT") and self.drop_next_commit:
                    self.drop_next_commit = False
                    swallowing.set()
                server.sendall(raw)
        except OSError:
            pass

    def _server_to_client(self, server: socket.socket, client: socket.socket, swallowing: threading.Event) -> None:
        try:
            for kind, raw in _messages(server, startup=False):
                if swallowing.is_set():
                    if kind == READY_FOR_QUERY:  # the server has answered the COMMIT: it is done
                        self.commits_dropped += 1
                        break
                    continue
                client.sendall(raw)
        except OSError:
            pass
        for end in (client, server):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self.listener.close()


@contextmanager
def commit_dropping_proxy(server_url: str) -> Iterator[CommitDroppingProxy]:
    proxy = CommitDroppingProxy(server_url)
    try:
        yield proxy
    finally:
        proxy.close()
