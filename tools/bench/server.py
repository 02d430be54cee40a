"""Through the local server: `python -m localdev serve` in its own process, one keep-alive client per
route for latency, then many clients at once for throughput."""

from __future__ import annotations

import http.client
import statistics
import threading
import time

import psycopg

from localdev import template
from localdev.auth import issue_token
from tools.bench.common import LOAD_CLIENTS, LOAD_SECONDS, SERVER_RUNS, event_for, percentile, timed
from tools.bench.database import setup_for


def http_call(
    conn: http.client.HTTPConnection, method: str, path: str, body: str | None, headers: dict[str, str]
) -> int:
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def measure_server(port: int, functions: list[template.Function], url: str) -> dict[str, dict[str, float]]:
    """Every route but the reset; the demo group's routes with a token the local server accepts, the
    delete with its sandbox made again (untimed) before each call."""
    results = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    setup_conn = psycopg.connect(url, autocommit=True)
    for function in functions:
        event = event_for(function)
        if event is None or not function.routes or function.logical_id == "DemoResetFunction":
            continue
        method, path = event["requestContext"]["http"]["method"], event["rawPath"]
        headers = {"content-type": "application/json"}
        if any(route.authorizer for route in function.routes):
            headers["authorization"] = f"Bearer {issue_token()}"

        def call(
            method: str = method,
            path: str = path,
            body: str | None = event.get("body"),
            headers: dict[str, str] = headers,
        ) -> None:
            status = http_call(conn, method, path, body, headers)
            if status >= 300:
                raise RuntimeError(f"{method} {path} answered {status}")

        samples = timed(call, SERVER_RUNS, setup_for(function, setup_conn))
        results[function.logical_id] = {"p50": statistics.median(samples), "p99": percentile(samples, 0.99)}
    conn.close()
    setup_conn.close()
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
