"""`make bench`: cold start, warm latency, reset cost, scale and throughput, each next to its floor.

Figures are medians with a spread (p10-p90 for cold starts, p99 for latencies). The database is an
embedded PostgreSQL in a scratch folder unless BENCH_DATABASE_URL names one (it must be a database
the benchmark may fill and wipe). BENCH_QUICK=1 runs fewer iterations; BENCH_SECONDS sets the load.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from localdev import runtime, template
from localdev.database import start_embedded
from localdev.server import free_port
from localdev.template import ROOT
from tools import bytecode

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


# ---- cold start -------------------------------------------------------------------------------


def bench_layer(with_bytecode: bool = True) -> Path:
    """The layer as Lambda mounts it (dependencies and package in one python/ folder), built with
    pip once per requirements file, with the hash-based bytecode `make build` adds (or, for
    comparison, none, as plain `sam build` ships it)."""
    requirements = (ROOT / "layers" / "shared" / "requirements.txt").read_bytes()
    root = BENCH_DIR / f"layer-{hashlib.sha256(requirements).hexdigest()[:12]}-{'pyc' if with_bytecode else 'source'}"
    target = root / "python"
    if not target.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-compile",
                "--no-warn-conflicts",
                "--target",
                str(target),
                "-r",
                str(ROOT / "layers" / "shared" / "requirements.txt"),
            ],
            check=True,
        )
    shutil.rmtree(target / "squelch", ignore_errors=True)
    shutil.copytree(
        ROOT / "layers" / "shared" / "squelch", target / "squelch", ignore=shutil.ignore_patterns("__pycache__")
    )
    for cache in list(root.rglob("__pycache__")):
        shutil.rmtree(cache)
    if with_bytecode:
        bytecode.compile_tree(root)
    return target


_COLD_SCRIPT = """
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
started = time.perf_counter()
{statement}
imported = time.perf_counter()
first = None
if len(sys.argv) > 3:
    class Context:
        function_name = "bench"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:local:000000000000:function:bench"
        aws_request_id = "bench-cold-start"
    event = json.loads(open(sys.argv[3]).read())
    app.lambda_handler(event, Context())
    first = (time.perf_counter() - started) * 1000
print(json.dumps([(imported - started) * 1000, first]))
"""


# A fresh interpreter as Lambda starts one: isolated (-I -S), and writing no bytecode (-B; -I ignores
# PYTHONDONTWRITEBYTECODE) because Lambda's code and layer folders are read-only, so what is not
# shipped as bytecode is compiled anew by every cold start.
FRESH_PYTHON = [sys.executable, "-I", "-S", "-B"]


def cold_start_ms(
    code_dir: Path, layer: Path, statement: str, env: dict[str, str], event: Path | None = None
) -> tuple[float, float | None]:
    """(init ms, ms from the fresh interpreter to the first response when an event is given): the
    first response adds what Lambda's first invocation pays, the database connection and the
    resolver's per-route validation models, which powertools builds on first use."""
    args = [*FRESH_PYTHON, "-c", _COLD_SCRIPT.format(statement=statement), str(code_dir), str(layer)]
    out = subprocess.run(
        args + ([str(event)] if event else []),
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=True,
    )
    init_ms, first_ms = json.loads(out.stdout.strip().splitlines()[-1])
    return init_ms, first_ms


NO_BYTECODE = "CustomerGetFunction (no bytecode: plain `sam build`)"


