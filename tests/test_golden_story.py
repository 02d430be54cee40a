"""Golden answers: what every route that tells the story answers, byte for byte, on anchor days across a
year and at every checkpoint, recorded before the story moved from SQL files to a pack. The story's data
may change form; its answers may not.

GOLDEN_RECORD=1 rewrites tests/golden/ from the current code (only when an answer is meant to change).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import DictConnection, invoke, load_event
from test_timeline_invariants import AI_ROUTES, GET_ROUTES

from squelch.domain import demo
from squelch.settings import get_settings

GOLDEN = Path(__file__).parent / "golden"
# Days before the wall clock's, so a checkpoint's hours on D (never later than the reset) are the
# pack's own hours whenever the test runs: a leap day, a year's last and first days, a month end, a
# mid-year day and the suite's DEMO_DAY.
ANCHOR_DAYS = [
    date(2024, 2, 29),
    date(2024, 12, 31),
    date(2025, 1, 1),
    date(2025, 6, 15),
    date(2025, 11, 23),
    date(2026, 3, 31),
]
CHECKPOINTS = ("act1-start", "act1-mid-planning", "act1-planned")
SANDBOX = "golden"


def on_day(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    monkeypatch.setenv("DEMO_ANCHOR_DATE", day.isoformat())
    monkeypatch.setenv("DEMO_TODAY", day.isoformat())
    get_settings.cache_clear()


def in_sandbox(event: dict[str, Any]) -> dict[str, Any]:
    event["headers"] = {**event["headers"], "x-demo-sandbox": SANDBOX}
    return event


def body(function: str, event: dict[str, Any]) -> str:
    response = invoke(function, in_sandbox(event))
    assert response["statusCode"] in (200, 201), (function, response["body"])
    return str(response["body"])


def answers(conn: DictConnection) -> dict[str, str]:
    """Each route's body as sent. The workflow context names its session, whose id is random, and, for a
    session the start opens now (at act1-start and act1-planned, whose session is done), the moments it
    was opened and saved: those are masked."""
    found = {key: body(fn, load_event(file)) for key, (fn, file) in GET_ROUTES.items()}
    for key, (fn, file, request) in AI_ROUTES.items():
        found[key] = body(fn, load_event(file, body=json.dumps(request)))
    session = json.loads(body("WorkflowStartFunction", load_event("workflow_start.json")))["session_id"]
    context = load_event("workflow_context_get.json", pathParameters={"session_id": session})
    context["rawPath"] = f"/api/workflows/{session}/context"
    text = body("WorkflowContextGetFunction", context).replace(session, "<session_id>")
    opened = conn.execute(
        "SELECT created_at, updated_at FROM demo_workflow_state WHERE sandbox = %s AND session_id = %s",
        [SANDBOX, session],
    ).fetchone()
    assert opened is not None
    for moment in opened.values():
        if moment < datetime.now(UTC) - timedelta(hours=1):
            continue  # a checkpoint's hour on D, part of the story
        text = text.replace(moment.astimezone(UTC).isoformat().replace("+00:00", "Z"), "<now>")
    found["context"] = text
    return found


def golden_file(day: date, checkpoint: str) -> Path:
    return GOLDEN / f"{day.isoformat()}_{checkpoint}.json"


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
@pytest.mark.parametrize("day", ANCHOR_DAYS, ids=str)
def test_every_route_answers_as_recorded(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, day: date, checkpoint: str
) -> None:
    # Given the story seeded around the day, at the checkpoint, read on that day
    on_day(monkeypatch, day)
    demo.reset(story, day, checkpoint, SANDBOX)
    # When every route that tells it is asked
    found = answers(story)
    # Then each answers what was recorded, byte for byte
    path = golden_file(day, checkpoint)
    if os.environ.get("GOLDEN_RECORD"):
        path.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n")
    recorded = json.loads(path.read_text())
    assert sorted(found) == sorted(recorded)
    for route, text in recorded.items():
        assert found[route] == text, route


def test_the_anchor_days_hold_the_days_that_break_date_arithmetic() -> None:
    assert date(2024, 2, 29) in ANCHOR_DAYS and date(2024, 12, 31) in ANCHOR_DAYS and date(2025, 1, 1) in ANCHOR_DAYS
    assert all(day < date(2026, 12, 1) for day in ANCHOR_DAYS), "days before the suite was written"
    assert set(CHECKPOINTS) == set(demo.CHECKPOINTS)
