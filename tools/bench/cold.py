"""Cold starts: a fresh interpreter importing a function's handler as Lambda's init does, next to one
importing only psycopg (the floor); and where CustomerGetFunction's init goes, stage by stage."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from localdev import template
from localdev.template import ROOT
from tools import bytecode
from tools.bench.common import BENCH_DIR, COLD_RUNS, LAMBDA_ENV, events_path, percentile
from tools.bench.database import AS_OWNER, DELETED_SANDBOX, add_session, create_sandbox


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
import json, os, sys, time
sys.path[:0] = [sys.argv[1], *sys.argv[2].split(os.pathsep)]
started = time.perf_counter()
{statement}
imported = time.perf_counter()
first = None
if len(sys.argv) > 4:
    class Context:
        function_name = "bench"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:local:000000000000:function:bench"
        aws_request_id = "bench-cold-start"
        def get_remaining_time_in_millis(self):
            return 10_000
    event = json.loads(open(sys.argv[4]).read())
    answer = getattr(app, sys.argv[3])(event, Context())
    first = (time.perf_counter() - started) * 1000
    if isinstance(answer, dict) and answer.get("statusCode", 200) >= 400:
        raise SystemExit(f"the first response failed: {{answer}}")
print(json.dumps([(imported - started) * 1000, first]))
"""


# A fresh interpreter as Lambda starts one: isolated (-I -S), and writing no bytecode (-B; -I ignores
# PYTHONDONTWRITEBYTECODE) because Lambda's code and layer folders are read-only, so what is not
# shipped as bytecode is compiled anew by every cold start.
FRESH_PYTHON = [sys.executable, "-I", "-S", "-B"]


def cold_start_ms(
    code_dir: Path,
    layer: Path | str,
    statement: str,
    env: dict[str, str],
    event: Path | None = None,
    python: list[str] = FRESH_PYTHON,
    handler: str = "lambda_handler",
) -> tuple[float, float | None]:
    """(init ms, ms from the fresh interpreter to the first response when an event is given): the
    first response adds what Lambda's first invocation pays, the database connection and the
    resolver's per-route validation models, which powertools builds on first use. `layer` may name
    several folders (os.pathsep), put on sys.path after the function's in that order, as Lambda puts
    /opt/python before its runtime's own packages. A failed first response stops the run."""
    args = [*python, "-c", _COLD_SCRIPT.format(statement=statement), str(code_dir), str(layer), handler]
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
CUSTOMER_GET_TRACER = "CustomerGetFunction (Tracer on)"


@dataclass(frozen=True)
class Baseline:
    """The layer's package and the functions as they were at a git commit, on today's dependencies."""

    commit: str
    functions: Path
    layer: Path

    def name(self, logical_id: str) -> str:
        return f"{logical_id} (at {self.commit})"


