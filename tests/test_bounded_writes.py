"""Anonymous writes are bounded. With RequireSignIn=false anyone may start a workflow
and save its steps; what they can store is held to a bound that does not grow with time:

- a step's data takes at most STEP_DATA_MAX_BYTES (8 KiB) as stored (PostgreSQL's jsonb), else 413
  step_data_too_large and nothing is saved;
- a sandbox keeps one open session per customer and workflow type, and its FINISHED_SESSIONS_KEPT (10)
  latest finished ones: finishing one more removes the oldest;
- so a sandbox's sessions hold at most (customers x types + 10) x 5 steps x 8 KiB, and a flood of the
  write routes, through the local server, from several clients at once, leaves the table no larger than
  that bound (docs/RELIABILITY.md computes it, for a sandbox, the deployment and an hour);
- the daily refresh skips a sandbox written to in the last 30 minutes only while its story is a day old at
  most, so a flood cannot keep a sandbox from being refreshed for more than a day.
"""

from __future__ import annotations

import base64
import json
import os
import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conftest import DEMO_DAY, DictConnection, body_of, http_request, invoke, one, use_environment
from test_demo_reset import reset_event
from test_sandboxes import created, in_sandbox, rows_of
from test_story_refresh import idle, refresh
from test_workflows import context, row, save, start

from localdev.server import LocalServer
from squelch.domain import demo, workflows

CAP = workflows.STEP_DATA_MAX_BYTES
KEPT = workflows.FINISHED_SESSIONS_KEPT


def stored_size(conn: DictConnection, data: Any) -> int:
    """What PostgreSQL takes to store this JSON value as jsonb (uncompressed)."""
    return one(conn, "SELECT pg_column_size(%s::jsonb) AS n", json.dumps(data))["n"]


def blob_of(conn: DictConnection, size: int, rng: random.Random | None = None) -> dict[str, str]:
    """{"blob": text} that takes exactly `size` bytes stored, of random base64 (which no compression shrinks)."""
    overhead = stored_size(conn, {"blob": ""})
    chosen = rng or random.Random(size)
    text = base64.b64encode(chosen.randbytes(size)).decode()[: size - overhead]
    data = {"blob": text}
    assert stored_size(conn, data) == size
    return data


# ---- a step's data


def test_a_step_over_the_cap_is_a_413_and_saves_nothing(story: DictConnection) -> None:
    session_id = body_of(start())["session_id"]
    before = row(story, session_id)
    # When a step's data takes one byte more than the cap as stored
    answer = save(session_id, 1, blob_of(story, CAP + 1))
    # Then it is refused with its own code, the size and the cap, and nothing is saved
    assert answer["statusCode"] == 413
    error = body_of(answer)["error"]
    assert error["code"] == "step_data_too_large"
    assert error["details"] == [
        {"loc": ["body", "data"], "msg": error["details"][0]["msg"], "type": "too_large", "max": CAP, "size": CAP + 1}
    ]
    assert f"{CAP + 1:,} bytes" in error["message"] and "8 KiB" in error["message"]
    assert row(story, session_id) == before
    # While data of exactly the cap is saved
    assert save(session_id, 1, blob_of(story, CAP))["statusCode"] == 200


def test_the_cap_is_on_what_is_stored_not_on_the_text_sent(story: DictConnection) -> None:
    # Given data whose JSON text is well under the cap but which jsonb stores six times larger (small numbers)
    data = {"zeros": [0] * 1500}
    assert len(json.dumps(data, separators=(",", ":"))) < CAP / 2 < CAP < stored_size(story, data)
    session_id = body_of(start())["session_id"]
    # Then it is refused as too large
    assert body_of(save(session_id, 1, data))["error"]["code"] == "step_data_too_large"


def test_a_too_large_step_is_refused_before_its_session_is_looked_at(story: DictConnection) -> None:
    assert body_of(save("wf-nobody-has-this-id-000000", 1, blob_of(story, CAP + 1)))["error"]["code"] == (
        "step_data_too_large"
    )


