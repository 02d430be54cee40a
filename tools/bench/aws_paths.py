"""The first response on the paths AWS takes, and beside a peer.

In AWS the stack gives the functions DB_SECRET_ARN, not DATABASE_URL: a new container reads the
database's credentials from Secrets Manager before it can connect. Both ways the layer supports
are timed here, against Secrets Manager served locally by moto's server: boto3 (what Lambda's Python
runtime provides, on the path after the layer as in Lambda) and the AWS Parameters and Secrets
Lambda Extension (localdev/secrets_extension.py, a stand-in speaking its protocol; its cache is
emptied before each cold start, as a new container's extension starts empty).

And the peer a user would otherwise pick: the profile route as one FastAPI app behind Mangum
(tools/peer), on the same psycopg and pydantic, in its own environment (.venv-peer) and the same
Python, its first response beside each of our functions' in the same rounds.

`python -m tools.bench.aws_paths` runs this part alone.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import psycopg
from psycopg.conninfo import conninfo_to_dict

from localdev import secrets_extension, template
from localdev.server import free_port
from localdev.template import ROOT
from tools.bench.cold import FRESH_PYTHON, bench_layer, cold_start_ms
from tools.bench.common import BENCH_DIR, COLD_RUNS, LAMBDA_ENV, events_path, percentile
from tools.bench.database import DELETED_SANDBOX, add_session, create_sandbox

# What Lambda's Python runtime has beside the function and its layers: boto3 and what it needs.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
SESSION_TOKEN = "bench-session-token"  # noqa: S105 - a stand-in value the stand-in extension expects
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": SESSION_TOKEN,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
PEER = ROOT / "tools" / "peer"
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
URL_PATH = "CustomerGetFunction (DATABASE_URL)"
BOTO3_PATH = "CustomerGetFunction (DB_SECRET_ARN, boto3)"
EXTENSION_PATH = "CustomerGetFunction (DB_SECRET_ARN, Parameters and Secrets extension)"
PEER_NAME = "peer: FastAPI + Mangum, profile route"


def runtime_packages() -> Path:
    """A folder holding boto3 and its dependencies as installed here (the hash-locked test
    environment), linked: what /var/runtime gives a Lambda function."""
    folder = BENCH_DIR / "runtime"
    folder.mkdir(parents=True, exist_ok=True)
    site = Path(boto3.__file__).parent.parent
    for name in RUNTIME_PACKAGES:
        link = folder / name
        if not link.exists():
            link.symlink_to(site / name)
    return folder


@contextmanager
def secrets_manager() -> Iterator[str]:
    """Secrets Manager served by moto on a free local port; its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def rds_secret(client: Any, database_url: str) -> str:
    """An RDS-shaped secret naming the database of database_url; its ARN."""
    secret = secrets_extension.rds_secret(database_url)
    return str(client.create_secret(Name=f"squelch/bench-{os.getpid()}", SecretString=json.dumps(secret))["ARN"])


def peer_site_packages() -> Path:
    found = sorted((ROOT / ".venv-peer" / "lib").glob("python*/site-packages"))
    if not PEER_PYTHON.exists() or not found:
        raise SystemExit("the peer's environment is missing: `make .venv-peer/bin/.deps` (make bench does it)")
    return found[0]