def measure_cold_starts(
    layer: Path, source_only_layer: Path, database_url: str
) -> tuple[dict[str, float], dict[str, dict[str, float | None]]]:
    """Rounds of: the floor, then every function, each in a fresh interpreter. A function's ratio is
    the median over rounds of its time over the same round's floor, so the machine's drift between
    rounds (large on a shared 2-core VM) cancels out."""
    env = {**LAMBDA_ENV, "DATABASE_URL": database_url}
    functions = {f.logical_id: (f.code_dir, env, events_path(f)) for f in template.load().values()}
    customer_get = template.load()["CustomerGetFunction"]
    functions["CustomerGetFunction (Tracer on)"] = (
        customer_get.code_dir,
        {**env, "POWERTOOLS_TRACE_DISABLED": "false"},
        None,
    )
    layers = dict.fromkeys(functions, layer)
    functions[NO_BYTECODE] = (customer_get.code_dir, env, events_path(customer_get))
    layers[NO_BYTECODE] = source_only_layer
    floor_runs: list[float] = []
    runs: dict[str, list[float]] = {name: [] for name in functions}
    firsts: dict[str, list[float]] = {name: [] for name in functions}
    for round_number in range(COLD_RUNS + 1):
        add_session(database_url)  # the previous round's reset removed it; step and context need it
        floor_ms, _ = cold_start_ms(layer, layer, "import psycopg", env)
        timings = {
            name: cold_start_ms(code, layers[name], "import app", fn_env, event)
            for name, (code, fn_env, event) in functions.items()
        }
        if round_number == 0:
            continue  # a warm-up: the first round reads the files into the page cache
        floor_runs.append(floor_ms)
        for name, (init_ms, first_ms) in timings.items():
            runs[name].append(init_ms)
            if first_ms is not None:
                firsts[name].append(first_ms)
    floor = {
        "p50": statistics.median(floor_runs),
        "p10": percentile(floor_runs, 0.1),
        "p90": percentile(floor_runs, 0.9),
    }
    results = {
        name: {
            "p50": statistics.median(samples),
            "p10": percentile(samples, 0.1),
            "p90": percentile(samples, 0.9),
            "ratio": statistics.median(ms / f for ms, f in zip(samples, floor_runs, strict=True)),
            "first_p50": statistics.median(firsts[name]) if firsts[name] else None,
        }
        for name, samples in runs.items()
    }
    return floor, results


# What a route function's init imports, in the order it needs them; each stage is timed after the
# ones before it are loaded, so the stages add up to the whole init.
INIT_STAGES = (
    ("psycopg (the floor)", "import psycopg"),
    ("pydantic", "from pydantic import BaseModel, Field, TypeAdapter"),
    ("Powertools Logger and Metrics", "from aws_lambda_powertools import Logger, Metrics"),
    (
        "Powertools event handler (APIGatewayHttpResolver)",
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver",
    ),
    (
        "event handler validation (OpenAPI params, validation middleware)",
        (
            "import aws_lambda_powertools.event_handler.openapi.params, "
            "aws_lambda_powertools.event_handler.middlewares.openapi_validation"
        ),
    ),
    (
        "our layer (settings, models, db, domain, http, observability)",
        (
            "import squelch.settings, squelch.models.customers, squelch.domain.customers, squelch.http, "
            "squelch.observability"
        ),
    ),
    ("the handler module (resolver, route, decorators)", "import app"),
)

_STAGES_SCRIPT = """
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
marks = [time.perf_counter()]
for statement in json.loads(sys.argv[3]):
    exec(statement)
    marks.append(time.perf_counter())
print(json.dumps([(b - a) * 1000 for a, b in zip(marks, marks[1:])]))
"""


def measure_init_stages(layer: Path) -> list[dict[str, Any]]:
    """Where CustomerGetFunction's init goes, stage by stage, each as a share of the floor."""
    code_dir = template.load()["CustomerGetFunction"].code_dir
    statements = json.dumps([statement for _, statement in INIT_STAGES])
    samples: list[list[float]] = []
    for round_number in range(COLD_RUNS + 1):
        out = subprocess.run(
            [*FRESH_PYTHON, "-c", _STAGES_SCRIPT, str(code_dir), str(layer), statements],
            env={"PATH": os.environ["PATH"], **LAMBDA_ENV},
            capture_output=True,
            text=True,
            check=True,
        )
        if round_number:
            samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return [
        {
            "stage": name,
            "p50": statistics.median(run[i] for run in samples),
            "share": statistics.median(run[i] / run[0] for run in samples),
        }
        for i, (name, _) in enumerate(INIT_STAGES)
    ]


# ---- database ---------------------------------------------------------------------------------


def prepare_database(url: str) -> None:
    from squelch.db import migrations
    from squelch.domain import demo

    with psycopg.connect(url, autocommit=True) as conn:
        migrations.migrate(conn)
        conn.execute("DELETE FROM demo_customers")
        from datetime import date

        demo.reset(conn, date.fromisoformat(DEMO_DAY))
        conn.execute("DELETE FROM demo_reset_log")


