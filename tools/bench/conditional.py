"""Conditional GETs and compression: each revalidated route's 304 (If-None-Match with the current
tag) against its 200, in-process and through the local server; the 200 a stale tag gets; the
answers' sizes plain and gzip-coded; and what the story-version triggers add to a reset.

`make bench` runs it with everything else; `python -m tools.bench.conditional` runs it alone on
its own embedded PostgreSQL (a minute), printing its tables.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import statistics
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

from localdev import runtime, template
from tools.bench.common import (
    BENCH_DIR,
    LAMBDA_ENV,
    RESET_RUNS,
    SERVER_RUNS,
    WARM_RUNS,
    event_for,
    percentile,
    timed,
)
from tools.bench.database import add_session, create_sandbox, prepare_database, runtime_url
from tools.local_server import local_server

GOAL = 0.5  # a 304 at most half the 200's in-process p50
STALE = '"a-tag-of-another-day"'
VERSION_SANDBOX = "bench-story-version"  # the sandbox whose resets time the version triggers


def revalidated(functions: list[template.Function]) -> list[template.Function]:
    return [f for f in functions if f.routes and getattr(runtime.load_module(f).app, "revalidated", False)]


def _with_headers(event: dict[str, Any], **headers: str) -> dict[str, Any]:
    return {**event, "headers": {**event["headers"], **headers}}


def _stats(samples: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(samples), "p99": percentile(samples, 0.99)}


def measure_in_process(functions: list[template.Function]) -> dict[str, dict[str, Any]]:
    """Each revalidated route's handler with its events/ sample: as a first visit (no If-None-Match),
    as a revalidation of the current answer (304), and with a tag that is not current (200)."""
    results = {}
    for function in revalidated(functions):
        event = event_for(function)
        if event is None:
            continue
        handler = getattr(runtime.load_module(function), function.handler)
        context = runtime.LambdaContext(function.logical_id)
        first = handler(event, context)
        _expect(function, first, 200)
        current = _with_headers(event, **{"if-none-match": first["headers"]["ETag"]})
        stale = _with_headers(event, **{"if-none-match": STALE})
        _expect(function, handler(current, context), 304)
        _expect(function, handler(stale, context), 200)
        results[function.logical_id] = {
            name: _stats(timed(partial(handler, sample, context), WARM_RUNS))
            for name, sample in (("200", event), ("304", current), ("stale", stale))
        }
    return results


def measure_server(port: int, functions: list[template.Function]) -> dict[str, dict[str, Any]]:
    """The same through the local server, one keep-alive client: the 200 and the 304 round trips."""
    results = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def call(path: str, headers: dict[str, str], status: int) -> http.client.HTTPResponse:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != status:
            raise RuntimeError(f"GET {path} answered {response.status}, not {status}")
        return response

    for function in revalidated(functions):
        event = event_for(function)
        if event is None:
            continue
        path = event["rawPath"]
        tag = call(path, {}, 200).headers["ETag"]
        results[function.logical_id] = {
            "200": _stats(timed(partial(call, path, {}, 200), SERVER_RUNS)),
            "304": _stats(timed(partial(call, path, {"If-None-Match": tag}, 304), SERVER_RUNS)),
        }
    conn.close()
    return results


def measure_sizes(functions: list[template.Function]) -> dict[str, dict[str, int]]:
    """The sample answers of the revalidated routes and the AI routes in bytes, as JSON and gzip-coded
    (when the threshold lets them through)."""
    ai = [f for f in functions if f.routes and f.routes[0].path.startswith("/api/ai/")]
    results = {}
    for function in revalidated(functions) + ai:
        event = event_for(function)
        if event is None:
            continue
        plain = runtime.invoke(function, event)
        packed = runtime.invoke(function, _with_headers(event, **{"accept-encoding": "gzip"}))
        _expect(function, plain, 200)
        _expect(function, packed, 200)
        coded = packed["headers"].get("Content-Encoding") == "gzip"
        results[function.logical_id] = {
            "plain": len(plain["body"].encode()),
            "gzip": len(base64.b64decode(packed["body"])) if coded else 0,
        }
    return results


def measure_version_cost(owner_url: str, url: str) -> dict[str, dict[str, float]]:
    """A reset of a sandbox as the API functions' login, with the story-version triggers and with
    them disabled (by the owner), in alternating blocks so the machine's drift falls on both."""
    triggers = "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE tgname LIKE '%\\_version\\_%'"
    samples: dict[str, list[float]] = {"with": [], "without": []}
    with psycopg.connect(owner_url, autocommit=True) as owner, psycopg.connect(url, autocommit=True) as login:
        found = owner.execute(triggers).fetchall()

        def switch(state: str) -> None:
            for table, name in found:
                owner.execute(f'ALTER TABLE {table} {state} TRIGGER "{name}"')

        create_sandbox(login, VERSION_SANDBOX)
        try:
            for _ in range(4):
                for case, state in (("with", "ENABLE"), ("without", "DISABLE")):
                    switch(state)
                    samples[case] += timed(lambda: create_sandbox(login, VERSION_SANDBOX), max(5, RESET_RUNS // 4))
        finally:
            switch("ENABLE")
            owner.execute("DELETE FROM demo_sandboxes WHERE name = %s", [VERSION_SANDBOX])
    return {case: _stats(values) for case, values in samples.items()}


def _expect(function: template.Function, response: dict[str, Any], status: int) -> None:
    if response.get("statusCode") != status:
        raise RuntimeError(f"{function.logical_id} answered {response.get('statusCode')}, not {status}")


def report(results: dict[str, Any]) -> str:
    """The section docs/PERFORMANCE.md quotes."""
    in_process, server = results["in_process"], results["server"]
    ratios = {name: row["304"]["p50"] / row["200"]["p50"] for name, row in in_process.items()}
    met = all(ratio <= GOAL for ratio in ratios.values())
    lines = [
        "### Conditional GETs (If-None-Match) in-process",
        "",
        "| function | 200 p50 ms | 304 p50 ms | 304 / 200 | 304 p99 ms | stale tag (200) p50 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in in_process.items():
        lines.append(
            f"| {name} | {row['200']['p50']:.2f} | {row['304']['p50']:.2f} | {ratios[name]:.2f} | "
            f"{row['304']['p99']:.2f} | {row['stale']['p50']:.2f} |"
        )
    worst = max(ratios.values()) if ratios else float("nan")
    lines += [
        "",
        f"Goal, a 304 at most {GOAL:.1f} × the 200's p50 on every route: **{'met' if met else 'missed'}** "
        f"(largest ratio {worst:.2f}).",
        "",
        "### Conditional GETs through the local server (HTTP keep-alive, one client)",
        "",
        "| function | 200 p50 ms | 304 p50 ms | 304 / 200 | 200 p99 ms | 304 p99 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in server.items():
        lines.append(
            f"| {name} | {row['200']['p50']:.2f} | {row['304']['p50']:.2f} | "
            f"{row['304']['p50'] / row['200']['p50']:.2f} | {row['200']['p99']:.2f} | {row['304']['p99']:.2f} |"
        )
    lines += [
        "",
        "### Answer sizes (the routes' samples; gzip from 1 KiB when the client accepts it)",
        "",
        "| function | JSON bytes | gzip bytes | gzip / JSON |",
        "| --- | --- | --- | --- |",
    ]
    for name, size in results["sizes"].items():
        coded = f"{size['gzip']:,} | {size['gzip'] / size['plain']:.2f}" if size["gzip"] else "not coded | -"
        lines.append(f"| {name} | {size['plain']:,} | {coded} |")
    cost = results["version_cost"]
    lines += [
        "",
        "### What the story-version triggers add to a reset (as the API functions' login)",
        "",
        "| triggers | p50 ms | p99 ms |",
        "| --- | --- | --- |",
        f"| enabled | {cost['with']['p50']:.2f} | {cost['with']['p99']:.2f} |",
        f"| disabled | {cost['without']['p50']:.2f} | {cost['without']['p99']:.2f} |",
    ]
    return "\n".join(lines)


def measure(url: str, owner_url: str, functions: list[template.Function]) -> dict[str, Any]:
    """The in-process part, on `url` (the API functions' login) as handlers connect in the bench."""
    add_session(owner_url)  # the workflow context's sample names it; a reset measured before may have removed it
    return {
        "in_process": measure_in_process(functions),
        "sizes": measure_sizes(functions),
        "version_cost": measure_version_cost(owner_url, url),
    }


def main() -> None:
    os.environ.update(LAMBDA_ENV)
    BENCH_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="squelch-bench-") as scratch:
        from localdev.database import start_embedded

        owner_url = os.environ.get("BENCH_DATABASE_URL") or start_embedded(Path(scratch) / "pg", "bench")
        prepare_database(owner_url)
        url = runtime_url(owner_url)
        os.environ["DATABASE_URL"] = url
        functions = list(template.load().values())
        results = measure(url, owner_url, functions)
        results["server"] = _through_server(owner_url, functions)
    (BENCH_DIR / "conditional.json").write_text(json.dumps(results, indent=2))
    print(report(results))


def _through_server(owner_url: str, functions: list[template.Function]) -> dict[str, dict[str, Any]]:
    with local_server(owner_url, env=LAMBDA_ENV) as served:
        return measure_server(served.port, functions)


if __name__ == "__main__":
    main()