def baseline(revision: str, layer: Path) -> Baseline:
    """BENCH_BASELINE's revision built beside `layer`: its squelch package compiled to bytecode as
    `make build` does, every other entry of the layer linked, so only our code differs."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", revision], capture_output=True, text=True, check=True
    ).stdout.strip()
    root = BENCH_DIR / f"baseline-{commit}"
    shutil.rmtree(root, ignore_errors=True)
    target = root / "python"
    target.mkdir(parents=True)
    for entry in layer.iterdir():
        if entry.name != "squelch":
            (target / entry.name).symlink_to(entry)
    git_archive = ["git", "-C", str(ROOT), "archive", commit, "layers/shared/squelch", "functions"]
    archive = subprocess.run(git_archive, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root / "source", filter="data")
    shutil.move(root / "source" / "layers" / "shared" / "squelch", target / "squelch")
    bytecode.compile_tree(target / "squelch")
    return Baseline(commit, root / "source" / "functions", target)


def measure_cold_starts(
    layer: Path, source_only_layer: Path, database_url: str, owner_url: str, then: Baseline | None = None
) -> tuple[dict[str, float], dict[str, dict[str, float | None]], dict[str, dict[str, float]]]:
    """Rounds of: the floor, then every function, each in a fresh interpreter. A function's ratio is
    the median over rounds of its time over the same round's floor, so the machine's drift between
    rounds (large on a shared 2-core VM) cancels out. The routes connect as the API functions' login
    (database_url), the migrate function as the owner. With a baseline, each function that existed
    then is also imported as it was, right after today's, and compared round by round."""
    env = {**LAMBDA_ENV, "DATABASE_URL": database_url}
    owner_env = {**LAMBDA_ENV, "DATABASE_URL": owner_url}
    functions: dict[str, tuple[Path, dict[str, str], Path | None]] = {}
    layers: dict[str, Path] = {}
    for f in template.load().values():
        functions[f.logical_id] = (f.code_dir, owner_env if f.logical_id in AS_OWNER else env, events_path(f))
        layers[f.logical_id] = layer
        if then and (then.functions / f.code_dir.name).is_dir():
            functions[then.name(f.logical_id)] = (then.functions / f.code_dir.name, env, None)  # import only
            layers[then.name(f.logical_id)] = then.layer
    customer_get = template.load()["CustomerGetFunction"]
    functions[CUSTOMER_GET_TRACER] = (
        customer_get.code_dir,
        {**env, "POWERTOOLS_TRACE_DISABLED": "false"},
        None,
    )
    layers[CUSTOMER_GET_TRACER] = layer
    functions[NO_BYTECODE] = (customer_get.code_dir, env, events_path(customer_get))
    layers[NO_BYTECODE] = source_only_layer
    floor_runs: list[float] = []
    runs: dict[str, list[float]] = {name: [] for name in functions}
    firsts: dict[str, list[float]] = {name: [] for name in functions}
    setup_conn = psycopg.connect(database_url, autocommit=True)
    for round_number in range(COLD_RUNS + 1):
        add_session(owner_url)  # the previous round's reset removed it; step and context need it
        create_sandbox(setup_conn, DELETED_SANDBOX)  # the one the delete's first response removes
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
    setup_conn.close()
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
    versus: dict[str, dict[str, float]] = {}
    for name in list(results):
        if then and then.name(name) in results:
            before = results.pop(then.name(name))
            versus[name] = {
                "then_p50": before["p50"] or 0.0,
                "then_ratio": before["ratio"] or 0.0,
                "now_p50": results[name]["p50"] or 0.0,
                "now_ratio": results[name]["ratio"] or 0.0,
                "now_over_then": statistics.median(
                    now / was for now, was in zip(runs[name], runs[then.name(name)], strict=True)
                ),
            }
    return floor, results, versus


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
    # Our layer (settings, models, db, domain, http, observability), package by package in the order
    # the stack needs them; together they are the single "our layer" stage of earlier runs.
    ("our layer: settings and errors", "import squelch.settings, squelch.errors"),
    ("our layer: db (connection, credentials, sandbox)", "import squelch.db"),
    ("our layer: queries (typed rows: frozen dataclasses)", "import squelch.queries.customers"),
    ("our layer: models (pydantic answers)", "import squelch.models.customers"),
    ("our layer: domain", "import squelch.domain.customers"),
    ("our layer: http and observability", "import squelch.http, squelch.observability"),
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
    ours = [i for i, (name, _) in enumerate(INIT_STAGES) if name.startswith("our layer")]
    stages = [
        {
            "stage": name,
            "p50": statistics.median(run[i] for run in samples),
            "share": statistics.median(run[i] / run[0] for run in samples),
        }
        for i, (name, _) in enumerate(INIT_STAGES)
    ]
    stages.insert(
        ours[-1] + 1,
        {
            "stage": "our layer, in all",
            "p50": statistics.median(sum(run[i] for i in ours) for run in samples),
            "share": statistics.median(sum(run[i] for i in ours) / run[0] for run in samples),
        },
    )
    return stages