def add_session(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO demo_workflow_state (session_id, customer_id, workflow_type, total_steps) "
            "VALUES (%s, 'aco-001', 'strategic_planning', 5) ON CONFLICT DO NOTHING",
            [SESSION],
        )


def fill_other_customers(url: str) -> float:
    """OTHER_CUSTOMERS non-demo customers and OTHER_TICKETS tickets spread over them and a year."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"""
            INSERT INTO demo_customers (customer_id, slug, name, arr, renewal_date, health_score, is_demo, created_at)
            SELECT 'cust-' || n, 'cust-' || n, 'Customer ' || n, 10000 + n, DATE '{DEMO_DAY}' + (n % 365),
                   (n % 100) / 10.0, false, now() - (n % 700) * interval '1 day'
            FROM generate_series(1, {OTHER_CUSTOMERS}) n""")
        conn.execute(f"""
            INSERT INTO demo_contacts (contact_id, customer_id, name, is_primary)
            SELECT 'contact-' || n, 'cust-' || n, 'Person ' || n, true FROM generate_series(1, {OTHER_CUSTOMERS}) n""")
        conn.execute(f"""
            INSERT INTO demo_support_tickets
            SELECT 'tkt-' || n, 'cust-' || (1 + n % {OTHER_CUSTOMERS}), 'Ticket ' || n, 'bug',
                   (ARRAY['critical','high','medium','low'])[1 + n % 4], NULL,
                   (ARRAY['frustrated','neutral','satisfied'])[1 + n % 3],
                   TIMESTAMPTZ '{DEMO_DAY}' - (n % 365) * interval '1 day'
            FROM generate_series(1, {OTHER_TICKETS}) n""")
        # A database that has been running a while: statistics current and the visibility map set,
        # so autovacuum does not start on the new rows in the middle of the measurements.
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def explain_plans(url: str) -> str:
    from squelch.queries import customers, tickets

    day = f"TIMESTAMPTZ '{DEMO_DAY}'"
    queries = {
        "profile by slug": customers.PROFILE.replace("%(ref)s", "'aco'"),
        "tickets in the window": tickets.IN_PERIOD.replace("%(customer_id)s", "'aco-001'")
        .replace("%(start)s", f"{day} - interval '14 days'")
        .replace("%(end)s", f"{day} + interval '1 day'"),
        "reset: demo customers": "SELECT customer_id FROM demo_customers WHERE is_demo",
        "contacts of a customer": "SELECT * FROM demo_contacts WHERE customer_id = 'aco-001'",
    }
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        for name, query in queries.items():
            plan = conn.execute("EXPLAIN (COSTS OFF) " + query).fetchall()
            out.append(f"-- {name}\n" + "\n".join(row[0] for row in plan))
    return "\n\n".join(out)


# ---- warm latency -----------------------------------------------------------------------------


def events_path(function: template.Function) -> Path | None:
    path = ROOT / "events" / f"{function.code_dir.name}.json"
    return path if path.exists() else None


def event_for(function: template.Function) -> dict[str, Any] | None:
    path = events_path(function)
    return json.loads(path.read_text()) if path else None


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


def timed(call: Callable[[], object], runs: int) -> list[float]:
    for _ in range(max(5, runs // 20)):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


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


# ---- through the local server -----------------------------------------------------------------


def start_server(url: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, **LAMBDA_ENV, "DATABASE_URL": url, "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "localdev", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the local server did not start")


def http_call(
    conn: http.client.HTTPConnection, method: str, path: str, body: str | None, headers: dict[str, str]
) -> int:
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def measure_server(port: int, functions: list[template.Function]) -> dict[str, dict[str, float]]:
    results = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for function in functions:
        event = event_for(function)
        if event is None or not function.routes or function.logical_id == "DemoResetFunction":
            continue
        method, path = event["requestContext"]["http"]["method"], event["rawPath"]
        headers = {"content-type": "application/json"}

        def call(
            method: str = method,
            path: str = path,
            body: str | None = event.get("body"),
            headers: dict[str, str] = headers,
        ) -> None:
            status = http_call(conn, method, path, body, headers)
            if status >= 300:
                raise RuntimeError(f"{method} {path} answered {status}")

        samples = timed(call, SERVER_RUNS)
        results[function.logical_id] = {"p50": statistics.median(samples), "p99": percentile(samples, 0.99)}
    conn.close()
    return results


def measure_throughput(port: int) -> dict[str, float]:
    paths = [
        "/api/customers/aco",
        "/api/customers/aco/contacts",
        "/api/customers/aco/health",
        "/api/customers/aco/tickets",
        "/api/customers/aco/operations",
        "/api/customers/aco/opportunities",
    ]
    counts = [0] * LOAD_CLIENTS
    errors = [0] * LOAD_CLIENTS
    stop = time.monotonic() + LOAD_SECONDS

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = index
        while time.monotonic() < stop:
            try:
                status = http_call(conn, "GET", paths[n % len(paths)], None, {})
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            counts[index] += 1
            errors[index] += status != 200
            n += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(LOAD_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"requests": sum(counts), "errors": sum(errors), "seconds": elapsed, "rps": sum(counts) / elapsed}


# ---- reset ------------------------------------------------------------------------------------


def measure_reset(url: str) -> dict[str, float]:
    from datetime import date

    from squelch.domain import demo

    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        samples = timed(lambda: demo.reset(conn, date.fromisoformat(DEMO_DAY)), RESET_RUNS)
    return {"p50": statistics.median(samples), "p99": percentile(samples, 0.99)}


# ---- report -----------------------------------------------------------------------------------


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
    load = results["throughput"]
    lines += [
        "",
        f"### Throughput of the local server ({LOAD_CLIENTS} clients, {load['seconds']:.0f} s, six GET routes)",
        "",
        f"{load['requests']:,} requests, {load['rps']:.0f} requests/s, {load['errors']} errors.",
        "",
        f"Scale data generated in {results['fill_seconds']:.1f} s.",
        "",
        "### Plans with the scale data",
        "",
        "```",
        results["plans"],
        "```",
    ]
    return "\n".join(lines)


def main() -> None:
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    BENCH_DIR.mkdir(exist_ok=True)
    os.environ.update(LAMBDA_ENV)
    with tempfile.TemporaryDirectory(prefix="squelch-bench-") as scratch:
        url = os.environ.get("BENCH_DATABASE_URL") or start_embedded(Path(scratch) / "pg", "bench")
        os.environ["DATABASE_URL"] = url
        prepare_database(url)
        with psycopg.connect(url) as conn:
            postgres = (conn.execute("SHOW server_version").fetchone() or ["?"])[0]
        print("building the benchmark layer and timing cold starts ...", file=sys.stderr, flush=True)
        layer = bench_layer()
        floor, cold = measure_cold_starts(layer, bench_layer(with_bytecode=False), url)
        stages = measure_init_stages(layer)
        prepare_database(url)
        add_session(url)
        functions = list(template.load().values())
        per_customer = [f for f in functions if f.logical_id not in ("DemoResetFunction", "DatabaseMigrateFunction")]
        print("warm latency ...", file=sys.stderr, flush=True)
        warm = measure_warm(url, functions)
        reset = measure_reset(url)
        add_session(url)
        process, port = start_server(url)
        try:
            print("through the local server ...", file=sys.stderr, flush=True)
            server = measure_server(port, functions)
            print(f"throughput for {LOAD_SECONDS:.0f} s ...", file=sys.stderr, flush=True)
            throughput = measure_throughput(port)
        finally:
            process.terminate()
            process.wait(10)
        print("generating the scale data ...", file=sys.stderr, flush=True)
        fill_seconds = fill_other_customers(url)
        add_session(url)
        warm_scaled = measure_warm(url, per_customer)
        reset_scaled = measure_reset(url)
        plans = explain_plans(url)
    results = {
        "postgres": postgres,
        "cold_floor": floor,
        "cold": cold,
        "init_stages": stages,
        "warm": warm,
        "warm_scaled": warm_scaled,
        "server": server,
        "reset": reset,
        "reset_scaled": reset_scaled,
        "throughput": throughput,
        "fill_seconds": fill_seconds,
        "plans": plans,
    }
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))
    text = report(results)
    (BENCH_DIR / "results.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
