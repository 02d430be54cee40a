"""The reset's cost: `delete demo data + seed` in one transaction, through the domain function."""

from __future__ import annotations

import statistics
from datetime import date

import psycopg
from psycopg.rows import dict_row

from tools.bench.common import DEMO_DAY, RESET_RUNS, percentile, timed


def measure_reset(url: str) -> dict[str, float]:
    from squelch.domain import demo

    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        samples = timed(lambda: demo.reset(conn, date.fromisoformat(DEMO_DAY)), RESET_RUNS)
    return {"p50": statistics.median(samples), "p99": percentile(samples, 0.99)}
