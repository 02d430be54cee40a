"""Throwaway PostgreSQL servers started from the machine's installation (pg_config on PATH), for
tests that need a server configured unlike the suite's: TLS on or off, a low max_connections."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from localdev.server import free_port


def installation(with_tls: bool = False) -> Path | None:
    """The bin folder of a PostgreSQL server installed on this machine (built with OpenSSL when
    with_tls), or None."""
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return None
    configure = subprocess.run([pg_config, "--configure"], capture_output=True, text=True).stdout
    bindir = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip())
    has_tls = "--with-openssl" in configure or "--with-ssl=openssl" in configure
    return bindir if (has_tls or not with_tls) and (bindir / "initdb").exists() else None


@dataclass(frozen=True)
class Cluster:
    port: int
    folder: Path  # holds the data, the log and any files the test put there

    def url(self, host: str = "localhost", user: str = "postgres", dbname: str = "postgres") -> str:
        return f"postgresql://{user}@{host}:{self.port}/{dbname}"


@contextmanager
def throwaway_cluster(settings: dict[str, str], prepare_folder=None, with_tls: bool = False) -> Iterator[Cluster]:
    """A PostgreSQL server on 127.0.0.1 trusting every login, started with settings (-c name=value;
    "{folder}" in a value is the server's folder), stopped and removed on exit. prepare_folder(folder)
    may write files there (certificates) first."""
    bindir = installation(with_tls)
    if bindir is None:
        pytest.skip("needs a PostgreSQL server installation (pg_config on PATH), e.g. Debian's postgresql")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="squelch-pg-cluster-"))
    if prepare_folder:
        prepare_folder(folder)
    if as_postgres:
        for path in [folder, *folder.iterdir()]:
            shutil.chown(path, "postgres")
    data, port = folder / "data", free_port()
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = " ".join(
        f"-c {name}={value.format(folder=folder)}"
        for name, value in {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(folder),
            **settings,
        }.items()
    )
    start = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log")]
    subprocess.run([*start, "-w", "start"], check=True, capture_output=True)
    try:
        yield Cluster(port, folder)
    finally:
        stop = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(stop, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
