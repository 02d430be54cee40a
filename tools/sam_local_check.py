"""`make sam-local-check`: docs/LOCAL.md's `sam local` commands, read from the document and run as written
against the real SAM CLI and Docker. Every route is called through them and through `make run` (the same
requests, in the same order, on the same embedded database) and the answers compared; the console's local
sign-in is walked through (in chromium too, when it is installed); the documented `sam local invoke` lines
run and are compared with `make invoke`; SAM CLI's differences from API Gateway that LOCAL.md states are
observed; each function's cold start under Docker is measured. Get ready: LOCAL.md's `sam local
start-lambda` runs beside start-api, and the preflight's report through sam local (every route function
warmed through it, cold then warm) is compared with make run's. One line per check; exit status 1 if any
failed.

- Ports: the document's (sam local 3001, start-lambda 3003; `make sam-db` 5433 and 3002), unless
  SAM_LOCAL_PORT, SAM_LAMBDA_PORT, SAM_DB_PORT or SAM_SIGN_IN_PORT name others: then only those numbers
  change in the commands (SAM_LAMBDA_PORT, SAM_DB_PORT and SAM_SIGN_IN_PORT are the Makefile's own variables:
  `make sam-db` writes the start-lambda URL the preflight's container calls). `make run` gets a free port,
  or SAM_RUN_PORT's.
- The Lambda image: SAM CLI pulls AWS's, unless the one on this machine has no registry digest (a local
  stand-in built under AWS's name where the registry cannot be reached): then SAM_SKIP_PULL_IMAGE=1, SAM
  CLI's own switch for --skip-pull-image.
- `make sam-db`'s and `sam local start-lambda`'s Linux lines (SAM_DB_HOST=..., --host ...) when this machine
  has a docker0 bridge, the others otherwise.
- LOCAL.md's commands reset the default story (its curl line does); the routes are called in a sandbox of
  their own, deleted at the end. Logs: .data/sam-local-check/.

The top level imports the standard library only: tests/deploy/test_sam_local.py (SAM CLI's environment,
without the layer) reads the documented commands with it too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from tools import doc_blocks

ROOT = Path(__file__).resolve().parent.parent
LOCAL_MD = ROOT / "docs" / "LOCAL.md"
SAM = ".venv-deploy/bin/sam"
LOGS = ROOT / ".data" / "sam-local-check"


# ---- LOCAL.md's commands


def documented_commands(text: str | None = None) -> list[str]:
    """Every command of LOCAL.md's blocks that say this check runs them, in order, as a shell reads it
    (its other blocks the test suite runs, tests/test_doc_commands.py)."""
    return [
        command
        for block in doc_blocks.blocks(LOCAL_MD, text)
        if block.mark and "make sam-local-check" in block.mark
        for command in block.commands()
    ]


def words(command: str) -> list[str]:
    return shlex.split(command, comments=True)


def sam_local_arguments(subcommand: str, text: str | None = None) -> list[list[str]]:
    """The arguments after `sam` of each documented `sam local <subcommand>` line (its comment left out)."""
    return [
        words(command)[1:] for command in documented_commands(text) if words(command)[:3] == [SAM, "local", subcommand]
    ]


# ---- what a run prints


@dataclass
class Report:
    failed: list[str] = field(default_factory=list)

    def line(self, passed: bool, label: str, detail: str = "") -> bool:
        print(f"  {'ok  ' if passed else 'FAIL'} {label:<44} {detail}", flush=True)
        if not passed:
            self.failed.append(label)
        return passed

    @staticmethod
    def section(title: str) -> None:
        print(f"--- {title}", flush=True)


# ---- processes: LOCAL.md's servers, and `make run`


@dataclass
class Served:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 12) -> str:
        return "\n".join("      | " + line for line in self.output().splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to its process group, as a process manager would: each of ours cleans up on it (sam
        local removes its containers, `make sam-db` and `make run` leave the embedded PostgreSQL)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def forget_dead_build_locks() -> list[Path]:
    """SAM CLI's image-build locks (in the temporary directory, shared by every sam local on this machine)
    whose process is gone: a sam local stopped while it built an image leaves one, and every other then
    waits for it for five minutes. A lock of a process still running is left alone."""
    import tempfile

    removed = []
    for lock in Path(tempfile.gettempdir()).glob("samcli_*.building.lock"):
        try:
            pid = int(lock.read_text().split()[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            lock.unlink(missing_ok=True)
            lock.with_suffix(".status").unlink(missing_ok=True)
            removed.append(lock)
        except (OSError, ValueError, IndexError):
            continue
    return removed


def start(name: str, command: str, env: dict[str, str]) -> Served:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Served(name, process, log)


def wait_until(served: Served, ready: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return True
        if served.process.poll() is not None:
            return False
        time.sleep(0.3)
    return False


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(command: str, env: dict[str, str], seconds: float = 600) -> tuple[int, str, str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds, check=False
    )
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - started


# ---- HTTP


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def call(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    sent = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    started = time.perf_counter()
    try:
        with urllib.request.build_opener(_NoRedirects).open(sent, timeout=120) as answer:
            status, got, content = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, got, content = error.code, error.headers, error.read()
    except (TimeoutError, urllib.error.URLError) as error:  # no answer: status 0, a line that fails, not a crash
        status, got, content = 0, {}, f"no answer: {error}".encode()
    return Answer(status, {k.lower(): v for k, v in got.items()}, content, time.perf_counter() - started)


# ---- the routes, called in the same order on each server

SANDBOX = "sam-local-check"
FRONT_END = "http://localhost:5173"  # an origin the template's CORS allows (CorsAllowOrigins' default)


@dataclass(frozen=True)
class Step:
    route: str  # as template.yaml names it
    path: str  # {session_id}: the one the workflow start answered
    body: dict[str, Any] | None = None
    presenter: bool = False  # sends `make demo-token`'s token

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]


STEPS = [
    Step("POST /api/demo/reset", "/api/demo/reset", {"confirm": True, "checkpoint": "act1-start"}, presenter=True),
    Step("GET /api/demo/sandboxes", "/api/demo/sandboxes", presenter=True),
    Step("GET /api/demo/stories", "/api/demo/stories", presenter=True),
    Step("GET /api/customers/{customer_ref}", "/api/customers/aco"),
    Step("GET /api/customers/{customer_ref}/contacts", "/api/customers/aco/contacts"),
    Step("GET /api/customers/{customer_ref}/operations", "/api/customers/aco/operations"),
    Step("GET /api/customers/{customer_ref}/health", "/api/customers/aco/health"),
    Step("GET /api/customers/{customer_ref}/tickets", "/api/customers/aco/tickets"),
    Step("GET /api/customers/{customer_ref}/opportunities", "/api/customers/aco/opportunities"),
    Step(
        "POST /api/workflows/start",
        "/api/workflows/start",
        {"customer_id": "aco", "workflow_type": "strategic_planning"},
    ),
    Step(
        "PUT /api/workflows/{session_id}/step",
        "/api/workflows/{session_id}/step",
        {"step": 1, "data": {"reviewed": ["health", "tickets"], "note": "sam-local-check"}},
    ),
    Step("GET /api/workflows/{session_id}/context", "/api/workflows/{session_id}/context"),
    Step("POST /api/ai/risk-analysis", "/api/ai/risk-analysis", {"customer_id": "aco"}),
    Step("POST /api/ai/opportunity-analysis", "/api/ai/opportunity-analysis", {"customer_id": "aco"}),
    Step(
        "POST /api/ai/email-draft",
        "/api/ai/email-draft",
        {"customer_id": "aco", "recipient": "Marcus Castellan", "purpose": "acknowledge concerns and request call"},
    ),
    Step("DELETE /api/demo/sandboxes/{name}", f"/api/demo/sandboxes/{SANDBOX}", presenter=True),
    Step("GET /console", "/console"),
]


def call_every_route(base: str, token: str) -> dict[str, list[Answer]]:
    """Each step twice in a row (the first reaches a new container under sam local, the second a warm one)."""
    answers: dict[str, list[Answer]] = {}
    session = ""
    for step in STEPS:
        headers = {"X-Demo-Sandbox": SANDBOX, "Origin": FRONT_END}
        if step.presenter:
            headers["Authorization"] = f"Bearer {token}"
        body = None
        if step.body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(step.body).encode()
        url = base + step.path.replace("{session_id}", session)
        answers[step.route] = [call(url, step.method, body, headers) for _ in range(2)]
        if step.route == "POST /api/workflows/start":
            session = str((answers[step.route][0].json() or {}).get("session_id", "none"))
    return answers


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# What differs between two runs of the same requests: how long a reset took, the reset log's counter, the
# workflow session's generated id.
_PER_RUN = {"duration_ms", "reset_id", "session_id"}


def normalised(value: Any, key: str = "") -> Any:
    """An answer with what legitimately differs between two runs masked: times of day, generated ids."""
    if isinstance(value, dict):
        return {k: normalised(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v, key) for v in value]
    if key in _PER_RUN:
        return f"<{key}>"
    if isinstance(value, str) and (_TIMESTAMP.match(value) or _UUID.match(value)):
        return "<generated>"
    return value


def first_difference(left: Any, right: Any, path: str = "$") -> str:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            if left.get(key, "<absent>") != right.get(key, "<absent>"):
                return first_difference(left.get(key, "<absent>"), right.get(key, "<absent>"), f"{path}.{key}")
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            if a != b:
                return first_difference(a, b, f"{path}[{index}]")
    return f"{path}: sam local {json.dumps(left)[:80]} / make run {json.dumps(right)[:80]}"


_SIGN_IN_ORIGIN = re.compile(r"http://127\.0\.0\.1:\d+(?=/local-sign-in/)")


def console_parts(answer: Answer, sign_in: str) -> tuple[str, dict[str, str]]:
    """The page and its security headers, the sign-in's origin taken out: make run's sign-in is its own
    (relative paths), sam local's is `make sam-db`'s (absolute URLs, named in connect-src)."""
    page = _SIGN_IN_ORIGIN.sub("", answer.body.decode())
    names = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")
    headers = {name: answer.headers.get(name, "").replace(f" {sign_in}", "") for name in names}
    return page, headers


def same_answer(sam: Answer, reference: Answer, sign_in: str) -> tuple[bool, str]:
    if sam.status != reference.status:
        return False, f"status {sam.status}, make run {reference.status}: {sam.body[:120]!r}"
    if sam.status == 204:  # no content (SAM CLI still names a type for it)
        return (not sam.body and not reference.body), "no content"
    if sam.headers.get("content-type") != reference.headers.get("content-type"):
        return (
            False,
            f"content-type {sam.headers.get('content-type')}, make run {reference.headers.get('content-type')}",
        )
    if reference.headers.get("content-type", "").startswith("text/html"):
        if console_parts(sam, sign_in) != console_parts(reference, sign_in):
            return False, "the page or its headers differ beyond the sign-in's origin"
        return True, "same page"
    if not reference.body:
        return (not sam.body), "both empty" if not sam.body else f"sam local has a body: {sam.body[:80]!r}"
    ours, theirs = normalised(sam.json()), normalised(reference.json())
    if ours is None or ours != theirs:
        return False, first_difference(ours, theirs)
    return True, "same answer"


# ---- the console's local sign-in, as the page and the browser do it


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.data |= {name: value or "" for name, value in attrs if name.startswith("data-")}


def sign_in_round_trip(base: str) -> tuple[bool, str, str]:
    """The console's page, its sign-in at the URL it names (PKCE), the token exchange from the console's
    origin; (passed, what happened, the token)."""
    page = call(f"{base}/console")
    found = _Attributes()
    found.feed(page.body.decode())
    console = f"{base}/console"
    authorize, token_url = (urljoin(console, found.data.get(f"data-{n}", "")) for n in ("authorize-url", "token-url"))
    client = found.data.get("data-client-id", "")
    token_origin, console_origin = ("{0.scheme}://{0.netloc}".format(urlsplit(url)) for url in (token_url, console))
    if token_origin != console_origin and token_origin not in page.headers.get("content-security-policy", ""):
        return False, f"the page's connect-src does not name {token_origin}", ""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    request = {
        "response_type": "code",
        "client_id": client,
        "redirect_uri": console,
        "scope": "openid",
        "state": "check",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    shown = call(f"{authorize}?{urlencode(request)}")
    if shown.status != 200:
        return False, f"the sign-in page answered {shown.status}", ""
    approval = urlencode(request | {"username": "check@squelch.local", "lifetime": "3600", "demo_group": "yes"})
    approved = call(authorize, "POST", (approval + "&decision=allow").encode())
    location = urlsplit(approved.headers.get("location", ""))
    if approved.status != 303 or location._replace(query="").geturl() != console:
        return False, f"approving answered {approved.status} to {approved.headers.get('location')}", ""
    code = parse_qs(location.query)["code"][0]
    exchange = {"grant_type": "authorization_code", "client_id": client, "code": code, "redirect_uri": console}
    tokens = call(
        token_url,
        "POST",
        urlencode(exchange | {"code_verifier": verifier}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": console_origin},
    )
    readable = tokens.headers.get("access-control-allow-origin") in (console_origin, "*")
    token = str((tokens.json() or {}).get("access_token", ""))
    if tokens.status != 200 or not token or (token_origin != console_origin and not readable):
        return False, f"the token endpoint answered {tokens.status}, CORS {readable}", ""
    listed = call(f"{base}/api/demo/sandboxes", headers={"Authorization": f"Bearer {token}"})
    if listed.status != 200:
        return False, f"the API answered the signed-in presenter {listed.status}", ""
    cors = f" (CORS for {console_origin})" if token_origin != console_origin else ""
    return True, f"{authorize} -> code -> token{cors} -> API 200", token


def sign_in_in_chromium(base: str) -> tuple[bool | None, str]:
    """The console in Debian's chromium (Playwright, as tests/test_console.py drives it): sign in, see the
    sandboxes. None when there is no chromium here."""
    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
    if chromium is None:
        return None, "no chromium on this machine"
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.goto(f"{base}/console")
            page.click("#sign-in")
            page.wait_for_url(re.compile(r"/local-sign-in/authorize\?"))
            page.click("button[value=allow]")
            page.wait_for_selector('tr[data-sandbox="default"]', timeout=60000)
            user = page.inner_text("#username")
        except Exception as error:
            return False, f"{type(error).__name__}: {str(error).splitlines()[0]}"
        finally:
            browser.close()
    if problems:
        return False, f"the browser reported: {problems[0]}"
    return True, f"signed in as {user}, the sandboxes listed"


# ---- what SAM CLI does that API Gateway does not (LOCAL.md's list), as observed


def gateway_differences(sam: str, reference: str) -> Iterator[tuple[bool, str, str]]:
    cors = {"Origin": FRONT_END}
    unknown, unknown_run = call(f"{sam}/api/nothing", headers=cors), call(f"{reference}/api/nothing", headers=cors)
    yield (
        unknown.status == 403
        and unknown.json() == {"message": "Missing Authentication Token"}
        and "access-control-allow-origin" not in unknown.headers,
        "unknown route",
        f"sam local {unknown.status} {unknown.body.decode().strip()}, no CORS header; make run {unknown_run.status}",
    )
    method = call(f"{sam}/api/customers/aco", "DELETE", headers=cors)
    method_run = call(f"{reference}/api/customers/aco", "DELETE", headers=cors)
    yield (
        method.status == 403 and method.json() == {"message": "Missing Authentication Token"},
        "a route's wrong method",
        f"sam local {method.status}; make run {method_run.status}",
    )
    ask = cors | {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    preflight = call(f"{sam}/api/demo/reset", "OPTIONS", headers=ask)
    preflight_run = call(f"{reference}/api/demo/reset", "OPTIONS", headers=ask)
    yield (
        preflight.status == 200 and preflight.headers.get("access-control-allow-origin") == FRONT_END,
        "preflight",
        f"sam local {preflight.status} (allowed); make run {preflight_run.status}",
    )
    answer, answer_run = (
        call(f"{sam}/api/customers/aco", headers=cors),
        call(f"{reference}/api/customers/aco", headers=cors),
    )
    exposed = answer_run.headers.get("access-control-expose-headers", "")
    yield (
        answer.status == 200 and "access-control-expose-headers" not in answer.headers and bool(exposed),
        "Access-Control-Expose-Headers",
        f"sam local none; make run {exposed}",
    )
    refused = call(f"{sam}/api/demo/reset", "POST", b'{"confirm": true}', {"Content-Type": "application/json"})
    refused_run = call(
        f"{reference}/api/demo/reset", "POST", b'{"confirm": true}', {"Content-Type": "application/json"}
    )
    yield (
        refused.status == refused_run.status == 401 and refused.json() == refused_run.json(),
        "reset without a token",
        f"both {refused.status} {(refused.json() or {}).get('error', {}).get('code')} (the function's own check)",
    )


# ---- Get ready: the preflight, whose warm-ups reach `sam local start-lambda`

PREFLIGHT = "/api/demo/preflight"
ENV_FILE = ROOT / ".data" / "sam-local-env.json"


def call_preflight(base: str, token: str) -> Answer:
    """Get ready as the console asks for it: the default sandbox, no body."""
    return call(f"{base}{PREFLIGHT}", "POST", None, {"Authorization": f"Bearer {token}", "Origin": FRONT_END})


def preflight_shape(report: Any) -> Any:
    """What two servers' readiness reports must share: every key, the verdict and actions, each function's
    state, problem and its instances' keys and database, the checks; not timings, nor who started cold
    (make run's functions are loaded already)."""
    if not isinstance(report, dict):
        return report
    functions = {
        f.get("function"): {
            "keys": sorted(f),
            "state": f.get("state"),
            "problem": f.get("problem"),
            "instances": [{"keys": sorted(i), "database": i.get("database")} for i in f.get("instances", [])],
        }
        for f in report.get("functions", [])
    }
    database = report.get("database") or {}
    return {
        "keys": sorted(report),
        "verdict": report.get("verdict"),
        "actions": report.get("actions"),
        "instances_per_function": report.get("instances_per_function"),
        "functions": functions,
        "database": {"keys": sorted(database), "state": database.get("state")},
        "sandbox": report.get("sandbox"),
        "ai": report.get("ai"),
    }


def warm_functions_named(path: Path = ENV_FILE) -> list[str]:
    """The functions the env-vars file tells the preflight's container to warm (WARM_FUNCTIONS' names)."""
    named = json.loads(path.read_text()).get("DemoPreflightFunction", {}).get("WARM_FUNCTIONS", "")
    return [item.split("=")[0].strip() for item in named.split(",") if item.strip()]


TIMED_OUT = "warm_up_timed_out"  # squelch.domain.readiness's: a warm-up still starting when the time was up
PRESSES = 10  # Get ready pressed again while functions are still starting, as a presenter would, at most


def functions_of(answer: Answer) -> dict[str, dict[str, Any]]:
    return {f["function"]: f for f in (answer.json() or {}).get("functions", [])}


def warmed(answer: Answer, named: list[str], *, starting: bool = False, cold: bool | None = None) -> tuple[bool, str]:
    """Every function named answered warm (or, with starting, was still starting: its container being
    created); with cold, each warm one cold (its first invocation) or each not."""
    functions = functions_of(answer)
    if answer.status != 200 or sorted(functions) != sorted(named):
        return False, f"{answer.status}: reported {sorted(functions)}, WARM_FUNCTIONS {sorted(named)}"
    warm = {name: f for name, f in functions.items() if f["state"] == "warm"}
    failed = [f"{name}: {f['problem']}" for name, f in functions.items() if name not in warm]
    if [problem for problem in failed if not (starting and problem.endswith(TIMED_OUT))]:
        return False, f"{len(failed)} failed: {'; '.join(failed)[:300]}"
    wrong = [name for name, f in warm.items() if cold is not None and f["was_cold"] != cold]
    if wrong:
        return False, f"{'not cold' if cold else 'cold again'}: {', '.join(wrong)}"
    still = f", {len(failed)} still starting ({TIMED_OUT})" if failed else ""
    kind = {True: " (cold: each one's first invocation)", False: ", none cold", None: ""}[cold]
    return True, f"{len(warm)} warm{kind}{still}, {answer.seconds:.1f} s"


def get_ready(report: Report, sam: str, reference: str, token: str) -> list[Answer] | None:
    """Get ready through sam local as a presenter presses it: again while functions are still starting
    (start-lambda creates their containers one at a time), until every one answers warm, then once more;
    the last all-warm report compared with make run's. Every answer through sam local, for the figures."""
    named = warm_functions_named()
    first, reference_answer = call_preflight(sam, token), call_preflight(reference, token)
    if not report.line(
        first.status == reference_answer.status == 200,
        f"POST {PREFLIGHT}",
        f"sam local {first.status} in {first.seconds:.1f} s, make run {reference_answer.status}"
        + ("" if first.status == 200 else f": {first.body[:200]!r}"),
    ):
        return None
    passed, detail = warmed(first, named, starting=True, cold=True)
    report.line(passed, "  first: each warm and cold, or starting", detail)
    presses = [first]
    while len(presses) < PRESSES and any(f["state"] != "warm" for f in functions_of(presses[-1]).values()):
        presses.append(call_preflight(sam, token))
    ready = presses[-1]
    passed, detail = warmed(ready, named)
    report.line(passed, f"  press {len(presses)}: every function warm", detail)
    ours, theirs = preflight_shape(ready.json()), preflight_shape(reference_answer.json())
    report.line(
        ours == theirs,
        "  the report, as make run's",
        "same keys, verdict, functions and checks" if ours == theirs else first_difference(ours, theirs),
    )
    body = ready.json() or {}
    report.line(
        body.get("verdict") == "ready" and (body.get("database") or {}).get("state") == "ok",
        "  ready, the database ok",
        f"verdict {body.get('verdict')}, database {(body.get('database') or {}).get('state')}; "
        f"actions {body.get('actions')}",
    )
    again = call_preflight(sam, token)
    passed, detail = warmed(again, named, cold=False)
    report.line(passed, "  again: every function warm", detail)
    return [*presses, again]


def get_ready_table(presses: list[Answer]) -> str:
    """Each function's warm-up under sam local: the press it first answered warm in, its round trip then
    (its container's creation, when it was still starting, included) and its init, and warm (the last press)."""
    lines = [
        "| function | first warm in press | was cold | round trip then (s) | init (ms) | warm round trip (ms) |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    last = functions_of(presses[-1])
    for name in sorted(last):
        found = next(
            ((n, functions_of(a)[name]) for n, a in enumerate(presses, 1) if functions_of(a)[name]["state"] == "warm"),
            None,
        )
        if found is None:
            lines.append(f"| {name} | never | | | | |")
            continue
        press, function = found
        [instance, *_] = function["instances"]
        [warm, *_] = last[name]["instances"] or [{}]
        cells = [
            name,
            str(press),
            "yes" if function["was_cold"] else "no",
            f"{instance['round_trip_ms'] / 1000:.1f}",
            f"{instance.get('init_ms') or 0:.0f}",
            f"{warm.get('round_trip_ms') or 0:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for number, answer in enumerate(presses, 1):
        body = answer.json() or {}
        warm = sum(f["state"] == "warm" for f in body.get("functions", []))
        lines.append(
            f"press {number}: {answer.status}, {warm} of {len(body.get('functions', []))} warm, "
            f"{body.get('duration_ms', 0) / 1000:.1f} s by its clock, {answer.seconds:.1f} s the request"
        )
    return "\n".join(lines)


# ---- the run


@dataclass
class Machine:
    env: dict[str, str]
    sam_port: int
    db_port: int
    sign_in_port: int
    doc_sam_port: int
    lambda_port: int = 3003
    doc_lambda_port: int = 3003

    def command(self, text: str) -> str:
        """A documented command with this run's start-api and start-lambda ports (the others are the
        Makefile's variables)."""
        text = re.sub(rf"\b{self.doc_sam_port}\b", str(self.sam_port), text)
        return re.sub(rf"\b{self.doc_lambda_port}\b", str(self.lambda_port), text)


def lambda_image() -> str:
    return f"public.ecr.aws/lambda/python:3.12-{'arm64' if platform.machine() in ('aarch64', 'arm64') else 'x86_64'}"


def skip_pull(report: Report) -> dict[str, str]:
    image = lambda_image()
    inspected = subprocess.run(
        ["docker", "image", "inspect", image, "--format", "{{json .RepoDigests}}"], capture_output=True, text=True
    )
    if inspected.returncode == 0 and json.loads(inspected.stdout or "[]") == []:
        report.line(True, "Lambda image", f"{image} is a local build (no registry digest): SAM_SKIP_PULL_IMAGE=1")
        return {"SAM_SKIP_PULL_IMAGE": "1"}
    report.line(True, "Lambda image", f"SAM CLI pulls {image} as a user's does")
    return {}


def docker0() -> str | None:
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True)
    found = re.search(r"inet (\d+\.\d+\.\d+\.\d+)", shown.stdout)
    return found.group(1) if found else None


def issue_token() -> str:
    done = subprocess.run([sys.executable, "-m", "localdev", "token"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


def compare_routes(report: Report, sam: str, reference: str, token: str, sign_in: str) -> dict[str, list[Answer]]:
    run_answers = call_every_route(reference, token)
    sam_answers = call_every_route(sam, token)
    for route, (first, second) in sam_answers.items():
        passed, detail = same_answer(first, run_answers[route][0], sign_in)
        again, detail_again = same_answer(second, run_answers[route][1], sign_in)
        status = f"{first.status}/{second.status}"
        report.line(passed and again, route, f"{status}  {detail if not passed or again else detail_again}")
    return {route: [*sam_answers[route], *run_answers[route]] for route in sam_answers}


def documented_invokes(report: Report, machine: Machine, invokes: list[str]) -> float | None:
    migrate_seconds = None
    for command in invokes:
        argv = words(command)
        function = next(word for word in argv[3:] if not word.startswith("-"))
        event = argv[argv.index("-e") + 1] if "-e" in argv else argv[argv.index("--event") + 1]
        status, out, err, seconds = run(machine.command(command), machine.env)
        result = _last_json(out)
        flags = " (flags, no samconfig)" if "--env-vars" in argv else ""
        if status != 0 or result is None or "errorMessage" in result or int(result.get("statusCode", 200)) >= 400:
            report.line(False, f"sam local invoke {function}{flags}", f"exit {status}: {(out or err)[-300:]}")
            continue
        code, reference, _, _ = run(f"make -s invoke FN={function} EVENT={event}", machine.env)
        expected = json.loads(reference) if code == 0 else None
        same = normalised(_body(result)) == normalised(_body(expected))
        detail = (
            first_difference(normalised(_body(result)), normalised(_body(expected)))
            if not same
            else "same as make invoke"
        )
        report.line(same, f"sam local invoke {function}{flags}", f"{seconds:.1f} s, {detail}")
        if function == "DatabaseMigrateFunction" and not flags:
            migrate_seconds = seconds
    return migrate_seconds


def _last_json(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        return value if isinstance(value, dict) else None
    return None


def _body(result: dict[str, Any] | None) -> Any:
    """A function's result, its JSON body read when it is an API answer."""
    if result and "statusCode" in result:
        return {"statusCode": result["statusCode"], "body": json.loads(result.get("body") or "null")}
    return result


def documented_curls(report: Report, machine: Machine, curls: list[str]) -> None:
    for command in curls:
        status, out, err, seconds = run(machine.command(command), machine.env)
        answer = _last_json(out)
        # Not our error shape, nor SAM CLI's ({"message": ...} alone)
        passed = status == 0 and answer is not None and "error" not in answer and set(answer) != {"message"}
        label = " ".join(word for word in words(command) if word.startswith(("localhost", "http")))
        report.line(passed, f"curl {label}", f"{seconds:.1f} s, {out.strip()[:90] if passed else out + err}")


def cold_start_table(answers: dict[str, list[Answer]], functions: dict[str, str], migrate: float | None) -> str:
    lines = [
        "| function | route | first request (s) | next request (ms) | `make run` (ms) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for route, (first, second, _, reference) in answers.items():
        cells = [functions.get(route, "?"), f"`{route}`", f"{first.seconds:.1f}", f"{second.seconds * 1000:.0f}"]
        lines.append("| " + " | ".join([*cells, f"{reference.seconds * 1000:.0f}"]) + " |")
    if migrate is not None:
        lines.append(f"| DatabaseMigrateFunction | `sam local invoke`, the whole command | {migrate:.1f} | | |")
    return "\n".join(lines)


def route_functions() -> dict[str, str]:
    from localdev.template import routes

    return {f"{route.method} {route.path}": function.logical_id for route, function in routes()}


def main() -> int:
    report = Report()
    servers: list[Served] = []
    commands = documented_commands()
    start_apis = [c for c in commands if words(c)[:3] == [SAM, "local", "start-api"]]
    invokes = [c for c in commands if words(c)[:3] == [SAM, "local", "invoke"]]
    start_lambdas = [c for c in commands if words(c)[:3] == [SAM, "local", "start-lambda"]]
    curls = [c for c in commands if words(c)[:1] == ["curl"]]
    [build] = [c for c in commands if words(c) == ["make", "build-host"]]
    sam_dbs = [c for c in commands if words(c)[:2] == ["make", "sam-db"]]
    others = [c for c in commands if c not in {*start_apis, *invokes, *curls, build, *sam_dbs, *start_lambdas}]
    doc_port = int(words(start_apis[0])[words(start_apis[0]).index("--port") + 1])
    doc_lambda_port = int(words(start_lambdas[0])[words(start_lambdas[0]).index("--port") + 1])
    machine = Machine(
        env=dict(os.environ, SAM_CLI_TELEMETRY="0"),
        sam_port=int(os.environ.get("SAM_LOCAL_PORT") or doc_port),
        db_port=int(os.environ.get("SAM_DB_PORT") or 5433),
        sign_in_port=int(os.environ.get("SAM_SIGN_IN_PORT") or 3002),
        doc_sam_port=doc_port,
        lambda_port=int(os.environ.get("SAM_LAMBDA_PORT") or doc_lambda_port),
        doc_lambda_port=doc_lambda_port,
    )
    run_port = int(os.environ.get("SAM_RUN_PORT") or free_port())
    machine.env |= {
        "SAM_DB_PORT": str(machine.db_port),
        "SAM_SIGN_IN_PORT": str(machine.sign_in_port),
        "SAM_LAMBDA_PORT": str(machine.lambda_port),
    }
    sam, reference = f"http://127.0.0.1:{machine.sam_port}", f"http://127.0.0.1:{run_port}"
    sign_in = f"http://127.0.0.1:{machine.sign_in_port}"
    print(
        f"docs/LOCAL.md: {len(commands)} commands; sam local on {machine.sam_port} (the document's {doc_port}), "
        f"start-lambda on {machine.lambda_port} (the document's {doc_lambda_port}), "
        f"make sam-db on {machine.db_port} and {machine.sign_in_port}, make run on {run_port}",
        flush=True,
    )
    try:
        report.section("docs/LOCAL.md's commands")
        for command in others:
            report.line(False, " ".join(words(command))[:44], "a command this check does not know how to run")
        report.section("Docker and the build")
        if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
            report.line(False, "docker info", "Docker does not answer")
            return 1
        ports = (machine.sam_port, machine.lambda_port, machine.sign_in_port, machine.db_port)
        busy = [p for p in ports if port_open(p)]
        if busy:
            report.line(
                False,
                "ports",
                f"in use: {busy} (SAM_LOCAL_PORT, SAM_LAMBDA_PORT, SAM_SIGN_IN_PORT, SAM_DB_PORT pick others)",
            )
            return 1
        machine.env |= skip_pull(report)
        status, out, err, seconds = run(build, machine.env, 1800)
        if not report.line(
            status == 0, " ".join(words(build)), f"{seconds:.0f} s" if status == 0 else (out + err)[-1500:]
        ):
            return 1

        report.section("make sam-db (terminal 1) and make run (the reference)")
        bridge = docker0()
        linux = [c for c in sam_dbs if "SAM_DB_HOST=" in c]
        sam_db = linux[0].replace("172.17.0.1", bridge) if bridge and linux else sam_dbs[0]
        servers.append(db := start("sam-db", sam_db, machine.env))
        ready = wait_until(db, lambda: "now run sam local" in db.output(), 300)
        if not report.line(
            ready, " ".join(words(sam_db)), "relay, sign-in, env-vars file" if ready else "\n" + db.tail()
        ):
            return 1
        servers.append(local := start("make-run", "make run", machine.env | {"PORT": str(run_port)}))
        ready = wait_until(local, lambda: "serving" in local.output(), 300)
        if not report.line(ready, "make run", reference if ready else "\n" + local.tail()):
            return 1
        token = issue_token()

        report.section(f"{start_apis[0]} (terminal 2): every route, against make run's answers")
        servers.append(api := start("start-api", machine.command(start_apis[0]), machine.env))
        ready = wait_until(api, lambda: port_open(machine.sam_port), 300)
        if not report.line(ready, "sam local start-api", sam if ready else "\n" + api.tail()):
            return 1
        compare_routes(report, sam, reference, token, sign_in)

        report.section("the console's local sign-in")
        for base, name in ((sam, "sam local"), (reference, "make run")):
            passed, detail, _ = sign_in_round_trip(base)
            report.line(passed, f"sign-in round trip, {name}", detail)
        walked, detail = sign_in_in_chromium(sam)
        if walked is None:
            print(f"  skip console in chromium ({detail})")
        else:
            report.line(walked, "console in chromium, sam local", detail)

        report.section("what API Gateway does that sam local does not (docs/LOCAL.md)")
        for passed, label, detail in gateway_differences(sam, reference):
            report.line(passed, label, detail)

        report.section("terminal 3: LOCAL.md's curl and sam local invoke lines")
        documented_curls(report, machine, curls)
        migrate = documented_invokes(report, machine, invokes)

        linux_lambda = [c for c in start_lambdas if "--host" in words(c)]
        start_lambda = linux_lambda[0].replace("172.17.0.1", bridge) if bridge and linux_lambda else start_lambdas[0]
        argv = words(start_lambda)
        lambda_host = argv[argv.index("--host") + 1] if "--host" in argv else "127.0.0.1"
        report.section(f"Get ready: {machine.command(start_lambda)} (terminal 4), the preflight through it")
        servers.append(invoke_api := start("start-lambda", machine.command(start_lambda), machine.env))
        ready = wait_until(invoke_api, lambda: port_open(machine.lambda_port, lambda_host), 600)
        ready_answers = None
        where = f"{lambda_host}:{machine.lambda_port}"
        if report.line(ready, "sam local start-lambda", where if ready else "\n" + invoke_api.tail()):
            ready_answers = get_ready(report, sam, reference, token)
        invoke_api.stop()
        api.stop()
        forget_dead_build_locks()
        report.line(api.process.returncode is not None, "sam local start-api stopped (SIGTERM)", "")

        answers: dict[str, list[Answer]] = {}
        for other in start_apis[1:]:
            report.section(f"{' '.join(words(other)[:5])} ... (samconfig.toml's settings as flags): every route")
            servers.append(api := start("start-api-flags", machine.command(other), machine.env))
            ready = wait_until(api, lambda: port_open(machine.sam_port), 300)
            if report.line(ready, "sam local start-api, flags", sam if ready else "\n" + api.tail()):
                answers = compare_routes(report, sam, reference, token, sign_in)
            api.stop()

        if answers:
            report.section("cold starts under Docker (the second start-api: SAM CLI's image already built)")
            print(cold_start_table(answers, route_functions(), migrate), flush=True)
        if ready_answers:
            report.section("Get ready under sam local: each function's warm-up through start-lambda")
            print(get_ready_table(ready_answers), flush=True)
    finally:
        for served in reversed(servers):
            served.stop()
        forget_dead_build_locks()
    print(f"--- {'all passed' if not report.failed else f'{len(report.failed)} failed: ' + ', '.join(report.failed)}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
