"""`make smoke` (tools/smoke.py): it passes against the local server, leaving the default story as it found
it, and fails, naming the route, when a route misbehaves behind a proxy that alters one kind of answer; it
finds a stack's URL in CloudFormation's outputs (botocore's Stubber; nothing calls AWS)."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.stub import Stubber
from conftest import DictConnection, one

from localdev.auth import issue_token
from tools import smoke

ROUTES = {
    f"{method.upper()} {path}"
    for path, operations in json.loads(smoke.OPENAPI.read_text())["paths"].items()
    for method in operations
}


def run_smoke(base_url: str, token: str | None = None) -> tuple[int, list[str]]:
    lines: list[str] = []
    environ = {"API_URL": base_url, **({"TOKEN": token} if token else {})}
    return smoke.main(environ, write=lines.append), lines


def failed(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


def test_the_smoke_passes_against_the_local_server_and_leaves_the_default_story(
    server: str, story: DictConnection
) -> None:
    # Given the local server on the seeded story and a presenter's token
    default_sandbox = "SELECT * FROM demo_sandboxes WHERE name = 'default'"
    sessions = "SELECT count(*) AS n FROM demo_workflow_state WHERE sandbox = 'default'"
    before = one(story, default_sandbox), one(story, sessions)
    # When the smoke runs
    status, lines = run_smoke(server, issue_token())
    # Then every check passed, one line each with its status and latency, every route named
    assert status == 0, "\n".join(lines)
    assert not failed(lines) and not [line for line in lines if line.startswith("SKIP")]
    checks = [line for line in lines if line.startswith("ok ")]
    assert all(" ms" in line for line in checks if "every documented route" not in line and " as found" not in line)
    assert {route for route in ROUTES if not any(route in line for line in checks)} == set()
    assert lines[-1].endswith("every check passed")
    # And the default story is as it was (no reset, no workflow in it), and the smoke's sandbox is gone
    assert (one(story, default_sandbox), one(story, sessions)) == before
    assert one(story, "SELECT count(*) AS n FROM demo_sandboxes")["n"] == 1


def test_without_a_token_the_presenters_steps_are_skipped_saying_so(server: str) -> None:
    # Given no token
    status, lines = run_smoke(server)
    # Then the smoke passes, each presenter's route skipped on a line that says why, and still refused
    assert status == 0, "\n".join(lines)
    skipped = [line for line in lines if line.startswith("SKIP")]
    assert len(skipped) == 6 and all("no TOKEN" in line for line in skipped)
    assert any(line.startswith("ok") and "POST /api/demo/reset without a token -> 401" in line for line in lines)


def test_without_a_url_or_stack_it_says_what_it_needs() -> None:
    lines: list[str] = []
    assert smoke.main({}, write=lines.append) == 2
    assert "API_URL" in lines[0] and "STACK_NAME" in lines[0]


# ---- the smoke cannot pass vacuously: a proxy in front of the local server breaks one thing at a time
Answered = tuple[int, dict[str, str], bytes]
# (method, path, request headers, status, headers, body) -> a new answer, or None to pass it on
Change = Callable[[str, str, dict[str, str], int, dict[str, str], bytes], Answered | None]


@contextmanager
def proxy(upstream: str, change: Change, forward: Callable[[str, str], bool] = lambda m, p: True) -> Iterator[str]:
    """A server passing every request on to upstream, except that change may replace an answer
    (status, headers, body) and forward may keep a request from reaching it (answered 204)."""
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "accept-encoding")}
            if not forward(self.command, self.path):
                status, answered, content = 204, {}, b""
            else:
                connection = http.client.HTTPConnection(target.netloc, timeout=30)
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                status, answered, content = response.status, dict(response.getheaders()), response.read()
                connection.close()
                changed = change(self.command, self.path, headers, status, answered, content)
                if changed is not None:
                    status, answered, content = changed
            self.send_response(status)
            for name, value in answered.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = handle_one  # noqa: N815

    fake = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{fake.server_address[1]}"
    finally:
        fake.shutdown()
        fake.server_close()


def _json(body: bytes) -> Any:
    return json.loads(body)


def drop_the_profiles_name(
    method: str, path: str, _h: dict[str, str], status: int, headers: dict[str, str], body: bytes
) -> Answered | None:
    if method == "GET" and path == "/api/customers/aco" and status == 200:
        profile = _json(body)
        del profile["name"]
        return status, headers, json.dumps(profile).encode()
    return None


def never_304(
    method: str, path: str, sent: dict[str, str], status: int, headers: dict[str, str], body: bytes
) -> Answered | None:
    if status == 304 and "/tickets" in path:
        return 200, {**headers, "Content-Type": "application/json"}, b'{"tickets": []}'
    return None


def an_error_in_plain_text(
    method: str, path: str, _h: dict[str, str], status: int, headers: dict[str, str], body: bytes
) -> Answered | None:
    if path == "/api/customers/nobody":
        return 404, {**headers, "Content-Type": "text/plain"}, b"Not Found"
    return None


def a_400_for_a_422(
    method: str, path: str, _h: dict[str, str], status: int, headers: dict[str, str], body: bytes
) -> Answered | None:
    if path == "/api/workflows/start" and status == 422:
        return 400, headers, body
    return None


def no_cors_on_errors(
    method: str, path: str, _h: dict[str, str], status: int, headers: dict[str, str], body: bytes
) -> Answered | None:
    if status >= 400:
        return status, {k: v for k, v in headers.items() if k.lower() != "access-control-allow-origin"}, body
    return None


def preflight_without_the_sandbox_header(
    method: str, path: str, _h: dict[str, str], status: int, headers: dict[str, str], body: bytes
) -> Answered | None:
    if method == "OPTIONS":
        allowed = headers.get("access-control-allow-headers", "").replace("X-Demo-Sandbox,", "")
        return status, {**headers, "access-control-allow-headers": allowed}, body
    return None


def every_origin_granted(
    method: str, path: str, sent: dict[str, str], status: int, headers: dict[str, str], body: bytes
) -> Answered | None:
    if method == "OPTIONS":
        return status, {**headers, "access-control-allow-origin": sent.get("Origin", "")}, body
    return None


def a_500_from_the_step(
    method: str, path: str, _h: dict[str, str], status: int, headers: dict[str, str], body: bytes
) -> Answered | None:
    if method == "PUT":
        error = {"error": {"code": "internal_error", "message": "boom", "details": []}}
        return 500, headers, json.dumps(error).encode()
    return None


def a_refusal_as_a_list(
    method: str, path: str, _h: dict[str, str], status: int, headers: dict[str, str], body: bytes
) -> Answered | None:
    if status == 401:
        return status, headers, b"[]"
    return None


def unchanged(*_: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("change", "forward", "failing"),
    [
        pytest.param(drop_the_profiles_name, None, "GET /api/customers/{customer_ref} ", id="shape"),
        pytest.param(never_304, None, "GET /api/customers/{customer_ref}/tickets If-None-Match", id="no-304"),
        pytest.param(an_error_in_plain_text, None, "-> customer_not_found", id="error-not-json"),
        pytest.param(a_400_for_a_422, None, "-> unknown_workflow_type", id="wrong-4xx"),
        pytest.param(no_cors_on_errors, None, "-> session_not_found", id="no-cors-on-errors"),
        pytest.param(
            preflight_without_the_sandbox_header, None, "OPTIONS /api/customers/aco (GET from", id="preflight-header"
        ),
        pytest.param(every_origin_granted, None, "(GET from https://smoke-test.invalid)", id="any-origin"),
        pytest.param(a_500_from_the_step, None, "PUT /api/workflows/{session_id}/step", id="500"),
        pytest.param(a_refusal_as_a_list, None, "GET /api/demo/sandboxes without a token -> 401", id="401-a-list"),
        # A delete answered 204 that deleted nothing: the sandbox is still there afterwards
        pytest.param(
            unchanged,
            lambda method, path: not (method == "DELETE" and re.search(r"/smoke-\d{14}-", path)),
            "once deleted",
            id="delete-not-done",
        ),
    ],
)
def test_a_misbehaving_route_fails_the_smoke_on_its_line(
    server: str, change: Change, forward: Callable[[str, str], bool] | None, failing: str
) -> None:
    # Given the local server behind a proxy that breaks one thing
    with proxy(server, change, forward or (lambda m, p: True)) as broken:
        # When the smoke runs against it
        status, lines = run_smoke(broken, issue_token())
    # Then it exits non-zero, and the line of what broke says FAIL
    assert status == 1, "\n".join(lines)
    assert any(failing in line for line in failed(lines)), "\n".join(lines)
    assert lines[-1].endswith("failed")


def test_a_server_answering_everything_with_an_empty_object_fails_every_route() -> None:
    # Given a fake stack that answers 200 {} to anything
    class Empty(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = answer  # noqa: N815

    fake = ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    try:
        status, lines = run_smoke(f"http://127.0.0.1:{fake.server_address[1]}", "any-token")
    finally:
        fake.shutdown()
        fake.server_close()
    # Then nothing passes but the bookkeeping and the foreign origin's preflight (rightly not granted)
    assert status == 1
    passed = [line for line in lines if line.startswith("ok")]
    assert [line.split()[1:3] for line in passed] == [["OPTIONS", "/api/customers/aco"], ["every", "documented"]]


def test_a_gzip_coded_answer_is_read_decoded(server: str) -> None:
    # Given a large answer the server codes with gzip (the front end's browser sends Accept-Encoding: gzip)
    answer = smoke.request(
        f"{server}/api/customers/aco/tickets", "GET", None, {"Accept-Encoding": "gzip", "Origin": "http://x"}
    )
    # Then the smoke reads it as JSON
    assert answer.headers.get("content-encoding") == "gzip"
    assert "tickets" in answer.json()
    assert gzip.compress(answer.body)  # the decoded bytes, not the coded ones


# ---- STACK_NAME: the URL and origin from CloudFormation
def stubbed_cloudformation(stack: dict[str, Any]) -> tuple[Any, Stubber]:
    client = boto3.client("cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "squelch-act1"})
    return client, stubber


def a_stack(**extra: Any) -> dict[str, Any]:
    return {
        "StackName": "squelch-act1",
        "CreationTime": "2026-12-01T00:00:00Z",
        "StackStatus": "UPDATE_COMPLETE",
        **extra,
    }


def test_a_stack_name_gives_its_api_url_and_first_allowed_origin() -> None:
    client, stubber = stubbed_cloudformation(
        a_stack(
            Outputs=[
                {"OutputKey": "ConsoleUrl", "OutputValue": "https://abc.execute-api.eu-west-1.amazonaws.com/console"},
                {"OutputKey": "ApiUrl", "OutputValue": "https://abc.execute-api.eu-west-1.amazonaws.com"},
            ],
            Parameters=[
                {"ParameterKey": "CorsAllowOrigins", "ParameterValue": "https://demo.example,https://b.example"}
            ],
        )
    )
    with stubber:
        target = smoke.stack_target("squelch-act1", client)
    stubber.assert_no_pending_responses()
    assert target == smoke.Target("https://abc.execute-api.eu-west-1.amazonaws.com", "https://demo.example")


def test_a_stack_without_its_api_url_stops_the_smoke_saying_so() -> None:
    client, stubber = stubbed_cloudformation(a_stack(StackStatus="CREATE_IN_PROGRESS"))
    with stubber, pytest.raises(SystemExit, match=r"no ApiUrl output \(status CREATE_IN_PROGRESS\)"):
        smoke.stack_target("squelch-act1", client)


def test_the_smoke_of_a_stack_name_calls_its_url_from_its_origin(server: str) -> None:
    # Given a stack whose ApiUrl is the local server, allowing the local default origin
    client, stubber = stubbed_cloudformation(
        a_stack(
            Outputs=[{"OutputKey": "ApiUrl", "OutputValue": server}],
            Parameters=[{"ParameterKey": "CorsAllowOrigins", "ParameterValue": "http://localhost:5173"}],
        )
    )
    lines: list[str] = []
    with stubber:
        status = smoke.main({"STACK_NAME": "squelch-act1"}, client=client, write=lines.append)
    assert status == 0, "\n".join(lines)
    assert lines[0] == f"--- smoke of {server} from http://localhost:5173 (no TOKEN)"
