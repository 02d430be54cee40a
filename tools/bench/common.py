"""What every measurement shares: the run's size, the Lambda-like environment, statistics, events."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localdev import template
from localdev.template import ROOT

QUICK = os.environ.get("BENCH_QUICK") == "1"
COLD_RUNS = 5 if QUICK else 11
WARM_RUNS = 100 if QUICK else 400
SERVER_RUNS = 60 if QUICK else 200
RESET_RUNS = 15 if QUICK else 60
LOAD_SECONDS = float(os.environ.get("BENCH_SECONDS", "5" if QUICK else "30"))
LOAD_CLIENTS = 16
OTHER_CUSTOMERS = 20_000 if QUICK else 100_000
OTHER_TICKETS = 200_000 if QUICK else 1_000_000
BENCH_DIR = ROOT / ".bench"
DEMO_DAY = "2025-11-23"
SESSION = "wf-example-session-0001"
LAMBDA_ENV = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
    "DEMO_ANCHOR_DATE": DEMO_DAY,
    "DEMO_TODAY": DEMO_DAY,
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(call: Callable[[], object], runs: int, setup: Callable[[], object] | None = None) -> list[float]:
    """ms of each of `runs` calls after a few warm-up calls; `setup`, when given, runs before each
    call (a sandbox for a delete to remove) and is not timed."""
    for _ in range(max(5, runs // 20)):
        if setup:
            setup()
        call()
    samples = []
    for _ in range(runs):
        if setup:
            setup()
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(samples), "p99": percentile(samples, 0.99)}


def events_path(function: template.Function) -> Path | None:
    path = ROOT / "events" / f"{function.code_dir.name}.json"
    return path if path.exists() else None


def event_for(function: template.Function) -> dict[str, Any] | None:
    path = events_path(function)
    return json.loads(path.read_text()) if path else None
