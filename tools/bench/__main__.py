"""python -m tools.bench: every measurement in order, then the report (see tools/bench/__init__.py)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import psycopg

from localdev import template
from localdev.database import start_embedded
from tools.bench import aws_paths, conditional, readiness
from tools.bench.cold import baseline, bench_layer, measure_cold_starts, measure_init_stages
from tools.bench.common import BENCH_DIR, LAMBDA_ENV, LOAD_SECONDS
from tools.bench.database import add_session, prepare_database, runtime_url
from tools.bench.report import report
from tools.bench.reset import measure_reset
from tools.bench.sandboxes import measure_create_and_reset, measure_many
from tools.bench.scale import explain_plans, fill_other_customers
from tools.bench.server import measure_server, measure_throughput
from tools.bench.warm import measure_warm
from tools.local_server import local_server


def main() -> None:
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    # Metrics are off as in the local server, so Powertools keeps them between invocations: each reset
    # re-adds its dimension (a warning), and every 100 values it prints them (to stderr here, below).
    warnings.filterwarnings("ignore", message="Dimension .* has already been added")
    BENCH_DIR.mkdir(exist_ok=True)
    os.environ.update(LAMBDA_ENV)
    with tempfile.TemporaryDirectory(prefix="squelch-bench-") as scratch, redirect_stdout(sys.stderr):
        # The owner migrates, seeds and fills; the routes connect as the API functions' login.
        owner_url = os.environ.get("BENCH_DATABASE_URL") or start_embedded(Path(scratch) / "pg", "bench")
        prepare_database(owner_url)
        url = runtime_url(owner_url)
        os.environ["DATABASE_URL"] = url
        with psycopg.connect(owner_url) as conn:
            postgres = (conn.execute("SHOW server_version").fetchone() or ["?"])[0]
        print("building the benchmark layer and timing cold starts ...", file=sys.stderr, flush=True)
        layer = bench_layer()
        then = baseline(os.environ["BENCH_BASELINE"], layer) if os.environ.get("BENCH_BASELINE") else None
        floor, cold, cold_versus = measure_cold_starts(layer, bench_layer(with_bytecode=False), url, owner_url, then)
        stages = measure_init_stages(layer)
        print("first responses on AWS's secret paths, and the FastAPI peer ...", file=sys.stderr, flush=True)
        aws = aws_paths.measure(url, owner_url, layer)
        prepare_database(owner_url)
        add_session(owner_url)
        functions = list(template.load().values())
        # The customer, workflow and AI routes (not the demo's bookkeeping, not the migrate function).
        per_customer = [f for f in functions if f.routes and not f.routes[0].path.startswith("/api/demo/")]
        print("warm latency ...", file=sys.stderr, flush=True)
        warm = measure_warm(url, owner_url, functions)
        revalidation = conditional.measure(url, owner_url, functions)
        reset = measure_reset(owner_url)
        print("sandboxes ...", file=sys.stderr, flush=True)
        sandbox_resets = measure_create_and_reset(owner_url)
        many_sandboxes = measure_many(url, owner_url)
        add_session(owner_url)
        with local_server(owner_url, env=LAMBDA_ENV) as served:
            print("through the local server ...", file=sys.stderr, flush=True)
            server = measure_server(served.port, functions, url)
            revalidation["server"] = conditional.measure_server(served.port, functions)
            print(f"throughput for {LOAD_SECONDS:.0f} s ...", file=sys.stderr, flush=True)
            throughput = measure_throughput(served.port)
        print("demo readiness: first screen cold, warm, after the preflight ...", file=sys.stderr, flush=True)
        ready = readiness.measure(owner_url)
        print("generating the scale data ...", file=sys.stderr, flush=True)
        fill_seconds = fill_other_customers(owner_url)
        add_session(owner_url)
        warm_scaled = measure_warm(url, owner_url, per_customer)
        reset_scaled = measure_reset(owner_url)
        plans = explain_plans(url)
    results = {
        "postgres": postgres,
        "cold_floor": floor,
        "cold": cold,
        "cold_baseline": then.commit if then else None,
        "cold_versus": cold_versus,
        "init_stages": stages,
        "warm": warm,
        "warm_scaled": warm_scaled,
        "server": server,
        "reset": reset,
        "reset_scaled": reset_scaled,
        "sandbox_resets": sandbox_resets,
        "many_sandboxes": many_sandboxes,
        "throughput": throughput,
        "fill_seconds": fill_seconds,
        "plans": plans,
        "conditional": revalidation,
        "aws_paths": aws,
        "readiness": ready,
    }
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))
    text = (
        report(results)
        + "\n\n"
        + aws_paths.report(aws)
        + "\n\n"
        + conditional.report(revalidation)
        + "\n\n"
        + readiness.report(ready)
    )
    (BENCH_DIR / "results.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
