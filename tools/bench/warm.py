"""Warm latency in-process: each function's handler called in a loop with its events/ sample, next to
a floor that replays, on a plain psycopg connection, exactly the SQL that handler sent."""

from __future__ import annotations

import statistics
from functools import partial
from typing import Any

import psycopg
from psycopg.rows import dict_row

from localdev import runtime, template
from tools.bench.common import RESET_RUNS, WARM_RUNS, event_for, percentile, timed


class StatementRecorder:
    """Records what a handler sends to PostgreSQL, so the floor can replay exactly that."""

    def __init__(self) -> None:
        self.statements: list[tuple[Any, Any]] = []
        self._original = psycopg.Connection.execute

    def __enter__(self) -> StatementRecorder:
        recorder = self

        def execute(conn: psycopg.Connection[Any], query: Any, params: Any = None, **kwargs: Any) -> Any:
            recorder.statements.append((query, params))
            return recorder._original(conn, query, params, **kwargs)

        psycopg.Connection.execute = execute  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.Connection.execute = self._original  # type: ignore[method-assign]


def measure_warm(url: str, functions: list[template.Function]) -> dict[str, dict[str, float]]:
    results = {}
    floor_conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    for function in functions:
        event = event_for(function)
        if event is None:
            continue
        handler = getattr(runtime.load_module(function), function.handler)
        context = runtime.LambdaContext(function.logical_id)
        handler(event, context)
        with StatementRecorder() as recorder:
            handler(event, context)
        statements = recorder.statements

        def floor(statements: list[tuple[str, Any]] = statements) -> None:
            with floor_conn.transaction():
                for query, params in statements:
                    floor_conn.execute(query, params)

        runs = RESET_RUNS if function.logical_id in ("DemoResetFunction", "DatabaseMigrateFunction") else WARM_RUNS
        samples = timed(partial(handler, event, context), runs)
        floors = timed(floor, runs)
        results[function.logical_id] = {
            "p50": statistics.median(samples),
            "p99": percentile(samples, 0.99),
            "floor_p50": statistics.median(floors),
            "floor_p99": percentile(floors, 0.99),
        }
    floor_conn.close()
    return results
