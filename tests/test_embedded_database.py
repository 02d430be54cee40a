"""The embedded PostgreSQL of `make run`, `make migrate` and `make refresh` stops when the last
process using it ends: on a normal exit, on Ctrl-C, on SIGTERM, and after earlier runs were killed
without cleaning up. A server left behind would keep its port and memory until the machine reboots."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import ROOT, http_request

from localdev.server import free_port


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One data folder for the module's runs (initdb once); no server may outlive the module. Not
    under pytest's basetemp, which another pytest session on the machine may rotate away meanwhile."""
    scratch = Path(tempfile.mkdtemp(prefix="squelch-embedded-test-"))
    folder = scratch / "postgres"
    yield folder
    for process in servers_of(folder):
        process.kill()
    shutil.rmtree(scratch, ignore_errors=True)


def servers_of(data: Path) -> list[psutil.Process]:
    """The postgres server processes (postmasters) whose data folder is data."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and "-D" in cmdline and cmdline[cmdline.index("-D") + 1] == str(data):
            found.append(process)
    return found


def localdev(data: Path, *args: str, **popen: object) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"EMBEDDED_PG_DATA": str(data)}
    return subprocess.Popen(
        [sys.executable, "-m", "localdev", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[call-overload]
    )


def finished(process: subprocess.Popen, timeout: float = 60) -> None:
    _, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr


def wait_for_no_server(data: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while servers_of(data):
        assert time.monotonic() < deadline, f"a server of {data} outlived its last user"
        time.sleep(0.1)


def serving(data: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = localdev(data, "serve", "--port", str(port))
    deadline = time.monotonic() + 60
    while True:
        try:
            assert http_request(f"http://127.0.0.1:{port}/api/customers/aco")[0] == 200
            return process, port
        except (urllib.error.URLError, ConnectionError):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            time.sleep(0.2)


def test_a_command_that_ends_stops_the_server_it_started(data_dir: Path) -> None:
    # Given no server, When `make migrate` runs and ends
    finished(localdev(data_dir, "migrate"))
    # Then it ran on a server of its own folder, and that server is gone too
    assert (data_dir / "PG_VERSION").exists()
    wait_for_no_server(data_dir)


def test_runs_killed_earlier_do_not_keep_the_next_server_alive(data_dir: Path) -> None:
    # Given the folder remembers users that were killed without cleaning up (a closed terminal)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (data_dir / ".handle_pids.json").write_text(f"[{dead.pid}, 4194304]")
    # When a command runs and ends, Then the server stops all the same
    finished(localdev(data_dir, "refresh"))
    wait_for_no_server(data_dir)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_make_run_stops_its_server_when_it_is_stopped(data_dir: Path, stop: signal.Signals) -> None:
    # Given `make run` serving
    process, _port = serving(data_dir)
    assert servers_of(data_dir)
    # When it is told to stop
    process.send_signal(stop)
    # Then it exits cleanly and takes the server with it
    assert process.wait(timeout=30) == 0
    wait_for_no_server(data_dir)


def test_a_server_in_use_by_another_run_stays_up(data_dir: Path) -> None:
    # Given `make run` serving, When `make migrate` joins the same server and ends
    process, port = serving(data_dir)
    try:
        finished(localdev(data_dir, "migrate"))
        # Then `make run` still answers
        assert http_request(f"http://127.0.0.1:{port}/api/customers/aco")[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    wait_for_no_server(data_dir)