def peer_answers_as_we_do(database_url: str, event: Path, code_dir: Path, layer: Path) -> None:
    """The peer's body must be ours, or the comparison would not be of the same work."""
    script = (
        "import json, sys; sys.path[:0] = sys.argv[1].split(':'); import {module} as app\n"
        "class Context:\n"
        "    function_name, memory_limit_in_mb, aws_request_id = 'bench', 512, 'bench-answer'\n"
        "    invoked_function_arn = 'arn:aws:lambda:local:000000000000:function:bench'\n"
        "print(json.dumps(app.{handler}(json.loads(open(sys.argv[2]).read()), Context())))"
    )
    env = {"PATH": os.environ["PATH"], **LAMBDA_ENV, "DATABASE_URL": database_url}
    answers = []
    for python, paths, module, handler in (
        ([str(PEER_PYTHON), "-I", "-S"], f"{PEER}:{peer_site_packages()}", "profile_app", "handler"),
        ([sys.executable, "-I", "-S"], f"{code_dir}:{layer}", "app", "lambda_handler"),
    ):
        out = subprocess.run(
            [*python, "-c", script.format(module=module, handler=handler), paths, str(event)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        answers.append(json.loads(json.loads(out.stdout.strip().splitlines()[-1])["body"]))
    if answers[0] != answers[1]:
        raise SystemExit(f"the peer answers otherwise than CustomerGetFunction:\n{answers[0]}\n{answers[1]}")


def measure(database_url: str, owner_url: str, layer: Path) -> dict[str, Any]:
    """Rounds of: the floor (a fresh interpreter importing psycopg), the profile route's first
    response on each credential path, the peer's, and each of our route functions' (DATABASE_URL).
    Ratios are medians of the per-round ratios, so the machine's drift between rounds cancels out."""
    functions = [f for f in template.load().values() if f.routes and events_path(f)]
    customer_get = template.load()["CustomerGetFunction"]
    profile_event = events_path(customer_get)
    if profile_event is None:
        raise SystemExit("events/customer_get.json is missing")
    peer_answers_as_we_do(database_url, profile_event, customer_get.code_dir, layer)
    runtime = runtime_packages()
    url_env = {**LAMBDA_ENV, "DATABASE_URL": database_url}
    with secrets_manager() as endpoint:
        client = boto3.client(
            "secretsmanager",
            endpoint_url=endpoint,
            aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
            region_name=FAKE_AWS["AWS_DEFAULT_REGION"],
        )
        arn = rds_secret(client, database_url)
        secret_env = {
            **LAMBDA_ENV,
            **FAKE_AWS,
            "DB_SECRET_ARN": arn,
            "DB_SSLMODE": conninfo_to_dict(database_url).get("sslmode", "require"),
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
        }
        fetch = secrets_extension.from_secrets_manager(client)
        with secrets_extension.running(SESSION_TOKEN, fetch) as extension:
            extension_env = {**secret_env, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension.server_port)}
            with_runtime = f"{layer}{os.pathsep}{runtime}"
            peer = (str(PEER), str(peer_site_packages()))
            candidates: dict[str, tuple[Any, ...]] = {
                URL_PATH: (customer_get.code_dir, with_runtime, url_env, profile_event),
                BOTO3_PATH: (customer_get.code_dir, with_runtime, secret_env, profile_event),
                EXTENSION_PATH: (customer_get.code_dir, with_runtime, extension_env, profile_event),
                PEER_NAME: (Path(peer[0]), peer[1], url_env, profile_event),
            }
            for function in functions:
                candidates[function.logical_id] = (function.code_dir, layer, url_env, events_path(function))
            floors: list[float] = []
            firsts: dict[str, list[float]] = {name: [] for name in candidates}
            setup_conn = psycopg.connect(database_url, autocommit=True)
            for round_number in range(COLD_RUNS + 1):
                add_session(owner_url)  # the reset's first response removes it; the step and context need it
                floor_ms, _ = cold_start_ms(layer, layer, "import psycopg", url_env)
                timings = {}
                for name, (code_dir, paths, env, event) in candidates.items():
                    create_sandbox(setup_conn, DELETED_SANDBOX)  # the one the delete's first response removes
                    extension.cache.clear()  # a new container's extension starts with nothing cached
                    if name == PEER_NAME:
                        python = [str(PEER_PYTHON), *FRESH_PYTHON[1:]]
                        timings[name] = cold_start_ms(
                            code_dir, paths, "import profile_app as app", env, event, python, "handler"
                        )
                    else:
                        timings[name] = cold_start_ms(code_dir, paths, "import app", env, event)
                if round_number == 0:
                    continue  # a warm-up round: the files into the page cache
                floors.append(floor_ms)
                for name, (_, first_ms) in timings.items():
                    firsts[name].append(first_ms or 0.0)  # every candidate has an event: never None
            setup_conn.close()
    peer_runs = firsts[PEER_NAME]
    return {
        "floor_p50": statistics.median(floors),
        "paths": {name: _figures(firsts[name], floors, peer_runs) for name in (URL_PATH, BOTO3_PATH, EXTENSION_PATH)},
        "peer": _figures(peer_runs, floors, peer_runs),
        "functions": {f.logical_id: _figures(firsts[f.logical_id], floors, peer_runs) for f in functions},
    }


def _figures(samples: list[float], floors: list[float], peer: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(samples),
        "p90": percentile(samples, 0.9),
        "over_floor": statistics.median(s / f for s, f in zip(samples, floors, strict=True)),
        "over_peer": statistics.median(s / p for s, p in zip(samples, peer, strict=True)),
    }


CREDENTIALS_GOAL = 2.1
PEER_GOAL = 0.75


def report(results: dict[str, Any]) -> str:
    lines = [
        "### First response on AWS's credential paths (CustomerGetFunction, fresh interpreter)",
        "",
        f"Floor (`import psycopg`): {results['floor_p50']:.0f} ms. Secrets Manager is moto's server on this machine; "
        "the extension is the local stand-in, its cache empty at each start.",
        "",
        "| path | to first response p50 ms | p90 | ratio to floor (median of per-round ratios) |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in results["paths"].items():
        lines.append(f"| {name} | {r['p50']:.0f} | {r['p90']:.0f} | {r['over_floor']:.2f} |")
    extension = results["paths"][EXTENSION_PATH]["over_floor"]
    verdict = "met" if extension <= CREDENTIALS_GOAL else "missed"
    lines += ["", f"Goal: the secret path's first response at most {CREDENTIALS_GOAL}x the floor: {verdict}."]
    peer = results["peer"]
    lines += [
        "",
        "### Our first responses beside the peer's (FastAPI + Mangum, the profile route; same rounds)",
        "",
        f"Peer: {peer['p50']:.0f} ms to first response ({peer['over_floor']:.2f}x the floor).",
        "",
        "| function | to first response p50 ms | ratio to floor | ratio to the peer's (median of per-round ratios) |",
        "| --- | --- | --- | --- |",
    ]
    worst = 0.0
    for name, r in results["functions"].items():
        worst = max(worst, r["over_peer"])
        lines.append(f"| {name} | {r['p50']:.0f} | {r['over_floor']:.2f} | {r['over_peer']:.2f} |")
    verdict = "met" if worst <= PEER_GOAL else f"missed (worst {worst:.2f})"
    lines += ["", f"Goal: ours at most {PEER_GOAL}x the peer's first response on every function: {verdict}."]
    return "\n".join(lines)


def main() -> None:
    from localdev.database import start_embedded
    from tools.bench.database import prepare_database, runtime_url

    os.environ.update(LAMBDA_ENV)
    BENCH_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="squelch-bench-") as scratch:
        owner_url = os.environ.get("BENCH_DATABASE_URL") or start_embedded(Path(scratch) / "pg", "bench")
        prepare_database(owner_url)
        results = measure(runtime_url(owner_url), owner_url, bench_layer())
    (BENCH_DIR / "aws_paths.json").write_text(json.dumps(results, indent=2))
    print(report(results))


if __name__ == "__main__":
    main()
