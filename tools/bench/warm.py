"""Warm latency in-process: each function's handler called in a loop with its events/ sample, next to
a floor that replays, on a plain psycopg connection as the same login, exactly the SQL that handler
sent (the same statements, in one transaction begun with the same isolation level and access mode)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from typing import Any

import psycopg
from psycopg import IsolationLevel
from psycopg.rows import dict_row

from localdev import runtime, template
from tools.bench.common import RESET_RUNS, WARM_RUNS, event_for, percentile, timed
from tools.bench.database import AS_OWNER, functions_connect_as, setup_for

# Slow or writing functions: as many calls as resets.
FEW_RUNS = ("DemoResetFunction", "DatabaseMigrateFunction", "SandboxDeleteFunction")


class StatementRecorder:
    """Records what a handler sends to PostgreSQL, so the floor can replay exactly that: every
    statement (through any cursor, typed rows or not) and how its transaction began."""

    def __init__(self) -> None:
        self.statements: list[tuple[Any, Any]] = []
        self.read_only: bool | None = None
        self.isolation_level: IsolationLevel | None = None
        self._original = psycopg.Cursor.execute

    def __enter__(self) -> StatementRecorder:
        recorder = self

        def execute(cursor: psycopg.Cursor[Any], query: Any, params: Any = None, **kwargs: Any) -> Any:
            if not recorder.statements:
                recorder.read_only = cursor.connection.read_only
                recorder.isolation_level = cursor.connection.isolation_level
            recorder.statements.append((query, params))
            return recorder._original(cursor, query, params, **kwargs)

        psycopg.Cursor.execute = execute  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.Cursor.execute = self._original  # type: ignore[method-assign]


def check(function: template.Function, response: Any) -> None:
    """Time answers, not errors: a route's sample must succeed."""
    status = response.get("statusCode", 200) if isinstance(response, dict) else 200
    if status >= 300:
        raise RuntimeError(f"{function.logical_id} answered {status}: {response.get('body')}")


def handler_of(function: template.Function) -> Callable[[dict[str, Any], Any], Any]:
    handler: Callable[[dict[str, Any], Any], Any] = getattr(runtime.load_module(function), function.handler)
    return handler


def measure_warm(url: str, owner_url: str, functions: list[template.Function]) -> dict[str, dict[str, float]]:
    """Each function as the login `url` names (the API functions'), the migrate function as the owner."""
    results = {}
    with psycopg.connect(url, autocommit=True) as setup_conn:
        for function in functions:
            event = event_for(function)
            if event is None:
                continue
            login = owner_url if function.logical_id in AS_OWNER else url
            connect_as: AbstractContextManager[None] = (
                functions_connect_as(owner_url) if function.logical_id in AS_OWNER else nullcontext()
            )
            setup = setup_for(function, setup_conn)
            with connect_as, psycopg.connect(login, autocommit=True, row_factory=dict_row) as floor_conn:
                results[function.logical_id] = _measure_one(function, event, floor_conn, setup)
    return results


def _measure_one(
    function: template.Function,
    event: dict[str, Any],
    floor_conn: psycopg.Connection[Any],
    setup: Callable[[], object] | None,
) -> dict[str, float]:
    handler = handler_of(function)
    context = runtime.LambdaContext(function.logical_id)
    if setup:
        setup()
    check(function, handler(event, context))
    if setup:
        setup()
    with StatementRecorder() as recorder:
        handler(event, context)
    statements = recorder.statements
    floor_conn.read_only = recorder.read_only
    floor_conn.isolation_level = recorder.isolation_level

    def floor() -> None:
        with floor_conn.transaction():
            for query, params in statements:
                floor_conn.execute(query, params)

    runs = RESET_RUNS if function.logical_id in FEW_RUNS else WARM_RUNS
    samples = timed(partial(handler, event, context), runs, setup)
    floors = timed(floor, runs, setup)
    return {
        "p50": statistics.median(samples),
        "p99": percentile(samples, 0.99),
        "floor_p50": statistics.median(floors),
        "floor_p99": percentile(floors, 0.99),
    }
