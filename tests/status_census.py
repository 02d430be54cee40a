"""Every status a route answers in the test suite must be one docs/openapi.json declares for it.

A pytest plugin (tests/conftest.py loads it): it records the status of every answer a function gives
through localdev.runtime.invoke, which the tests, the local server and `make invoke` all go through,
and fails the session when a route answered a status its operation does not list. The fuzzer's
answers are held to the same document by schemathesis's status_code_conformance check and by
tools/fuzz.py's census of the server's log.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from localdev import runtime

_observed: Counter[tuple[str, int]] = Counter()


def record(event: Any, result: Any) -> None:
    """Note (route key, status) of an HTTP API answer; other invocations (custom resources, the
    schedule's refresh) have neither."""
    if isinstance(event, dict) and isinstance(result, dict) and "statusCode" in result and event.get("routeKey"):
        _observed[(str(event["routeKey"]), int(result["statusCode"]))] += 1


@pytest.fixture(scope="session", autouse=True)
def _census() -> Any:
    """Wraps the one entry every invocation takes, for the whole session."""
    invoke = runtime.invoke

    def recording_invoke(function: Any, event: dict[str, Any]) -> Any:
        result = invoke(function, event)
        record(event, result)
        return result

    runtime.invoke = recording_invoke
    yield
    runtime.invoke = invoke


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _observed:
        return
    from tools import openapi

    missing = openapi.undeclared(_observed)
    if not missing:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"  {route}: answered {sorted(statuses)}, not in docs/openapi.json" for route, statuses in missing.items()]
    text = "\n".join(["statuses the tests saw that the OpenAPI document does not declare:", *lines])
    if reporter is not None:
        reporter.write_sep("=", "undeclared statuses", red=True)
        reporter.write_line(text)
    else:
        print(text)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
