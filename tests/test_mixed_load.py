"""The sandbox lifecycle under load: presenters' clients, half through the local server over HTTP and half
in-process, create, reset and delete sandboxes, start workflows, save steps and read, while an operator ages
sandboxes and runs the daily refresh, for MIXED_LOAD_REQUESTS requests (2,000 by default, as CI runs it;
docs/RELIABILITY.md has a larger run's figures). Whatever the interleaving:

- no answer is a 5xx: no 500, no deadlock told as a lost connection ("may have been applied"), no 503 at all;
- there are never more sandboxes than DEMO_MAX_SANDBOXES (a trigger on the test's database refuses the row
  that would make one more, and a sampler watches the count);
- every write that was answered 2xx is there afterwards, unless a reset, delete or refresh of its sandbox that
  could have committed after it took it away. Two sandboxes ("calm") are never reset, deleted or refreshed
  while the load runs, so every write in them must be there, no excuse taken.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from conftest import DEMO_DAY, DictConnection, http_request, invoke, load_event, one, use_environment
from test_demo_reset import reset_event
from test_sandboxes import delete_event, in_sandbox
from test_workflows import with_session

from localdev.auth import issue_token
from localdev.server import LocalServer
from squelch import db
from squelch.domain import demo, workflows

REQUESTS = int(os.environ.get("MIXED_LOAD_REQUESTS", "2000"))
CLIENTS = int(os.environ.get("MIXED_LOAD_CLIENTS", "8"))  # half over HTTP, half in-process
CALM = ("calm-1", "calm-2")
BUSY = ("busy-1", "busy-2", "busy-3", "busy-4", "busy-5")
LIMIT = 1 + len(CALM) + 3  # the default, the calm ones, and three of the five busy names at a time
# What a presenter's client does, and how often (weights).
MIX = {
    "reset": 8,
    "delete": 4,
    "list": 3,
    "start": 15,
    "save": 25,
    "read": 40,
}
READS = {
    "profile": ("CustomerGetFunction", "customer_get.json", "/api/customers/aco"),
    "tickets": ("TicketsListFunction", "tickets_list.json", "/api/customers/aco/tickets"),
    "health": ("HealthGetFunction", "health_get.json", "/api/customers/aco/health"),
}
WORKFLOWS = ("strategic_planning", "risk_detection")
LIMIT_TRIGGER = f"""
CREATE FUNCTION mixed_load_limit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM demo_sandboxes) > {LIMIT} THEN
        RAISE EXCEPTION 'sandbox limit exceeded: %', (SELECT array_agg(name) FROM demo_sandboxes);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mixed_load_limit AFTER INSERT ON demo_sandboxes FOR EACH ROW EXECUTE FUNCTION mixed_load_limit();
