"""Demo readiness: the front end's first screen (the six customer GETs at once) from a server whose every
function is cold, the same once warm, and the same right after the preflight; and the preflight's own
duration for all functions, through a fresh server and in this process."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from localdev import runtime, template
from localdev.auth import issue_token
from squelch import db, warmup
from tools.bench.common import COLD_RUNS, LAMBDA_ENV, event_for, percentile
from tools.local_server import local_server

# The customer GETs the front end's first screen sends at once (docs/API-CONTRACT.md's customer context).
FIRST_SCREEN = (
    "/api/customers/aco",
    "/api/customers/aco/contacts",
    "/api/customers/aco/operations",
    "/api/customers/aco/health",
    "/api/customers/aco/tickets",
    "/api/customers/aco/opportunities",
)
WARM_SCREENS = 20
# The goals docs/PERFORMANCE.md states: after the preflight, the first screen within this many times its
# warm time; the preflight itself under this many ms in-process for all functions.
AFTER_PREFLIGHT_GOAL = 1.5
PREFLIGHT_GOAL_MS = 2000


def _get(base: str, path: str) -> None:
    with urllib.request.urlopen(f"{base}{path}", timeout=30) as response:
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")


def first_screen_ms(base: str) -> float:
    """Wall-clock ms until all six GETs, sent at once on their own connections, have answered."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(FIRST_SCREEN)) as pool:
        list(pool.map(lambda path: _get(base, path), FIRST_SCREEN))
    return (time.perf_counter() - started) * 1000


