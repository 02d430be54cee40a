"""`make smoke`: every route of a running stack called the way the front end calls it, one line per call
with its latency, and a non-zero exit on any failure.

Where: `API_URL=https://…` (any base URL: `make run`'s, `sam local`'s, a deployed stack's), or
`STACK_NAME=…`, whose `ApiUrl` output (and `CorsAllowOrigins` parameter) CloudFormation gives.
`TOKEN=…` is a presenter's access token (`make demo-token` locally): with it, a sandbox of the smoke's own
is created, reset, used by a workflow and deleted; without it those calls are skipped, saying so.
`ORIGIN=…` is the front end's origin the preflights name (default: the stack's first allowed origin).

What it checks, besides each answer's status and its shape against docs/openapi.json: a preflight from
an allowed origin (and none granted to another), the allowed origin echoed on answers and errors, every
revalidated GET answered 304 with its own ETag, the error contract (a JSON error shape and the right 4xx),
and that the default story is left as found (every customer route's first ETag still answers 304 at the
end: the tag changes with any write to the story).
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from tools.doc_blocks import ROOT

OPENAPI = ROOT / "docs" / "openapi.json"
CUSTOMER = "aco"
CUSTOMER_ROUTES = ["", "/contacts", "/operations", "/health", "/tickets", "/opportunities"]
# An origin no stack allows: a preflight from it must not be granted.
FOREIGN_ORIGIN = "https://smoke-test.invalid"
TIMEOUT = 30


class Failed(Exception):
    """What a call answered that the front end could not use."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    ms: float

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise Failed(f"the body is not JSON: {self.body[:80]!r}") from None


@dataclass(frozen=True)
class Target:
    api_url: str
    origin: str | None


@dataclass
class Smoke:
    base: str
    origin: str
    token: str | None
    openapi: dict[str, Any]
    write: Callable[[str], None] = print
    failures: int = 0
    called: set[tuple[str, str]] = field(default_factory=set)

    # ---- the calls
    def call(
        self,
        method: str,
        route: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: bool = True,
    ) -> Answer:
        """route is the OpenAPI path (what the line names), path the one called."""
        sent = {"Origin": self.origin, "Accept": "application/json", "Accept-Encoding": "gzip"}
        if body is not None or raw is not None:
            sent["Content-Type"] = "application/json"
        if token and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        sent |= headers or {}
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        if method != "OPTIONS":
            self.called.add((method, route))
        return request(self.base + path, method, data, sent)

    @contextmanager
    def check(self, label: str) -> Iterator[list[Any]]:
        """One printed line per block: ok with the notes it appended, or FAIL (counted) with why it raised.
        The last Answer appended gives the line its status and latency."""
        notes: list[Any] = []
        try:
            yield notes
        except Failed as failure:
            self.failures += 1
            self.line("FAIL", label, _last_answer(notes), str(failure))
        except OSError as error:
            self.failures += 1
            self.line("FAIL", label, _last_answer(notes), f"no answer: {error}")
        except (KeyError, TypeError, ValueError, AttributeError) as error:  # an answer of another shape than thought
            self.failures += 1
            self.line("FAIL", label, _last_answer(notes), f"unreadable answer: {type(error).__name__}: {error}")
        else:
            self.line("ok", label, _last_answer(notes), " ".join(n for n in notes if isinstance(n, str)))

    def line(self, verdict: str, label: str, answer: Answer | None, note: str) -> None:
        status = str(answer.status) if answer else "-"
        ms = f"{answer.ms:7.1f} ms" if answer else " " * 10
        self.write(f"{verdict:4} {label:64} {status:>3} {ms}  {note}".rstrip())

    # ---- what an answer must be
    def expect(self, answer: Answer, method: str, route: str, status: int) -> Any:
        """The answer's JSON (None for a bodiless one), once its status, CORS and shape are the contract's."""
        if answer.status != status:
            raise Failed(f"expected {status}, answered {answer.status}: {answer.body[:200]!r}")
        granted = answer.headers.get("access-control-allow-origin")
        if granted not in (self.origin, "*"):
            raise Failed(f"Access-Control-Allow-Origin is {granted!r}, not the origin {self.origin!r}")
        if status in (204, 304):
            if answer.body:
                raise Failed(f"a {status} has a body: {answer.body[:80]!r}")
            return None
        if not answer.headers.get("content-type", "").startswith("application/json"):
            raise Failed(f"Content-Type is {answer.headers.get('content-type')!r}, not JSON")
        data = answer.json()
        self.conforms(data, method, route, status)
        return data

    def expect_error(self, answer: Answer, method: str, route: str, status: int, code: str) -> None:
        data = self.expect(answer, method, route, status)
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict) or error.get("code") != code:
            raise Failed(f"expected the error {code!r}, answered {data!r}")

    def conforms(self, data: Any, method: str, route: str, status: int) -> None:
        operation = self.openapi["paths"][route][method.lower()]
        declared = operation["responses"].get(str(status))
        if declared is None:
            raise Failed(f"{status} is not a status docs/openapi.json declares for {method} {route}")
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return
        # The response's schema inside the document, so its #/components/... references resolve.
        validator = Draft202012Validator({"components": self.openapi["components"], "allOf": [schema]})
        problems = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        if problems:
            where = "/".join(str(p) for p in problems[0].absolute_path) or "(the body)"
            raise Failed(f"not the documented shape at {where}: {problems[0].message[:160]}")


