"""How a local command stops: every way a user stops it runs the same cleanup, once, to its end.

Ctrl-C (SIGINT), `kill` (SIGTERM) and a closed terminal (SIGHUP) each raise Stopped in the main
thread, where the command unwinds and leaves the embedded PostgreSQL (which stops when its last user
leaves). From the first of them on, the others are ignored: a second signal, such as the SIGTERM
make forwards to its child after the whole group got one, would otherwise interrupt the cleanup half
way (a server left running, a list of its users half written). While the server starts, a signal
waits until the command is on that list, so that the cleanup finds the server to stop. Under make,
the command also ends when make does: `kill -9` of make would otherwise leave it serving, orphaned.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A stop signal arrived. A KeyboardInterrupt, so that `except Exception` anywhere lets it through
    and a loop that ends on Ctrl-C ends on it too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum  # as a shell reports a command ended by this signal


_deferring = False
_pending: int | None = None


def _stop(signum: int, frame: object) -> None:
    global _pending
    ignore()
    if _deferring:
        _pending = signum
        return
    raise Stopped(signum)


def stop_on_signals() -> None:
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop)
    _end_with_make()


def ignore() -> None:
    """No signal may interrupt what follows (the cleanup): the process is on its way out anyway."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


@contextmanager
def deferred() -> Iterator[None]:
    """A stop signal arriving in the block is raised as it ends (the block is not cut short)."""
    global _deferring, _pending
    _deferring = True
    try:
        yield
    finally:
        _deferring = False
        signum, _pending = _pending, None
        if signum is not None:
            raise Stopped(signum)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _end_with_make() -> None:
    """When make is the parent, ask Linux for a SIGTERM when it dies. make forwards SIGTERM and waits
    for its child otherwise, so this only matters when make is killed outright."""
    parent = os.getppid()
    if not sys.platform.startswith("linux") or _name(parent) not in ("make", "gmake"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0 and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)  # make died before the request: no one will send it


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