def test_every_step_the_demo_saves_fits_the_cap_twenty_times_over(story: DictConnection) -> None:
    # The steps the checkpoints write, as the front end saves them (the pack's checkpoints.json), and the step of
    # the API contract's first example
    demo.reset(story, DEMO_DAY, "act1-planned")
    steps = one(story, "SELECT data FROM demo_workflow_state WHERE completed")["data"]
    assert sorted(steps) == [f"step_{n}" for n in range(1, 6)]
    examples = [*steps.values(), {"artifact": "contract_intelligence", "user_selections": {"renewal_risk": "high"}}]
    assert max(stored_size(story, step) for step in examples) * 20 < CAP


# ---- finished sessions


def finish(session_id: str, steps: int = 5) -> None:
    for step in range(1, steps + 1):
        assert save(session_id, step, {"note": f"step {step}"})["statusCode"] == 200


def finished_ids(conn: DictConnection, sandbox: str = "default") -> list[str]:
    rows = conn.execute(
        "SELECT session_id FROM demo_workflow_state WHERE sandbox = %s AND completed ORDER BY updated_at, session_id",
        [sandbox],
    ).fetchall()
    return [r["session_id"] for r in rows]


def test_a_sandbox_keeps_its_latest_finished_sessions_only(story: DictConnection) -> None:
    # Given a sandbox in which KEPT + 2 planning sessions were started and finished one after another
    finished = []
    for _ in range(KEPT + 2):
        session_id = body_of(start())["session_id"]
        finish(session_id)
        finished.append(session_id)
    # And a risk session left open
    open_id = body_of(start(workflow_type="risk_detection"))["session_id"]
    # Then the KEPT latest finished sessions are kept, the two oldest are gone, and the open one stays
    assert finished_ids(story) == finished[2:]
    assert context(finished[0])["statusCode"] == 404 and context(finished[-1])["statusCode"] == 200
    assert context(open_id)["statusCode"] == 200
    # And the story itself (the plan every finished session agreed) is untouched
    assert one(story, "SELECT completed FROM demo_strategic_plans")["completed"] is True


def test_finishing_sessions_in_one_sandbox_removes_none_of_anothers(story: DictConnection) -> None:
    created("other", "act1-planned")
    theirs = rows_of(story, "other")["demo_workflow_state"]
    for _ in range(KEPT + 1):
        finish(body_of(start())["session_id"])
    assert rows_of(story, "other")["demo_workflow_state"] == theirs


# ---- the refresh and a flood


def one_day_on(monkeypatch: pytest.MonkeyPatch, days: int = 1) -> None:
    later = (DEMO_DAY + timedelta(days=days)).isoformat()
    use_environment(monkeypatch, DEMO_TODAY=later, DEMO_ANCHOR_DATE=None)