def _last_answer(notes: list[Any]) -> Answer | None:
    return next((n for n in reversed(notes) if isinstance(n, Answer)), None)


def request(url: str, method: str, data: bytes | None, headers: dict[str, str]) -> Answer:
    """One HTTP request, timed from sending to the last byte; any status is an answer (a gzip body decoded)."""
    sent = urllib.request.Request(url, data=data, method=method, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(sent, timeout=TIMEOUT) as response:
            status, answered, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answered, body = error.code, error.headers, error.read()
    ms = (time.perf_counter() - started) * 1000
    lowered = {k.lower(): v for k, v in answered.items()}
    if lowered.get("content-encoding") == "gzip" and body:
        body = gzip.decompress(body)
    return Answer(status, lowered, body, ms)


# ---- the run: every route, in the order a front end meets them
def run(smoke: Smoke) -> int:
    start_tags = customer_routes(smoke)
    preflights(smoke)
    ai_routes(smoke)
    error_contract(smoke)
    if smoke.token:
        presenter_routes(smoke)
    else:
        for route in (
            "POST /api/demo/reset",
            "GET /api/demo/sandboxes",
            "DELETE /api/demo/sandboxes/{name}",
            "POST /api/demo/preflight",
            "GET /api/demo/stories",
        ):
            smoke.write(f"SKIP {route:64} no TOKEN: give a presenter's access token (locally `make demo-token`)")
        smoke.write(f"SKIP {'workflow start, step and context in a sandbox':64} no TOKEN: no sandbox to write in")
    default_story_unchanged(smoke, start_tags)
    coverage(smoke)
    verdict = f"{smoke.failures} failed" if smoke.failures else "every check passed"
    smoke.write(f"--- {smoke.base}: {verdict}")
    return 1 if smoke.failures else 0


def customer_routes(smoke: Smoke) -> dict[str, str]:
    """Each customer GET of the default story answered with its ETag, then 304 for that tag; the tags, by path."""
    tags: dict[str, str] = {}
    for suffix in CUSTOMER_ROUTES:
        route, path = f"/api/customers/{{customer_ref}}{suffix}", f"/api/customers/{CUSTOMER}{suffix}"
        with smoke.check(f"GET {route}") as notes:
            answer = smoke.call("GET", route, path)
            notes.append(answer)
            smoke.expect(answer, "GET", route, 200)
            if not (tag := answer.headers.get("etag")):
                raise Failed("no ETag")
            tags[path] = tag
        if path in tags:
            with smoke.check(f"GET {route} If-None-Match") as notes:
                revalidated = smoke.call("GET", route, path, headers={"If-None-Match": tags[path]})
                notes.append(revalidated)
                smoke.expect(revalidated, "GET", route, 304)
                if revalidated.headers.get("etag") != tags[path]:
                    raise Failed(f"the 304's ETag {revalidated.headers.get('etag')!r} is not {tags[path]!r}")
    return tags


def preflights(smoke: Smoke) -> None:
    asked = [
        ("GET", "/api/customers/aco", "x-demo-sandbox,if-none-match"),
        ("POST", "/api/demo/reset", "authorization,content-type,x-demo-sandbox"),
        ("PUT", "/api/workflows/wf-smoke/step", "content-type,x-demo-sandbox,x-demo-sandbox-key"),
    ]
    for method, path, headers in asked:
        with smoke.check(f"OPTIONS {path} ({method} from {smoke.origin})") as notes:
            answer = request(
                smoke.base + path,
                "OPTIONS",
                None,
                {
                    "Origin": smoke.origin,
                    "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": headers,
                },
            )
            notes.append(answer)
            if not 200 <= answer.status < 300:
                raise Failed(f"a preflight answered {answer.status}")
            granted = answer.headers.get("access-control-allow-origin")
            if granted not in (smoke.origin, "*"):
                raise Failed(f"Access-Control-Allow-Origin is {granted!r}, not {smoke.origin!r}")
            methods = _listed(answer.headers.get("access-control-allow-methods", ""))
            if method.lower() not in methods and "*" not in methods:
                raise Failed(f"Access-Control-Allow-Methods {sorted(methods)} lacks {method}")
            allowed = _listed(answer.headers.get("access-control-allow-headers", ""))
            if "*" not in allowed and (missing := _listed(headers) - allowed):
                raise Failed(f"Access-Control-Allow-Headers lacks {sorted(missing)}")
    with smoke.check(f"OPTIONS /api/customers/aco (GET from {FOREIGN_ORIGIN})") as notes:
        answer = request(
            smoke.base + "/api/customers/aco",
            "OPTIONS",
            None,
            {"Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "GET"},
        )
        notes.append(answer)
        granted = answer.headers.get("access-control-allow-origin")
        if granted == FOREIGN_ORIGIN:
            raise Failed(f"an origin the stack does not allow was granted: {granted}")
        notes.append("not granted" if granted is None else f"every origin allowed ({granted})")


def _listed(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def ai_routes(smoke: Smoke) -> None:
    bodies = {
        "/api/ai/risk-analysis": {"customer_id": CUSTOMER},
        "/api/ai/opportunity-analysis": {"customer_id": CUSTOMER},
        "/api/ai/email-draft": {"customer_id": CUSTOMER, "recipient": "Marcus Castellan", "purpose": "request a call"},
    }
    for route, body in bodies.items():
        with smoke.check(f"POST {route}") as notes:
            answer = smoke.call("POST", route, route, body=body)
            notes.append(answer)
            data = smoke.expect(answer, "POST", route, 200)
            notes.append(f"provider {data.get('provider')}")


def error_contract(smoke: Smoke) -> None:
    """Bad input answered with the JSON error shape and its 4xx, on routes that write nothing for it."""
    wrong: list[tuple[str, str, str, dict[str, Any], int, str]] = [
        ("GET", "/api/customers/{customer_ref}", "/api/customers/nobody", {}, 404, "customer_not_found"),
        (
            "GET",
            "/api/customers/{customer_ref}",
            "/api/customers/aco",
            {"headers": {"X-Demo-Sandbox": "Not_A_Name"}},
            400,
            "invalid_sandbox",
        ),
        (
            "GET",
            "/api/customers/{customer_ref}/contacts",
            "/api/customers/aco/contacts",
            {"headers": {"X-Demo-Sandbox": f"smoke-absent-{secrets.token_hex(4)}"}},
            404,
            "sandbox_not_found",
        ),
        ("POST", "/api/workflows/start", "/api/workflows/start", {"raw": b'{"customer_id": '}, 400, "malformed_json"),
        (
            "POST",
            "/api/workflows/start",
            "/api/workflows/start",
            {"body": {"customer_id": CUSTOMER, "workflow_type": "no_such_workflow"}},
            422,
            "unknown_workflow_type",
        ),
        (
            "PUT",
            "/api/workflows/{session_id}/step",
            "/api/workflows/wf-smoke-unknown/step",
            {"body": {"step": 1, "data": {}}},
            404,
            "session_not_found",
        ),
        (
            "GET",
            "/api/workflows/{session_id}/context",
            "/api/workflows/wf-smoke-unknown/context",
            {},
            404,
            "session_not_found",
        ),
        ("POST", "/api/ai/risk-analysis", "/api/ai/risk-analysis", {"body": {}}, 422, "invalid_request"),
        ("POST", "/api/demo/reset", "/api/demo/reset", {"body": {"confirm": False}}, 400, "confirmation_required"),
    ]
    if not smoke.token:
        wrong = [w for w in wrong if w[1] != "/api/demo/reset"]
    for method, route, path, kwargs, status, code in wrong:
        with smoke.check(f"{method} {route} -> {code}") as notes:
            answer = smoke.call(method, route, path, **kwargs)
            notes.append(answer)
            smoke.expect_error(answer, method, route, status, code)
    # Without a token the presenters' routes are refused: by API Gateway's authorizer in AWS (its own
    # {"message": "Unauthorized"}), by the function's check locally (the error shape).
    for method, route, path in [
        ("POST", "/api/demo/reset", "/api/demo/reset"),
        ("GET", "/api/demo/sandboxes", "/api/demo/sandboxes"),
        ("DELETE", "/api/demo/sandboxes/{name}", "/api/demo/sandboxes/smoke-nothing"),
        ("POST", "/api/demo/preflight", "/api/demo/preflight"),
        ("GET", "/api/demo/stories", "/api/demo/stories"),
    ]:
        with smoke.check(f"{method} {route} without a token -> 401") as notes:
            body = {"confirm": True} if route == "/api/demo/reset" else None
            answer = smoke.call(method, route, path, body=body, token=False)
            notes.append(answer)
            if answer.status != 401:
                raise Failed(f"expected 401, answered {answer.status}: {answer.body[:200]!r}")
            data = answer.json()
            if data != {"message": "Unauthorized"}:
                smoke.expect_error(answer, method, route, 401, data.get("error", {}).get("code", "?"))
            notes.append("API Gateway's authorizer" if "message" in data else data["error"]["code"])


def presenter_routes(smoke: Smoke) -> None:
    """A sandbox of the smoke's own: created, used by a workflow, reset, deleted; the default one untouched."""
    sandbox = f"smoke-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"
    in_sandbox = {"X-Demo-Sandbox": sandbox}
    default_before = listed_default(smoke, "GET /api/demo/sandboxes (before)")
    stories(smoke)
    created = False
    try:
        with smoke.check(f"POST /api/demo/reset [{sandbox}] creates") as notes:
            answer = smoke.call(
                "POST", "/api/demo/reset", "/api/demo/reset", body={"confirm": True}, headers=in_sandbox
            )
            notes.append(answer)
            data = smoke.expect(answer, "POST", "/api/demo/reset", 200)
            created = True
            if data["sandbox"] != sandbox or data["created"] is not True:
                raise Failed(f"not a new sandbox {sandbox}: {data}")
        if not created:
            return
        session = workflow(smoke, in_sandbox)
        with smoke.check(f"POST /api/demo/reset [{sandbox}] act1-mid-planning") as notes:
            answer = smoke.call(
                "POST",
                "/api/demo/reset",
                "/api/demo/reset",
                body={"confirm": True, "checkpoint": "act1-mid-planning"},
                headers=in_sandbox,
            )
            notes.append(answer)
            data = smoke.expect(answer, "POST", "/api/demo/reset", 200)
            if data["created"] is not False or data["checkpoint"] != "act1-mid-planning":
                raise Failed(f"not a reset of the existing sandbox: {data}")
        if session:
            with smoke.check(f"GET /api/workflows/{{session_id}}/context [{sandbox}] after the reset") as notes:
                path = f"/api/workflows/{session}/context"
                answer = smoke.call("GET", "/api/workflows/{session_id}/context", path, headers=in_sandbox)
                notes.append(answer)
                smoke.expect_error(answer, "GET", "/api/workflows/{session_id}/context", 404, "session_not_found")
                notes.append("the reset removed the session")
        with smoke.check(f"GET /api/customers/{{customer_ref}} [{sandbox}]") as notes:
            answer = smoke.call(
                "GET", "/api/customers/{customer_ref}", f"/api/customers/{CUSTOMER}", headers=in_sandbox
            )
            notes.append(answer)
            data = smoke.expect(answer, "GET", "/api/customers/{customer_ref}", 200)
            notes.append(f"{data['name']}, story of {data['story_anchor_date']}")
        readiness(smoke, in_sandbox)
        with smoke.check("DELETE /api/demo/sandboxes/{name} default -> default_sandbox") as notes:
            answer = smoke.call("DELETE", "/api/demo/sandboxes/{name}", "/api/demo/sandboxes/default")
            notes.append(answer)
            smoke.expect_error(answer, "DELETE", "/api/demo/sandboxes/{name}", 409, "default_sandbox")
        with smoke.check(f"DELETE /api/demo/sandboxes/{{name}} [{sandbox}]") as notes:
            answer = smoke.call("DELETE", "/api/demo/sandboxes/{name}", f"/api/demo/sandboxes/{sandbox}")
            notes.append(answer)
            smoke.expect(answer, "DELETE", "/api/demo/sandboxes/{name}", 204)
            created = False
        with smoke.check(f"GET /api/customers/{{customer_ref}} [{sandbox}] once deleted") as notes:
            answer = smoke.call(
                "GET", "/api/customers/{customer_ref}", f"/api/customers/{CUSTOMER}", headers=in_sandbox
            )
            notes.append(answer)
            smoke.expect_error(answer, "GET", "/api/customers/{customer_ref}", 404, "sandbox_not_found")
        default_after = listed_default(smoke, "GET /api/demo/sandboxes (after)", gone=sandbox)
        with smoke.check("the default sandbox as found") as notes:
            if default_before and default_after and default_before != default_after:
                raise Failed(f"it changed: {default_before} -> {default_after}")
            notes.append("checkpoint, demo day and last activity unchanged")
    finally:
        if created:  # a check failed half-way: leave no sandbox behind
            smoke.call("DELETE", "/api/demo/sandboxes/{name}", f"/api/demo/sandboxes/{sandbox}")


def stories(smoke: Smoke) -> None:
    """The stories a presenter may create a sandbox from: the default first, each with its checkpoints, and the
    default one has the checkpoint the smoke resets its sandbox to."""
    with smoke.check("GET /api/demo/stories") as notes:
        answer = smoke.call("GET", "/api/demo/stories", "/api/demo/stories")
        notes.append(answer)
        data = smoke.expect(answer, "GET", "/api/demo/stories", 200)
        told = data["stories"]
        if not told or not told[0]["default"] or any(not story["checkpoints"] for story in told):
            raise Failed(f"not the default story first, each with its checkpoints: {told}")
        if "act1-mid-planning" not in {checkpoint["name"] for checkpoint in told[0]["checkpoints"]}:
            raise Failed(f"the default story has no act1-mid-planning: {told[0]['checkpoints']}")
        notes.append(", ".join(story["name"] for story in told))


def readiness(smoke: Smoke, in_sandbox: dict[str, str]) -> None:
    """The presenters' Get ready on the smoke's sandbox: after a deploy, every route function must answer
    its warm-up with its database reached, and the fresh sandbox's story is today's."""
    with smoke.check(f"POST /api/demo/preflight [{in_sandbox['X-Demo-Sandbox']}]") as notes:
        answer = smoke.call("POST", "/api/demo/preflight", "/api/demo/preflight", headers=in_sandbox)
        notes.append(answer)
        data = smoke.expect(answer, "POST", "/api/demo/preflight", 200)
        if data["verdict"] != "ready":
            failed = [f"{f['function']}: {f['problem']}" for f in data["functions"] if f["state"] != "warm"]
            raise Failed(f"not ready: {data['actions']} {failed}")
        notes.append(f"ready, {len(data['functions'])} functions warm in {data['duration_ms']:.0f} ms")


def workflow(smoke: Smoke, in_sandbox: dict[str, str]) -> str | None:
    """A planning workflow in the sandbox, as the front end runs one: started, a step saved, its context read
    and revalidated. Its session id, once started."""
    session: str | None = None
    with smoke.check("POST /api/workflows/start") as notes:
        answer = smoke.call(
            "POST",
            "/api/workflows/start",
            "/api/workflows/start",
            body={"customer_id": CUSTOMER, "workflow_type": "strategic_planning"},
            headers=in_sandbox,
        )
        notes.append(answer)
        data = smoke.expect(answer, "POST", "/api/workflows/start", 201)
        session = data["session_id"]
        notes.append(f"{data['workflow_type']}, step {data['next_step']} of {data['total_steps']}")
    if session is None:
        return None
    route = "/api/workflows/{session_id}/step"
    with smoke.check(f"PUT {route}") as notes:
        answer = smoke.call(
            "PUT",
            route,
            f"/api/workflows/{session}/step",
            body={"step": 1, "data": {"smoke": True}},
            headers=in_sandbox,
        )
        notes.append(answer)
        data = smoke.expect(answer, "PUT", route, 200)
        if data.get("next_step") != 2:
            raise Failed(f"the step was not saved: {data}")
    route = "/api/workflows/{session_id}/context"
    path = f"/api/workflows/{session}/context"
    tag = None
    with smoke.check(f"GET {route}") as notes:
        answer = smoke.call("GET", route, path, headers=in_sandbox)
        notes.append(answer)
        data = smoke.expect(answer, "GET", route, 200)
        if data.get("data", {}).get("step_1") != {"smoke": True}:
            raise Failed(f"the saved step is not in the context: {data.get('data')}")
        tag = answer.headers.get("etag")
        if not tag:
            raise Failed("no ETag")
    if tag:
        with smoke.check(f"GET {route} If-None-Match") as notes:
            answer = smoke.call("GET", route, path, headers={**in_sandbox, "If-None-Match": tag})
            notes.append(answer)
            smoke.expect(answer, "GET", route, 304)
    return session


def listed_default(smoke: Smoke, label: str, gone: str | None = None) -> dict[str, Any] | None:
    """The default sandbox as the listing shows it, less what changes with the clock."""
    with smoke.check(label) as notes:
        answer = smoke.call("GET", "/api/demo/sandboxes", "/api/demo/sandboxes")
        notes.append(answer)
        data = smoke.expect(answer, "GET", "/api/demo/sandboxes", 200)
        by_name = {s["name"]: s for s in data["sandboxes"]}
        if "default" not in by_name:
            raise Failed("the listing has no default sandbox")
        if gone and gone in by_name:
            raise Failed(f"the deleted sandbox {gone} is still listed")
        notes.append(f"{len(by_name)} sandboxes")
        default = by_name["default"]
        return {k: default[k] for k in ("checkpoint", "anchor_date", "last_activity_at", "owner", "private")}
    return None


def default_story_unchanged(smoke: Smoke, tags: dict[str, str]) -> None:
    """Each customer route's first ETag still current: nothing wrote to the default story meanwhile
    (a presenter's reset or workflow elsewhere would show here too)."""
    with smoke.check("the default story as found (first ETags still 304)") as notes:
        if len(tags) < len(CUSTOMER_ROUTES):
            raise Failed("no ETag of every customer route to compare with: see their lines above")
        for path, tag in tags.items():
            route = "/api/customers/{customer_ref}" + path.removeprefix(f"/api/customers/{CUSTOMER}")
            answer = smoke.call("GET", route, path, headers={"If-None-Match": tag})
            notes.append(answer)
            if answer.status != 304:
                raise Failed(f"{path} answered {answer.status}: the default story changed during the smoke")
        notes.append(f"{len(tags)} routes")


def coverage(smoke: Smoke) -> None:
    """Every route of docs/openapi.json was called: a new route fails the smoke until it has a step."""
    documented = {(m.upper(), p) for p, ops in smoke.openapi["paths"].items() for m in ops}
    with smoke.check("every documented route called") as notes:
        if missing := documented - smoke.called:
            raise Failed(f"not called: {sorted(f'{m} {p}' for m, p in missing)}")
        notes.append(f"{len(documented)} routes")


# ---- where the stack is
def stack_target(stack_name: str, client: Any = None) -> Target:
    """The stack's ApiUrl output and first allowed origin, from CloudFormation (boto3 imported only here)."""
    if client is None:
        import boto3

        client = boto3.client("cloudformation")
    stack = client.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if "ApiUrl" not in outputs:
        raise SystemExit(f"stack {stack_name} has no ApiUrl output (status {stack.get('StackStatus')})")
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    origins = [o.strip() for o in parameters.get("CorsAllowOrigins", "").split(",") if o.strip()]
    return Target(outputs["ApiUrl"], origins[0] if origins else None)


def default_origin() -> str:
    from localdev.template import cors_configuration

    return next(iter(cors_configuration().origins))


def main(environ: dict[str, str] | None = None, client: Any = None, write: Callable[[str], None] = print) -> int:
    env = dict(os.environ if environ is None else environ)
    if env.get("API_URL"):
        target = Target(env["API_URL"], None)
    elif env.get("STACK_NAME"):
        target = stack_target(env["STACK_NAME"], client)
    else:
        write("make smoke needs API_URL=<base URL> or STACK_NAME=<stack> (and TOKEN=<presenter's token>)")
        return 2
    origin = env.get("ORIGIN") or target.origin or default_origin()
    if origin == "*":
        origin = FOREIGN_ORIGIN.replace("smoke-test", "front-end")
    smoke = Smoke(
        base=target.api_url.rstrip("/"),
        origin=origin,
        token=env.get("TOKEN") or None,
        openapi=json.loads(OPENAPI.read_text()),
        write=write,
    )
    write(f"--- smoke of {smoke.base} from {origin}{'' if smoke.token else ' (no TOKEN)'}")
    return run(smoke)


if __name__ == "__main__":
    sys.exit(main())
