"""The warm-up event: what every function answers to be made ready before a demo, without a request.

The event is `{"squelch_warmup": {"reason": "preflight" | "schedule" | "pre_traffic"}}` (reason
optional), sent by the preflight, the demo-hours schedule or a deployment's PreTraffic hook through
lambda:InvokeFunction. A function answers it by doing what a first request does but the query: its
handler is loaded (the invocation itself), the modules that hold a connection or a client register a
step here that opens and checks it (the database: squelch.db.connection; the Bedrock client on the
AI routes: squelch.domain.insights), and it answers

    {"warm": true, "function": ..., "cold": ..., "timings_ms": {"init": ..., "secret": ..., "connect": ...},
     "database": "ok" | "<error code>"}

A failed step is reported in the answer, never raised: the caller wants a report, not a retry.

An API Gateway event is never a warm-up, whatever its body says: the key is recognised only at the
top of an event that has no requestContext or routeKey, which only a direct invocation (an IAM
principal allowed lambda:InvokeFunction) can send. This module sits at the bottom of the layer, so
squelch.observability's decorator, which every handler wears, can answer it with no code per handler.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict

KEY = "squelch_warmup"
Reason = Literal["preflight", "schedule", "pre_traffic"]
REASONS: tuple[Reason, ...] = ("preflight", "schedule", "pre_traffic")


class Timings(TypedDict):
    init: float | None
    secret: float | None
    connect: float | None


class Answer(TypedDict):
    warm: bool
    function: str
    cold: bool
    timings_ms: Timings
    database: str


# A step opens what a first request would (a connection, a client) and writes what it measured into the
# answer; the steps run in the order their modules were imported. DATABASE names the database's step, and
# begins the names of those that follow it, which a function that never connects (the console) leaves out.
Step = Callable[[Answer], None]
DATABASE = "database"
_steps: dict[str, Step] = {}
_steps_lock = threading.Lock()


# Steps of one handler module only (its resolver's routes): keyed by the module's __name__, which is the
# handler's __module__, so a warm-up runs its own function's and no other's (the local emulator loads many).
_owned: dict[str, dict[str, Step]] = {}


def on_warm_up_of(owner: str, name: str, step: Step) -> None:
    """Register a step that only warm-ups of the handler defined in module `owner` run."""
    with _steps_lock:
        _owned.setdefault(owner, {})[name] = step


def on_warm_up(name: str) -> Callable[[Step], Step]:
    """Register a step, by name, that every warm-up of this process runs (a decorator: the module keeps
    its function)."""

    def register(step: Step) -> Step:
        with _steps_lock:
            _steps[name] = step
        return step

    return register


def event(reason: Reason | None = None) -> dict[str, Any]:
    """The warm-up event, as the preflight and the schedule send it."""
    return {KEY: {"reason": reason} if reason else {}}


def is_warm_up(event: Any) -> bool:
    """Whether an invocation's event is the warm-up: the key at its top, and no trace of API Gateway
    (an HTTP request carries its body as a string under "body", so a caller cannot put the key there)."""
    return (
        isinstance(event, Mapping)
        and KEY in event
        and isinstance(event[KEY], Mapping)
        and "requestContext" not in event
        and "routeKey" not in event
    )


def answer(function: str, cold: bool, init_ms: float | None, *, database: bool = True, owner: str = "") -> Answer:
    """Run every registered step (but the database's when the function has none: its answer says
    "not_used"), then those of the handler's own module `owner`, and answer. Each step records its own
    failure in the answer rather than raising."""
    result = Answer(
        warm=True,
        function=function,
        cold=cold,
        timings_ms=Timings(init=init_ms, secret=None, connect=None),
        database="not_used",
    )
    with _steps_lock:
        steps = [step for name, step in _steps.items() if database or not name.startswith(DATABASE)]
        steps += list(_owned.get(owner, {}).values())
    for step in steps:
        step(result)
    return result


def elapsed_ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


# ---- how long the container's init took: from its start to the handler being ready ------------------

_init_started = threading.local()


def begin_init() -> None:
    """Mark the start of a handler's init on this thread: the local emulator loads several instances of
    a function in one process, so the process's start says nothing about when one began."""
    _init_started.at = time.perf_counter()


def init_ms() -> float | None:
    """Milliseconds from the start of this handler's init until now (called as the handler is ready):
    from begin_init() when the loader marked it on this thread, else from the process's start, which in
    Lambda is the container's. None when unknown, and after a SnapStart restore (the snapshot's init
    happened in another container, long before)."""
    started = getattr(_init_started, "at", None)
    _init_started.at = None
    if started is not None:
        return elapsed_ms(started)
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        return None
    return _since_process_start_ms()


def _since_process_start_ms() -> float | None:
    try:
        # Field 22 of /proc/self/stat is the start in clock ticks after boot; the name (field 2) may hold spaces.
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return round(max(uptime - started, 0.0) * 1000, 1)