"""


@dataclass(frozen=True)
class Answer:
    """One request and its answer, with when it was sent and answered (monotonic clock)."""

    via: str  # "http" or "in-process" (the refresh: "operator")
    op: str
    sandbox: str
    status: int
    body: Any
    sent: float
    answered: float
    session_id: str | None = None
    step: int | None = None
    mark: str | None = None  # what a step save wrote, to find it afterwards


class Http:
    """A presenter's client of the local server."""

    via = "http"

    def __init__(self, base: str) -> None:
        self.base = base
        # The same presenter as the in-process clients' sample events: one presenter's devices, whose
        # sandboxes (a sandbox is its creator's) they may all reset and delete.
        self.token = issue_token("presenter@squelch.example")

    def call(self, method: str, path: str, sandbox: str, body: Any = None, token: bool = False) -> tuple[int, Any]:
        headers = {"X_Demo_Sandbox": sandbox}
        if body is not None:
            headers["Content_Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = json.dumps(body).encode() if body is not None else None
        status, _, raw = http_request(f"{self.base}{path}", method, payload, **headers)
        return status, json.loads(raw) if raw else None

    def reset(self, sandbox: str, checkpoint: str) -> tuple[int, Any]:
        return self.call("POST", "/api/demo/reset", sandbox, {"confirm": True, "checkpoint": checkpoint}, token=True)

    def delete(self, sandbox: str) -> tuple[int, Any]:
        return self.call("DELETE", f"/api/demo/sandboxes/{sandbox}", sandbox, token=True)

    def list(self, sandbox: str) -> tuple[int, Any]:
        return self.call("GET", "/api/demo/sandboxes", sandbox, token=True)

    def start(self, sandbox: str, workflow_type: str) -> tuple[int, Any]:
        return self.call(
            "POST", "/api/workflows/start", sandbox, {"customer_id": "aco", "workflow_type": workflow_type}
        )

    def save(self, sandbox: str, session_id: str, step: int, data: Any) -> tuple[int, Any]:
        return self.call("PUT", f"/api/workflows/{session_id}/step", sandbox, {"step": step, "data": data})

    def read(self, sandbox: str, kind: str) -> tuple[int, Any]:
        return self.call("GET", READS[kind][2], sandbox)

    def context(self, sandbox: str, session_id: str) -> tuple[int, Any]:
        return self.call("GET", f"/api/workflows/{session_id}/context", sandbox)


class InProcess:
    """A presenter's client calling the functions in this process, as `make invoke` and Lambda do."""

    via = "in-process"

    @staticmethod
    def _answer(response: dict[str, Any]) -> tuple[int, Any]:
        body = response.get("body")
        return response["statusCode"], json.loads(body) if body else None

    def reset(self, sandbox: str, checkpoint: str) -> tuple[int, Any]:
        event = in_sandbox(reset_event({"confirm": True, "checkpoint": checkpoint}), sandbox)
        return self._answer(invoke("DemoResetFunction", event))

    def delete(self, sandbox: str) -> tuple[int, Any]:
        return self._answer(invoke("SandboxDeleteFunction", in_sandbox(delete_event(sandbox), sandbox)))

    def list(self, sandbox: str) -> tuple[int, Any]:
        return self._answer(invoke("SandboxesListFunction", in_sandbox(load_event("sandboxes_list.json"), sandbox)))

    def start(self, sandbox: str, workflow_type: str) -> tuple[int, Any]:
        event = load_event(
            "workflow_start.json", body=json.dumps({"customer_id": "aco", "workflow_type": workflow_type})
        )
        return self._answer(invoke("WorkflowStartFunction", in_sandbox(event, sandbox)))

    def save(self, sandbox: str, session_id: str, step: int, data: Any) -> tuple[int, Any]:
        event = in_sandbox(with_session("workflow_step_save.json", session_id), sandbox)
        event["body"] = json.dumps({"step": step, "data": data})
        return self._answer(invoke("WorkflowStepSaveFunction", event))

    def read(self, sandbox: str, kind: str) -> tuple[int, Any]:
        function, event_file, _ = READS[kind]
        return self._answer(invoke(function, in_sandbox(load_event(event_file), sandbox)))

    def context(self, sandbox: str, session_id: str) -> tuple[int, Any]:
        event = in_sandbox(with_session("workflow_context_get.json", session_id), sandbox)
        return self._answer(invoke("WorkflowContextGetFunction", event))


@dataclass
class Run:
    """What the clients share: the request budget and every answer."""

    budget: int
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    taken: int = 0

    def ticket(self) -> bool:
        with self.lock:
            if self.taken >= self.budget:
                return False
            self.taken += 1
            return True

    def record(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)


def presenter(run: Run, client: Http | InProcess, seed: int) -> None:
    """Requests of every kind until the budget is spent; sessions it started it saves steps of."""
    rng = random.Random(seed)
    sessions: list[tuple[str, str, int]] = []  # (sandbox, session_id, next step)
    ops, weights = list(MIX), list(MIX.values())
    try:
        while run.ticket():
            op = rng.choices(ops, weights)[0]
            sandbox = rng.choice((*CALM, *BUSY, "default"))
            session_id = step = mark = None
            sent = time.monotonic()
            if op == "reset":
                sandbox = rng.choice((*BUSY, "default"))  # the calm ones are never reset while the load runs
                status, body = client.reset(sandbox, rng.choice(demo.CHECKPOINTS))
            elif op == "delete":
                sandbox = rng.choice(BUSY)
                status, body = client.delete(sandbox)
            elif op == "list":
                status, body = client.list(sandbox)
            elif op == "start":
                status, body = client.start(sandbox, rng.choice(WORKFLOWS))
                if status in (200, 201) and body["next_step"]:
                    session_id = body["session_id"]
                    sessions.append((sandbox, session_id, body["next_step"]))
            elif op == "save" and sessions:
                sandbox, session_id, step = sessions.pop(rng.randrange(len(sessions)))
                mark = f"{seed}-{run.taken}"
                status, body = client.save(sandbox, session_id, step, {"mark": mark})
                if status == 200 and body["next_step"]:
                    sessions.append((sandbox, session_id, body["next_step"]))
            elif sessions and rng.random() < 0.2:
                op, (sandbox, session_id, _) = "context", rng.choice(sessions)
                status, body = client.context(sandbox, session_id)
            else:
                op = "read"
                status, body = client.read(sandbox, rng.choice(list(READS)))
            run.record(Answer(client.via, op, sandbox, status, body, sent, time.monotonic(), session_id, step, mark))
    finally:
        db.close()


def operator(run: Run, owner_url: str, stop: threading.Event, seed: int) -> None:
    """Every so often, by hand, a sandbox is made stale and quiet (a busy one or the default), or a busy one
    idle past the TTL, in turn, and the daily refresh runs; until the presenters are done and the refresh
    has both re-seeded a story and removed an idle sandbox (or tried 30 times more)."""
    rng = random.Random(seed)
    reseeded = removed = False
    try:
        with psycopg.connect(owner_url, autocommit=True) as owner:
            for round_ in itertools.count():
                if stop.wait(0.15) and ((reseeded and removed) or round_ > 30 + len(run.answers) // 50):
                    return
                existing = [r[0] for r in owner.execute("SELECT name FROM demo_sandboxes").fetchall()]
                busy = [name for name in existing if name in BUSY]
                idle_for = "15 days" if round_ % 2 and busy else "31 minutes"
                name = rng.choice(busy) if busy and (idle_for == "15 days" or round_ % 4) else "default"
                owner.execute(
                    "UPDATE demo_sandboxes SET anchor_date = %s, last_activity_at = now() - %s::interval "
                    "WHERE name = %s",
                    [DEMO_DAY - timedelta(days=1), idle_for, name],
                )
                sent = time.monotonic()
                try:
                    summary, status = invoke("StoryRefreshFunction", load_event("story_refresh.json")), 200
                except Exception as error:  # the function failing is what Lambda would count as an error
                    summary, status = {"error": repr(error), "refreshed": [], "removed_idle": []}, 500
                reseeded, removed = reseeded or bool(summary["refreshed"]), removed or bool(summary["removed_idle"])
                run.record(Answer("operator", "refresh", "*", status, summary, sent, time.monotonic()))
    finally:
        db.close()


def sampler(owner_url: str, stop: threading.Event, counts: list[int]) -> None:
    with psycopg.connect(owner_url, autocommit=True) as owner:
        while not stop.wait(0.002):
            row = owner.execute("SELECT count(*) FROM demo_sandboxes").fetchone()
            counts.append(int(row[0]) if row else 0)


@pytest.fixture
def load_server(story: DictConnection) -> Iterator[str]:
    local = LocalServer("127.0.0.1", 0, workers=16)
    threading.Thread(target=local.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{local.server_address[1]}"
    local.shutdown()
    local.server_close()


@pytest.fixture
def limit_trigger(story: DictConnection) -> Iterator[None]:
    """A trigger on the test's database that refuses the row making one sandbox too many."""
    story.execute(LIMIT_TRIGGER)
    try:
        yield
    finally:
        story.execute("DROP TRIGGER mixed_load_limit ON demo_sandboxes; DROP FUNCTION mixed_load_limit()")


def test_creates_deletes_resets_starts_saves_reads_and_refreshes_at_once(
    story: DictConnection,
    app_database: str,
    load_server: str,
    limit_trigger: None,
    monkeypatch: pytest.MonkeyPatch,
    log_output: Any,
) -> None:
    # Given the default story, two calm sandboxes and the busy ones as far as the limit allows
    use_environment(monkeypatch, DEMO_MAX_SANDBOXES=str(LIMIT), DEMO_SANDBOX_TTL_DAYS="14")
    for name in (*CALM, *BUSY[:3]):
        demo.reset(story, DEMO_DAY, "act1-mid-planning", name)
    run, stop = Run(REQUESTS), threading.Event()
    counts = [one(story, "SELECT count(*) AS n FROM demo_sandboxes")["n"]]
    clients: list[Http | InProcess] = [Http(load_server) if n % 2 == 0 else InProcess() for n in range(CLIENTS)]
    threads = [threading.Thread(target=presenter, args=(run, c, n)) for n, c in enumerate(clients)]
    background = [
        threading.Thread(target=operator, args=(run, app_database, stop, 99)),
        threading.Thread(target=sampler, args=(app_database, stop, counts)),
    ]
    # When the presenters' clients and the operator go at it
    started = time.monotonic()
    for thread in [*background, *threads]:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    for thread in background:
        thread.join()
    elapsed = time.monotonic() - started
    answers = run.answers
    print(summary(answers, elapsed, max(counts), log_output.getvalue()))

    # Then nothing answered a 5xx: no 500, no deadlock taken for a lost connection, no 503 at all
    failed = [a for a in answers if a.status >= 500]
    assert not failed, [(a.via, a.op, a.sandbox, a.status, a.body) for a in failed[:5]]
    assert len(answers) >= REQUESTS
    # And every answer is one the contract documents
    documented = {200, 201, 204, 404, 409, 422}
    undocumented = [(a.via, a.op, a.sandbox, a.status, a.body) for a in answers if a.status not in documented]
    assert not undocumented, undocumented[:5]
    # And there were never more sandboxes than the limit
    assert max(counts) <= LIMIT
    # And every 2xx write is there, unless a reset, delete or refresh of its sandbox may have come after it
    checked = check_writes(story, answers, idle_removals(log_output.getvalue()))
    excused = sum(checked.excused.values())
    print(
        f"2xx writes: {checked.present} there afterwards, {excused} taken by a later reset, delete or refresh, "
        f"{sum(checked.pruned.values())} in finished sessions that {workflows.FINISHED_SESSIONS_KEPT} later ones "
        "of their sandbox pushed out"
    )
    assert not checked.missing, checked.missing[:5]
    # (none in the calm sandboxes: there, each one must be there)
    assert not any(checked.excused[name] for name in CALM), checked.excused
    # And the mix did what it is for: every kind of request succeeded, the limit was met, sandboxes were
    # deleted under their writers, and the refresh re-seeded and removed sandboxes
    ok = Counter(a.op for a in answers if a.status < 300)
    assert all(ok[op] for op in (*MIX, "context", "refresh")), ok
    codes = Counter(a.body["error"]["code"] for a in answers if a.status >= 400)
    assert codes["sandbox_limit_reached"] and codes["sandbox_not_found"], codes
    # And a write in a sandbox deleted under it says so, not that its customer is unknown
    assert not codes["customer_not_found"], codes
    refreshes = [a.body for a in answers if a.op == "refresh"]
    assert any(r["refreshed"] for r in refreshes) and any(r["removed_idle"] for r in refreshes)


def idle_removals(log: str) -> dict[int, list[str]]:
    """The sandboxes each reset removed as idle before creating its own (its log line says; its answer does not)."""
    lines = (json.loads(line) for line in log.splitlines() if '"demo reset"' in line)
    return {line["reset_id"]: line["idle_sandboxes_removed"] for line in lines if line["idle_sandboxes_removed"]}


@dataclass
class WriteCheck:
    present: int = 0  # 2xx writes found in the database afterwards
    # by sandbox: not found, but a reset, delete or refresh of their sandbox may have come after them
    excused: Counter[str] = field(default_factory=Counter)
    # by sandbox: their session finished, and so did FINISHED_SESSIONS_KEPT others of its sandbox after it, any of
    # which may have removed it as the oldest finished one (a sandbox keeps its latest finished sessions only)
    pruned: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)  # not found, and nothing explains it


def check_writes(conn: DictConnection, answers: list[Answer], removed_by_reset: dict[int, list[str]]) -> WriteCheck:
    """Whether each 2xx write is in the database, or a later reset, delete or refresh explains its absence."""
    takers: dict[str, list[float]] = {}  # sandbox: when each reset, delete or refresh of it was answered
    for a in answers:
        if a.op in ("reset", "delete") and a.status < 300:
            takers.setdefault(a.sandbox, []).append(a.answered)
        if a.op == "reset" and a.status < 300:
            for name in removed_by_reset.get(a.body["reset_id"], []):
                takers.setdefault(name, []).append(a.answered)
        if a.op == "refresh":
            for name in (*a.body.get("refreshed", []), *a.body.get("removed_idle", [])):
                takers.setdefault(name, []).append(a.answered)

    def explained(a: Answer) -> bool:
        # A reset, delete or refresh answered after this write was sent may have committed after it.
        return any(t > a.sent for t in takers.get(a.sandbox, []))

    finishes: dict[str, list[tuple[str | None, float, float]]] = {}  # sandbox: (session, sent, answered)
    for a in answers:
        if a.op == "save" and a.status < 300 and a.body["completed"]:
            finishes.setdefault(a.sandbox, []).append((a.session_id, a.sent, a.answered))

    def pruned(a: Answer) -> bool:
        session_id = a.session_id if a.op == "save" else a.body["session_id"]
        own = [sent for (session, sent, _) in finishes.get(a.sandbox, []) if session == session_id]
        if not own:
            return False
        later = {s for (s, _, answered) in finishes[a.sandbox] if s != session_id and answered > min(own)}
        return len(later) >= workflows.FINISHED_SESSIONS_KEPT

    sessions = {
        r["session_id"]: (r["sandbox"], r["data"])
        for r in conn.execute("SELECT session_id, sandbox, data FROM demo_workflow_state").fetchall()
    }
    sandboxes = {r["name"] for r in conn.execute("SELECT name FROM demo_sandboxes").fetchall()}
    logged = {r["reset_id"] for r in conn.execute("SELECT reset_id FROM demo_reset_log").fetchall()}
    marks: dict[tuple[str | None, int | None], set[str | None]] = {}
    for a in answers:
        if a.op == "save" and a.status < 300:
            marks.setdefault((a.session_id, a.step), set()).add(a.mark)
    check = WriteCheck()
    for a in answers:
        if a.status >= 300 or a.op not in ("reset", "delete", "start", "save"):
            continue
        if a.op == "reset":
            there = a.body["reset_id"] in logged and a.sandbox in sandboxes
            what = f"reset {a.body['reset_id']} of {a.sandbox}"
        elif a.op == "delete":
            there, what = a.sandbox not in sandboxes, f"delete of {a.sandbox}: it is back"
        elif a.op == "start":
            there = sessions.get(a.body["session_id"], ("", {}))[0] == a.sandbox
            what = f"session {a.body['session_id']} started in {a.sandbox}"
        else:  # the step is there, holding what one of the saves of that step that were answered 2xx wrote
            sandbox, data = sessions.get(a.session_id or "", ("", {}))
            kept = (data.get(f"step_{a.step}") or {}).get("mark")
            there = sandbox == a.sandbox and kept in marks[(a.session_id, a.step)]
            what = f"step {a.step} of {a.session_id}"
        if there:
            check.present += 1
        elif explained(a) and not (a.op == "reset" and a.body["reset_id"] not in logged):
            check.excused[a.sandbox] += 1
        elif a.op in ("start", "save") and pruned(a):
            check.pruned[a.sandbox] += 1
        else:
            check.missing.append(what)
    return check


def summary(answers: list[Answer], elapsed: float, most: int, log: str) -> str:
    by_op: dict[str, Counter[str]] = {}
    for a in answers:
        outcome = str(a.status) if a.status < 400 else f"{a.status} {a.body['error']['code']}"
        by_op.setdefault(a.op, Counter())[outcome] += 1
    via = Counter(a.via for a in answers)
    calm = sum(1 for a in answers if a.sandbox in CALM and a.op in ("start", "save") and a.status < 300)
    retried = log.count("transaction rolled back by the database")
    lines = [
        f"{len(answers)} requests in {elapsed:.1f} s ({dict(via)}); at most {most} sandboxes (limit {LIMIT}); "
        f"{retried} transactions rolled back by the database and run again; {calm} writes in the calm sandboxes",
        *(f"  {op:8} {dict(sorted(counts.items()))}" for op, counts in sorted(by_op.items())),
    ]
    return "\n".join(lines)


def test_the_summary_reads_what_happened() -> None:
    # The figures docs/RELIABILITY.md quotes come from this summary: it counts what it is given
    one = Answer("http", "read", "default", 200, {}, 0.0, 0.1)
    refused = Answer("in-process", "save", "busy-1", 404, {"error": {"code": "sandbox_not_found"}}, 0.0, 0.1)
    text = summary([one, refused], 1.0, 3, "")
    assert text.startswith("2 requests in 1.0 s ({'http': 1, 'in-process': 1}); at most 3 sandboxes")
    assert "  read     {'200': 1}" in text and "  save     {'404 sandbox_not_found': 1}" in text
