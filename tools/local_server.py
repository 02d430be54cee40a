"""`python -m localdev serve` for the tools that need a running local server (fuzzing, the client's
package check, the bench): on a free port, on a database of their own, stopped as Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from localdev.server import free_port
from localdev.template import ROOT


@dataclass(frozen=True)
class Served:
    base_url: str
    port: int


@contextmanager
def local_server(
    database_url: str, *, env: dict[str, str] | None = None, log: Path | None = None, seconds: float = 60
) -> Iterator[Served]:
    """The local server on database_url (the owner's: it migrates first, then serves as the API
    functions' login), answering once its OpenAPI document does; its output goes to log, if given."""
    port = free_port()
    output = log.open("wb") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-m", "localdev", "serve"],
        cwd=ROOT,
        env={**os.environ, **(env or {}), "DATABASE_URL": database_url, "PORT": str(port)},
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/api/openapi.json", server, seconds)
        yield Served(base, port)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if log:
            output.close()  # type: ignore[union-attr]


def _wait_for(url: str, server: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the local server stopped (exit {server.returncode}) before {url} answered") from None
            if time.monotonic() > deadline:
                raise SystemExit(f"the local server did not answer {url} within {seconds:.0f} s") from None
            time.sleep(0.2)
