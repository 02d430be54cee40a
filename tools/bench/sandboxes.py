"""Sandboxes: creating one and resetting an existing one through the reset function (in-process, with
the X-Demo-Sandbox header) for each checkpoint; and every route's warm p50 with MANY sandboxes present,
in the default sandbox and in one of them, next to the same route with the default sandbox alone.

The two states live in two databases of the same server, each served by a warm container of its own
(a thread with its own connection), and the cases take turns batch by batch: a figure with MANY and
its figure alone are taken in the same seconds, so the drift of a shared machine falls on both.
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from localdev import runtime, template
from localdev.database import create_database
from tools.bench.common import RESET_RUNS, WARM_RUNS, event_for, percentile, summary
from tools.bench.database import (
    DEFAULT,
    add_session,
    create_sandbox,
    delete_sandboxes,
    functions_connect_as,
    prepare_database,
    setup_for,
)
from tools.bench.warm import FEW_RUNS, check, handler_of

MANY = 200
MANY_DATABASE = "bench_many_sandboxes"
TARGET = "bench-0100"  # the one of the MANY whose routes and reset are measured, from act1-start
MANY_NAMES = [f"bench-{n:04d}" for n in range(1, MANY + 1)]
START = "act1-start"
T = TypeVar("T")


def checkpoints() -> tuple[str, ...]:
    from squelch.domain.demo import CHECKPOINTS

    return CHECKPOINTS


def in_sandbox(event: dict[str, Any], name: str) -> dict[str, Any]:
    """The event as a client sends it for sandbox `name` (no header for the default one)."""
    event = copy.deepcopy(event)
    if name != DEFAULT:
        event["headers"] = {**(event.get("headers") or {}), "x-demo-sandbox": name}
    return event


def reset_event(name: str, checkpoint: str) -> dict[str, Any]:
    event = in_sandbox(event_for(template.load()["DemoResetFunction"]) or {}, name)
    event["body"] = json.dumps({"confirm": True, "checkpoint": checkpoint})
    return event


class ResetFunction:
    """The reset function's handler, called in-process; each call timed and its answer checked."""

    def __init__(self) -> None:
        function = template.load()["DemoResetFunction"]
        self.handler = handler_of(function)
        self.context = runtime.LambdaContext(function.logical_id)

    def ms(self, name: str, checkpoint: str, created: bool) -> float:
        event = reset_event(name, checkpoint)
        started = time.perf_counter()
        response = self.handler(event, self.context)
        elapsed = (time.perf_counter() - started) * 1000
        body = json.loads(response["body"])
        if response["statusCode"] != 200 or body["created"] is not created:
            raise RuntimeError(f"reset of {name} to {checkpoint} answered {response['statusCode']}: {body}")
        return elapsed


# ---- create and reset, per checkpoint ------------------------------------------------------------