def preflight_over_http(base: str) -> tuple[float, dict[str, Any]]:
    request = urllib.request.Request(
        f"{base}/api/demo/preflight", method="POST", headers={"Authorization": f"Bearer {issue_token()}"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        report = json.loads(response.read())
    elapsed = (time.perf_counter() - started) * 1000
    if report["verdict"] != "ready":
        raise SystemExit(f"the preflight is not ready: {report['actions']}")
    return elapsed, report


def preflight_in_process() -> tuple[float, dict[str, Any]]:
    """The preflight invoked in this process with every function unloaded (as new containers): what
    `make run` does on the first Get ready after a start, less the layer's import, already done here."""
    runtime.unload_all()
    # The sample event: a presenter's token as API Gateway's authorizer hands it over (claims and header)
    event = json.loads((template.ROOT / "events" / "demo_preflight.json").read_text())
    started = time.perf_counter()
    response = runtime.invoke(template.load()["DemoPreflightFunction"], event)
    elapsed = (time.perf_counter() - started) * 1000
    report = json.loads(response["body"])
    if response["statusCode"] != 200 or report["verdict"] != "ready":
        raise SystemExit(f"the preflight failed in-process: {response['body'][:300]}")
    return elapsed, report


SCREEN_FUNCTIONS = (
    "CustomerGetFunction",
    "ContactsListFunction",
    "OperationsListFunction",
    "HealthGetFunction",
    "TicketsListFunction",
    "OpportunitiesListFunction",
)


def _as_containers(after_warm_up: bool) -> tuple[float, float]:
    """(the first screen's ms, the warm screen's median ms) in this process, each function on a thread of
    its own as on a container of its own (the local server ties a connection to its worker thread, Lambda to
    the container): every function unloaded, then warmed there first (after_warm_up) or not."""
    runtime.unload_all()
    functions = [template.load()[name] for name in SCREEN_FUNCTIONS]
    events = [event for f in functions if (event := event_for(f)) is not None]
    containers = [ThreadPoolExecutor(max_workers=1) for _ in functions]

    def screen() -> float:
        started = time.perf_counter()
        answers = [c.submit(runtime.invoke, f, e) for c, f, e in zip(containers, functions, events, strict=True)]
        if any(a.result()["statusCode"] != 200 for a in answers):
            raise SystemExit("a first-screen route failed in-process")
        return (time.perf_counter() - started) * 1000

    try:
        if after_warm_up:
            event = warmup.event("preflight")
            warming = [c.submit(runtime.invoke, f, event) for c, f in zip(containers, functions, strict=True)]
            for warmed in warming:
                warmed.result()
        first = screen()
        warm = statistics.median(screen() for _ in range(WARM_SCREENS))
    finally:
        for c in containers:
            c.submit(db.close).result()
            c.shutdown()
    return first, warm


def measure_in_process() -> dict[str, Any]:
    cold, after, warm = [], [], []
    for round_number in range(COLD_RUNS + 1):
        cold_ms, warm_ms = _as_containers(after_warm_up=False)
        after_ms, warm_again = _as_containers(after_warm_up=True)
        if round_number == 0:
            continue
        cold.append(cold_ms)
        after.append(after_ms)
        warm.append(statistics.median([warm_ms, warm_again]))
    return {
        "cold": _stats(cold),
        "warm": _stats(warm),
        "after": _stats(after),
        "after_over_warm": statistics.median(a / w for a, w in zip(after, warm, strict=True)),
        "cold_over_warm": statistics.median(c / w for c, w in zip(cold, warm, strict=True)),
    }


def _stats(samples: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(samples), "p90": percentile(samples, 0.9), "runs": len(samples)}


def measure(owner_url: str) -> dict[str, Any]:
    """Rounds of two fresh servers: one meets the first screen cold, then warm; the other runs the
    preflight first, then the first screen. Then the preflight in-process, as many times."""
    cold, warm, after, over_http, reported, functions = [], [], [], [], [], 0
    for round_number in range(COLD_RUNS + 1):
        with local_server(owner_url, env=LAMBDA_ENV) as served:
            cold_ms = first_screen_ms(served.base_url)
            warm_ms = [first_screen_ms(served.base_url) for _ in range(WARM_SCREENS)]
        with local_server(owner_url, env=LAMBDA_ENV) as served:
            preflight_ms, report = preflight_over_http(served.base_url)
            after_ms = first_screen_ms(served.base_url)
        if round_number == 0:
            continue  # a warm-up: the first round reads the files into the page cache
        cold.append(cold_ms)
        warm.append(statistics.median(warm_ms))
        after.append(after_ms)
        over_http.append(preflight_ms)
        reported.append(report["duration_ms"])
        functions = len(report["functions"])
    in_process = [preflight_in_process()[0] for _ in range(COLD_RUNS)]
    containers = measure_in_process()
    return {
        "as_containers": containers,
        "functions": functions,
        "first_screen_cold": _stats(cold),
        "first_screen_warm": _stats(warm),
        "first_screen_after_preflight": _stats(after),
        "after_over_warm": statistics.median(a / w for a, w in zip(after, warm, strict=True)),
        "cold_over_warm": statistics.median(c / w for c, w in zip(cold, warm, strict=True)),
        "preflight_http": _stats(over_http),
        "preflight_reported": _stats(reported),
        "preflight_in_process": _stats(in_process),
    }


def report(results: dict[str, Any]) -> str:
    def row(label: str, stats: dict[str, float], extra: str = "") -> str:
        return f"| {label} | {stats['p50']:.0f} | {stats['p90']:.0f} | {extra} |"

    after_ratio = results["after_over_warm"]
    in_process = results["preflight_in_process"]["p50"]
    containers = results["as_containers"]

    def goal(ratio: float) -> str:
        verdict = "met" if ratio <= AFTER_PREFLIGHT_GOAL else "missed"
        return f"{ratio:.2f}x warm (goal at most {AFTER_PREFLIGHT_GOAL}x: {verdict})"

    return "\n".join(
        [
            "### Demo readiness: the first screen in-process, each function on a thread of its own as on a container",
            "",
            "The six first-screen functions unloaded, then their first requests sent at once, each on the thread that"
            " is its container (so its connection is the one a warm-up opened there, as in Lambda); warm: the median"
            f" of {WARM_SCREENS} screens after.",
            "",
            "| measurement | p50 ms | p90 ms | note |",
            "| --- | --- | --- | --- |",
            row("first screen, every function cold", containers["cold"], f"{containers['cold_over_warm']:.1f}x warm"),
            row("first screen, warm", containers["warm"]),
            row("first screen right after the warm-up", containers["after"], goal(containers["after_over_warm"])),
            "",
            "### Demo readiness: the first screen cold, warm and after the preflight (local server, fresh per round)",
            "",
            f"The first screen: the six customer GETs sent at once; {results['first_screen_cold']['runs']} rounds, "
            f"each on two fresh servers. The preflight warms {results['functions']} functions.",
            "",
            "| measurement | p50 ms | p90 ms | note |",
            "| --- | --- | --- | --- |",
            row(
                "first screen, every function cold",
                results["first_screen_cold"],
                f"{results['cold_over_warm']:.1f}x warm",
            ),
            row("first screen, warm (median of 20 in a round)", results["first_screen_warm"]),
            row("first screen right after the preflight", results["first_screen_after_preflight"], goal(after_ratio)),
            row("preflight through a fresh server (HTTP, all functions cold)", results["preflight_http"]),
            row("preflight, as its report states (duration_ms)", results["preflight_reported"]),
            row(
                "preflight in-process, every function unloaded",
                results["preflight_in_process"],
                f"goal under {PREFLIGHT_GOAL_MS} ms: {'met' if in_process < PREFLIGHT_GOAL_MS else 'missed'}",
            ),
        ]
    )


if __name__ == "__main__":
    # `python -m tools.bench.readiness` (BENCH_QUICK=1 for fewer rounds): this part of `make bench` alone.
    import os
    import sys
    import tempfile
    from pathlib import Path

    from localdev.database import start_embedded
    from tools.bench.database import prepare_database, runtime_url

    os.environ.update(LAMBDA_ENV)
    with tempfile.TemporaryDirectory(prefix="squelch-bench-") as scratch:
        owner = os.environ.get("BENCH_DATABASE_URL") or start_embedded(Path(scratch) / "pg", "bench")
        prepare_database(owner)
        os.environ["DATABASE_URL"] = runtime_url(owner)
        print(report(measure(owner)), file=sys.stdout)
