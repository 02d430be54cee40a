"""The Markdown tables `make bench` prints and docs/PERFORMANCE.md quotes."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from tools.bench.common import LOAD_CLIENTS, OTHER_CUSTOMERS, OTHER_TICKETS
from tools.bench.scale import FIRST_CUSTOMERS


def machine() -> str:
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    return (
        f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()} {platform.machine()}"
    )


def report(results: dict[str, Any]) -> str:
    lines = [f"Machine: {machine()}. PostgreSQL: {results['postgres']}.", ""]
    floor = results["cold_floor"]
    lines += [
        "### Cold start (fresh interpreter importing the handler; only the function and the layer on sys.path)",
        "",
        f"Floor (`import psycopg`): {floor['p50']:.0f} ms (p10-p90 {floor['p10']:.0f}-{floor['p90']:.0f}).",
        "",
        (
            "| function | init p50 ms | p10-p90 | ratio to floor (median of per-round ratios) "
            "| to first response p50 ms |"
        ),
        "| --- | --- | --- | --- | --- |",
    ]
    for name, r in results["cold"].items():
        first = f"{r['first_p50']:.0f}" if r.get("first_p50") is not None else "-"
        lines.append(f"| {name} | {r['p50']:.0f} | {r['p10']:.0f}-{r['p90']:.0f} | {r['ratio']:.2f} | {first} |")
    if results.get("cold_baseline"):
        then = results["cold_baseline"]
        lines += [
            "",
            f"### Cold start: today's code against commit {then} (same rounds, same dependencies)",
            "",
            (
                f"| function | init p50 ms at {then} | ratio to floor at {then} | init p50 ms today "
                "| ratio to floor today | today / then (median of per-round ratios) |"
            ),
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, r in results["cold_versus"].items():
            lines.append(
                f"| {name} | {r['then_p50']:.0f} | {r['then_ratio']:.2f} | {r['now_p50']:.0f} | {r['now_ratio']:.2f} "
                f"| {r['now_over_then']:.3f} |"
            )
    lines += [
        "",
        "### Where the init goes (CustomerGetFunction, each stage after the ones above it)",
        "",
        "| stage | p50 ms | share of the floor |",
        "| --- | --- | --- |",
    ]
    for stage in results["init_stages"]:
        lines.append(f"| {stage['stage']} | {stage['p50']:.0f} | {stage['share']:.2f} |")
    for title, key in (("empty database", "warm"), ("with the scale data", "warm_scaled")):
        lines += [
            "",
            f"### Warm latency in-process ({title})",
            "",
            "| function | p50 ms | p99 ms | floor p50 ms (same SQL, psycopg) | floor p99 | p50 - floor |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, r in results[key].items():
            lines.append(
                f"| {name} | {r['p50']:.2f} | {r['p99']:.2f} | {r['floor_p50']:.2f} | {r['floor_p99']:.2f} "
                f"| {r['p50'] - r['floor_p50']:.2f} |"
            )
    lines += [
        "",
        "### Through the local server (HTTP keep-alive, one client)",
        "",
        "| function | p50 ms | p99 ms |",
        "| --- | --- | --- |",
    ]
    for name, r in results["server"].items():
        lines.append(f"| {name} | {r['p50']:.2f} | {r['p99']:.2f} |")
    reset, scaled = results["reset"], results["reset_scaled"]
    lines += [
        "",
        "### Reset",
        "",
        "| database | p50 ms | p99 ms |",
        "| --- | --- | --- |",
        f"| demo story only | {reset['p50']:.1f} | {reset['p99']:.1f} |",
        f"| + {OTHER_CUSTOMERS:,} customers, {OTHER_TICKETS:,} tickets | {scaled['p50']:.1f} | {scaled['p99']:.1f} |",
    ]
    lines += sandbox_tables(results)
    load = results["throughput"]
    lines += [
        "",
        f"### Throughput of the local server ({LOAD_CLIENTS} clients, {load['seconds']:.0f} s, six GET routes)",
        "",
        f"{load['requests']:,} requests, {load['rps']:.0f} requests/s, {load['errors']} errors.",
        "",
        fill_line(results["fill_seconds"]),
        "",
        "### Plans with the scale data",
        "",
        "```",
        results["plans"],
        "```",
    ]
    return "\n".join(lines)


def sandbox_tables(results: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "### Sandboxes: created and reset through the reset function (in-process, X-Demo-Sandbox)",
        "",
        "| checkpoint | create p50 ms | create p99 ms | reset an existing one p50 ms | p99 ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    made = results["sandbox_resets"]
    for checkpoint, create in made["create"].items():
        again = made["reset"][checkpoint]
        lines.append(
            f"| {checkpoint} | {create['p50']:.1f} | {create['p99']:.1f} | {again['p50']:.1f} | {again['p99']:.1f} |"
        )
    many = results["many_sandboxes"]
    count = many["count"]
    lines += [
        "",
        f"### {count} sandboxes present (warm p50 in-process; ratio to the same route with the default sandbox alone, "
        "median of the turns' ratios)",
        "",
        f"| function | alone p50 ms | {count}: default p50 ms | ratio | {count}: one of them p50 ms | ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in many["routes"].items():
        lines.append(
            f"| {name} | {r['alone']:.2f} | {r['default']:.2f} | {r['default_ratio']:.2f} "
            f"| {r['target']:.2f} | {r['target_ratio']:.2f} |"
        )
    return lines


def fill_line(seconds: dict[str, float]) -> str:
    first, other = seconds["first customers"], seconds["other customers"]
    rest = OTHER_CUSTOMERS - FIRST_CUSTOMERS
    return (
        f"Scale data generated in {seconds['total']:.1f} s: the first {FIRST_CUSTOMERS:,} customers in "
        f"{first:.1f} s ({first / FIRST_CUSTOMERS * 1e6:.0f} µs each; one INSERT, the statistics saying the "
        f"story alone), the other {rest:,} in {other:.1f} s ({other / rest * 1e6:.0f} µs each, after an "
        f"ANALYZE), contacts {seconds['contacts']:.1f} s, tickets {seconds['tickets']:.1f} s, "
        f"VACUUM ANALYZE {seconds['VACUUM ANALYZE']:.1f} s."
    )