def measure_create_and_reset(owner_url: str) -> dict[str, dict[str, dict[str, float]]]:
    """p50 and p99 of the reset function creating a new sandbox, and resetting an existing one, for
    each checkpoint; the checkpoints take turns sample by sample. A created sandbox is deleted
    (untimed) before the next creation, so every creation meets the default sandbox alone."""
    reset = ResetFunction()
    names = checkpoints()
    created: dict[str, list[float]] = {checkpoint: [] for checkpoint in names}
    again: dict[str, list[float]] = {checkpoint: [] for checkpoint in names}
    warm_up = max(5, RESET_RUNS // 20)
    with psycopg.connect(owner_url, autocommit=True) as owner:
        for n in range(warm_up + RESET_RUNS):
            for checkpoint in names:
                ms = reset.ms("bench-new", checkpoint, created=True)
                delete_sandboxes(owner, ["bench-new"])
                if n >= warm_up:
                    created[checkpoint].append(ms)
        existing = {checkpoint: f"bench-{checkpoint}" for checkpoint in names}
        for checkpoint, name in existing.items():
            reset.ms(name, checkpoint, created=True)
        for n in range(warm_up + RESET_RUNS):
            for checkpoint, name in existing.items():
                ms = reset.ms(name, checkpoint, created=False)
                if n >= warm_up:
                    again[checkpoint].append(ms)
        delete_sandboxes(owner, list(existing.values()))
    return {
        "create": {checkpoint: summary(samples) for checkpoint, samples in created.items()},
        "reset": {checkpoint: summary(samples) for checkpoint, samples in again.items()},
    }


# ---- many sandboxes --------------------------------------------------------------------------------


class Container:
    """A warm Lambda container on one database: a thread of its own, whose connection (the layer keeps
    one per thread) was opened to that database. Handlers run in it one call at a time."""

    def __init__(self, url: str) -> None:
        from squelch import db

        self.url = url
        self._thread = ThreadPoolExecutor(max_workers=1)
        with functions_connect_as(url):
            self.run(db.connection)

    def run(self, work: Callable[[], T]) -> T:
        return self._thread.submit(work).result()

    def close(self) -> None:
        from squelch import db

        self.run(db.close)
        self._thread.shutdown()


def many_database(url: str, owner_url: str) -> str:
    """A second database on the same server, migrated, with the story in the default sandbox and the
    MANY sandboxes (from the checkpoints in turn, TARGET from act1-start) made by the domain's reset as
    the API functions' login; then vacuumed and analysed like the first."""
    create_database(make_conninfo(owner_url, dbname="postgres"), MANY_DATABASE)
    many_owner = make_conninfo(owner_url, dbname=MANY_DATABASE)
    prepare_database(many_owner)
    names = checkpoints()
    with psycopg.connect(make_conninfo(url, dbname=MANY_DATABASE), autocommit=True) as login:
        for n, name in enumerate(MANY_NAMES):
            create_sandbox(login, name, START if name == TARGET else names[n % len(names)])
    for url in (owner_url, many_owner):
        with psycopg.connect(url, autocommit=True) as owner:
            owner.execute("VACUUM ANALYZE")
    return many_owner


def drop_many_database(owner_url: str) -> None:
    with psycopg.connect(make_conninfo(owner_url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(MANY_DATABASE)))


def measure_many(url: str, owner_url: str) -> dict[str, Any]:
    """Every route's warm p50 in three cases: the default sandbox alone ("alone", the benchmark's
    database), and in a second database with MANY sandboxes more, in the default one ("default") and in
    TARGET ("target"). Each case runs in a warm container of its own; the cases take turns batch by
    batch, so the machine's drift falls on all three alike, and a ratio is the median over turns of
    the batches' p50 ratios. The reset route is one sandbox's reset: the default alone, then the
    default and TARGET among the MANY."""
    functions = [f for f in template.load().values() if f.routes and event_for(f)]
    many_owner = many_database(url, owner_url)
    many_url = make_conninfo(url, dbname=MANY_DATABASE)
    alone, crowded = Container(url), Container(many_url)
    cases = {"alone": (alone, DEFAULT), "default": (crowded, DEFAULT), "target": (crowded, TARGET)}
    owners = {"alone": owner_url, "default": many_owner, "target": many_owner}
    routes: dict[str, dict[str, float]] = {}
    try:
        with psycopg.connect(url, autocommit=True) as alone_login, psycopg.connect(many_url, autocommit=True) as login:
            logins = {"alone": alone_login, "default": login, "target": login}
            for function in functions:
                handler, context = handler_of(function), runtime.LambdaContext(function.logical_id)
                calls: dict[str, Callable[[], object]] = {}
                setups: dict[str, Callable[[], object] | None] = {}
                for case, (container, sandbox) in cases.items():
                    add_session(owners[case], sandbox)  # a reset measured before removed it
                    event = in_sandbox(event_for(function) or {}, sandbox)
                    calls[case] = partial(handler, event, context)
                    setups[case] = setup = setup_for(function, logins[case])
                    if setup:
                        setup()
                    check(function, container.run(partial(handler, event, context)))
                runs = RESET_RUNS if function.logical_id in FEW_RUNS else WARM_RUNS
                batch = 5 if function.logical_id in FEW_RUNS else 20
                samples: dict[str, list[float]] = {case: [] for case in cases}
                batch_p50s: dict[str, list[float]] = {case: [] for case in cases}
                while len(samples["alone"]) < runs:
                    for case, (container, _) in cases.items():
                        taken = container.run(partial(_batch, calls[case], setups[case], batch))
                        samples[case] += taken
                        batch_p50s[case].append(statistics.median(taken))
                p50 = {case: statistics.median(values) for case, values in samples.items()}
                routes[function.logical_id] = {
                    **p50,
                    # The median of the turns' ratios: a burst of outside load spoils a few turns, not the figure.
                    **{
                        f"{case}_ratio": statistics.median(
                            many / alone for many, alone in zip(batch_p50s[case], batch_p50s["alone"], strict=True)
                        )
                        for case in ("default", "target")
                    },
                    **{f"{case}_p99": percentile(values, 0.99) for case, values in samples.items()},
                }
    finally:
        alone.close()
        crowded.close()
        drop_many_database(owner_url)
    return {"count": MANY, "routes": routes}


def _batch(call: Callable[[], object], setup: Callable[[], object] | None, size: int) -> list[float]:
    """One untimed call (the container's turn starts warm), then `size` timed ones."""
    samples = []
    for n in range(size + 1):
        if setup:
            setup()
        started = time.perf_counter()
        call()
        if n:
            samples.append((time.perf_counter() - started) * 1000)
    return samples