def test_a_flood_keeps_the_refresh_away_for_one_day_at_most(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a sandbox someone writes to every few minutes, around the clock
    created("flooded")
    idle(story, "default")
    idle(story, "flooded", minutes=1)
    # When the refresh runs the next day, the story a day old, it is skipped as a presenter at work
    one_day_on(monkeypatch)
    assert refresh()["skipped_busy"] == ["flooded"]
    # But the day after, the story two days old and still written to, it is refreshed all the same
    one_day_on(monkeypatch, days=2)
    summary = refresh()
    assert "flooded" in summary["refreshed"] and summary["skipped_busy"] == []
    assert one(story, "SELECT anchor_date FROM demo_sandboxes WHERE name = 'flooded'")["anchor_date"] == (
        DEMO_DAY + timedelta(days=2)
    )


FLOOD_REQUESTS = int(os.environ.get("FLOOD_REQUESTS", "1500"))
FLOOD_CLIENTS = 8
PUBLIC = ("default", "flooded")
PRIVATE = "presenters-own"
# The computed bound (docs/RELIABILITY.md, "Bounded anonymous writes"): per session, 5 steps of 8 KiB as
# stored, TOASTed in chunks of 1,996 bytes four to an 8 KiB page (x 2048/1996) with a TOAST index entry each
# (x 1.01), plus 1 KiB for the row, its index entries and its TOAST pointer; per sandbox, one open session
# per customer and type and the 10 latest finished; per table, 64 KiB of pages any relation of it may start.
SESSION_BOUND = int(5 * CAP * 2048 / 1996 * 1.01) + 1024
TABLE_PAGES = 64 * 1024


def sandbox_bound(customers: int = 1) -> int:
    return (customers * len(workflows.WORKFLOW_TYPES) + KEPT) * SESSION_BOUND


@pytest.fixture
def flood_server(story: DictConnection) -> Iterator[str]:
    local = LocalServer("127.0.0.1", 0, workers=FLOOD_CLIENTS)
    threading.Thread(target=local.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{local.server_address[1]}"
    local.shutdown()
    local.server_close()


def sizes(conn: DictConnection) -> dict[str, int]:
    """The table's files (heap, TOAST, indexes) after a plain VACUUM (dead rows' space made reusable: the
    footprint), then after VACUUM FULL (rewritten to its live rows: what is stored)."""
    size = "SELECT pg_total_relation_size('demo_workflow_state') AS n"
    conn.execute("VACUUM demo_workflow_state")
    footprint = one(conn, size)["n"]
    conn.execute("VACUUM FULL demo_workflow_state")
    return {"footprint": footprint, "live": one(conn, size)["n"]}


def flooder(base: str, budget: Counter[str], lock: threading.Lock, seed: int, statuses: Counter[str]) -> None:
    """Starts workflows and saves every step with data just under the cap, now and then one over it, or in
    a private sandbox without its key, until the requests are spent."""
    rng = random.Random(seed)

    def call(method: str, path: str, sandbox: str, body: Any) -> tuple[int, Any]:
        with lock:
            if budget["sent"] >= FLOOD_REQUESTS:
                raise StopIteration
            budget["sent"] += 1
        status, _, raw = http_request(
            f"{base}{path}", method, json.dumps(body).encode(), X_Demo_Sandbox=sandbox, Content_Type="application/json"
        )
        answer = json.loads(raw) if raw else None
        code = answer["error"]["code"] if status >= 400 and answer else ""
        with lock:
            statuses[f"{status} {code}".strip()] += 1
            if status == 200 and path.endswith("/step"):
                budget["accepted bytes"] += len(json.dumps(body["data"]))
        return status, answer

    blob = base64.b64encode(rng.randbytes(CAP)).decode()
    try:
        while True:
            sandbox = PRIVATE if rng.random() < 0.05 else rng.choice(PUBLIC)
            kind = rng.choice(sorted(workflows.WORKFLOW_TYPES))
            status, started = call(
                "POST", "/api/workflows/start", sandbox, {"customer_id": "aco", "workflow_type": kind}
            )
            if status not in (200, 201):
                continue
            for step in range(started["next_step"] or 1, started["total_steps"] + 1):
                if rng.random() < 0.05:  # far over the cap, under the 256 KiB body limit
                    call(
                        "PUT",
                        f"/api/workflows/{started['session_id']}/step",
                        sandbox,
                        {"step": step, "data": {"blob": blob * 8}},
                    )
                data = {"blob": blob[: CAP - 24 - rng.randrange(64)]}  # 20 bytes of the object around it
                call("PUT", f"/api/workflows/{started['session_id']}/step", sandbox, {"step": step, "data": data})
    except StopIteration:
        return


def flood(base: str) -> tuple[Counter[str], Counter[str]]:
    """FLOOD_REQUESTS requests from FLOOD_CLIENTS clients at once: (what was sent and accepted, the answers)."""
    budget, statuses, lock = Counter[str](), Counter[str](), threading.Lock()
    clients = [threading.Thread(target=flooder, args=(base, budget, lock, n, statuses)) for n in range(FLOOD_CLIENTS)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    return budget, statuses


def test_a_flood_of_the_write_routes_stores_no_more_than_the_bound(story: DictConnection, flood_server: str) -> None:
    # Given the default sandbox, a public one and a presenter's private one, and the table rewritten to its rows
    created("flooded")
    answer = invoke("DemoResetFunction", in_sandbox(reset_event({"confirm": True, "private": True}), PRIVATE))
    assert answer["statusCode"] == 200 and body_of(answer)["private"]
    before = sizes(story)
    private_rows = rows_of(story, PRIVATE)
    # When several clients flood the write routes at once, through the local server, without a token
    budget, statuses = flood(flood_server)
    after = sizes(story)
    growth = {kind: after[kind] - before[kind] for kind in after}
    bound = len(PUBLIC) * sandbox_bound() + TABLE_PAGES
    print(
        f"\nflood: {budget['sent']} requests, {budget['accepted bytes']:,} bytes of step data accepted; "
        f"table live {before['live']:,} -> {after['live']:,} bytes (+{growth['live']:,}), footprint after a plain "
        f"VACUUM {before['footprint']:,} -> {after['footprint']:,} (+{growth['footprint']:,}); bound {bound:,}; "
        f"answers {dict(statuses)}"
    )
    # Then what is stored grew by no more than the bound of the two public sandboxes written to, though many
    # times more data was accepted
    assert growth["live"] <= bound, (growth, bound)
    assert budget["accepted bytes"] > 5 * bound, budget
    # And every answer is a documented one: saved, refused as too large, without the private sandbox's key, or
    # a step another client of the same session saved first
    assert set(statuses) <= {
        "200",
        "201",
        "403 sandbox_key_required",
        "409 session_completed",
        "413 step_data_too_large",
        "422 invalid_step",
    }, statuses
    assert statuses["413 step_data_too_large"] and statuses["403 sandbox_key_required"], statuses
    # And the private sandbox was not written to at all
    assert rows_of(story, PRIVATE) == private_rows
    # And each public sandbox keeps its open sessions and its latest finished ones, no more
    for name in PUBLIC:
        counts = one(
            story,
            "SELECT count(*) FILTER (WHERE completed) AS finished, count(*) FILTER (WHERE NOT completed) AS open"
            " FROM demo_workflow_state WHERE sandbox = %s",
            name,
        )
        assert counts["finished"] <= KEPT and counts["open"] <= len(workflows.WORKFLOW_TYPES), (name, counts)


def test_after_a_vacuum_the_next_flood_reuses_the_space_of_the_last(story: DictConnection, flood_server: str) -> None:
    # Each save writes a new version of its session's row (its whole data, up to 80 KiB); the old ones are dead
    # rows until a VACUUM (autovacuum, in a deployment) makes their space reusable, which the files keep.
    created("flooded")
    size = "SELECT pg_total_relation_size('demo_workflow_state') AS n"
    story.execute("VACUUM FULL demo_workflow_state")
    compact = one(story, size)["n"]
    # Given a flood, then a VACUUM
    flood(flood_server)
    story.execute("VACUUM demo_workflow_state")
    first = one(story, size)["n"]
    # When another flood as large comes
    accepted, _ = flood(flood_server)
    story.execute("VACUUM demo_workflow_state")
    second = one(story, size)["n"]
    print(
        f"\nfootprint: compact {compact:,}; after a flood and a VACUUM {first:,} (+{first - compact:,}); after "
        f"another {second:,} (+{second - first:,}), {accepted['accepted bytes']:,} bytes of step data accepted"
    )
    # Then it writes its dead rows mostly where the first one's were: the files grow by a fraction of what the
    # first flood made them grow (without reuse, by as much again)
    assert second - first < (first - compact) / 3, (compact, first, second)
