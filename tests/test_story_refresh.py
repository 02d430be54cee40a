"""The daily refresh: every sandbox whose story was seeded before today is reset to its checkpoint
around today, unless a presenter is at work in it (a reset or workflow write in the last 30
minutes); sandboxes idle past the TTL are removed instead; each refresh is in the reset log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, one, use_environment
from test_sandboxes import created, delete_event, get, rows_of, session_ids

from squelch.domain import refresh as refresh_module
from squelch.observability import metrics

TEN_DAYS_LATER = DEMO_DAY + timedelta(days=10)


def refresh() -> dict:
    return invoke("StoryRefreshFunction", load_event("story_refresh.json"))


def idle(conn: DictConnection, *names: str, minutes: int = 31) -> None:
    """The sandboxes' last reset or workflow write was this many minutes ago."""
    conn.execute(
        "UPDATE demo_sandboxes SET last_activity_at = now() - make_interval(mins => %s) WHERE name = ANY(%s)",
        [minutes, list(names)],
    )


def sandbox_row(conn: DictConnection, name: str) -> dict:
    return one(conn, "SELECT checkpoint, anchor_date, last_activity_at FROM demo_sandboxes WHERE name = %s", name)


def reset_log_size(conn: DictConnection) -> int:
    return one(conn, "SELECT count(*) AS n FROM demo_reset_log")["n"]


def last_reset_id(conn: DictConnection) -> int:
    return one(conn, "SELECT coalesce(max(reset_id), 0) AS id FROM demo_reset_log")["id"]


def ten_days_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock moves ten days past the day every story was seeded on; D follows it."""
    use_environment(monkeypatch, DEMO_TODAY=TEN_DAYS_LATER.isoformat(), DEMO_ANCHOR_DATE=None)


def one_day_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next day's refresh, D following the clock. The refresh runs daily, so a story it finds a presenter
    at work in is a day old (one further off is refreshed even then: tests/test_bounded_writes.py)."""
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=1)).isoformat(), DEMO_ANCHOR_DATE=None)


def test_a_stale_story_is_told_around_today_again(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the default story and a sandbox in the middle of planning, both seeded on D and idle
    created("mid", "act1-mid-planning")
    idle(story, "default", "mid")
    before = {name: sandbox_row(story, name) for name in ("default", "mid")}
    logged = last_reset_id(story)
    # And ten days later the story has gone stale: renewal is 133 days away
    ten_days_on(monkeypatch)
    assert body_of(get("CustomerGetFunction", None))["days_to_renewal"] == 133
    assert body_of(get("CustomerGetFunction", None))["story_age_days"] == 10
    # When the refresh runs
    summary = refresh()
    # Then both stories are told around today again, from the checkpoint each was at
    assert summary["refreshed"] == ["default", "mid"] and summary["skipped_busy"] == []
    assert summary["anchor_date"] == TEN_DAYS_LATER.isoformat()
    for name in ("default", "mid"):
        profile = body_of(get("CustomerGetFunction", name))
        assert (profile["days_to_renewal"], profile["story_age_days"]) == (143, 0)
        assert profile["story_anchor_date"] == TEN_DAYS_LATER.isoformat()
        tickets = body_of(get("TicketsListFunction", name))
        assert tickets["summary"]["spike_multiplier"] == 3.3
        after = sandbox_row(story, name)
        assert (after["checkpoint"], after["anchor_date"]) == (before[name]["checkpoint"], TEN_DAYS_LATER)
        # And the refresh is not a presenter's activity: idle sandboxes still expire
        assert after["last_activity_at"] == before[name]["last_activity_at"]
    assert len(session_ids(story, "mid")) == 1
    # And each refresh is in the reset log with its source
    log = story.execute(
        "SELECT sandbox, checkpoint, anchor_date, requested_by, source, source_ip FROM demo_reset_log "
        "WHERE reset_id > %s ORDER BY sandbox",
        [logged],
    ).fetchall()
    assert log == [
        {
            "sandbox": name,
            "checkpoint": before[name]["checkpoint"],
            "anchor_date": TEN_DAYS_LATER,
            "requested_by": "daily-refresh",
            "source": "daily_refresh",
            "source_ip": None,
        }
        for name in ("default", "mid")
    ]


def test_a_presenter_at_work_is_left_alone(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a stale sandbox written to 29 minutes ago, and another idle for 31
    created("busy"), created("quiet")
    idle(story, "default", "quiet")
    idle(story, "busy", minutes=29)
    busy_rows = rows_of(story, "busy")
    one_day_on(monkeypatch)
    # When the refresh runs
    summary = refresh()
    # Then the busy one is skipped and unchanged, the quiet one refreshed
    assert summary["refreshed"] == ["default", "quiet"] and summary["skipped_busy"] == ["busy"]
    assert rows_of(story, "busy") == busy_rows
    assert sandbox_row(story, "busy")["anchor_date"] == DEMO_DAY


def test_a_workflow_write_counts_as_activity(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an idle stale default story in which a presenter just started a workflow
    idle(story, "default")
    one_day_on(monkeypatch)
    started = invoke("WorkflowStartFunction", load_event("workflow_start.json"))
    assert started["statusCode"] == 201
    # When the refresh runs, Then the presenter's story stays as it is
    assert refresh()["skipped_busy"] == ["default"]
    assert session_ids(story, "default") == [body_of(started)["session_id"]]


def test_a_story_of_today_is_not_touched_and_a_second_run_does_nothing(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a story seeded today and idle
    idle(story, "default")
    rows, logged = rows_of(story, "default"), reset_log_size(story)
    # When the refresh runs (twice), Then nothing changes and nothing is logged
    assert refresh()["refreshed"] == [] and refresh()["refreshed"] == []
    assert rows_of(story, "default") == rows
    assert reset_log_size(story) == logged
    # And ten days later, a second run after the first finds nothing stale
    ten_days_on(monkeypatch)
    assert refresh()["refreshed"] == ["default"]
    assert refresh()["refreshed"] == []


def test_sandboxes_idle_past_the_ttl_are_removed_not_refreshed(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a sandbox idle for 15 days with a TTL of 14, and a default story idle as long
    created("forgotten")
    idle(story, "forgotten", "default", minutes=15 * 24 * 60)
    ten_days_on(monkeypatch)
    use_environment(monkeypatch, DEMO_SANDBOX_TTL_DAYS="14")
    # When the refresh runs
    summary = refresh()
    # Then the forgotten sandbox is gone; the default one is never removed, and is refreshed
    assert summary["removed_idle"] == ["forgotten"] and summary["refreshed"] == ["default"]
    assert one(story, "SELECT count(*) AS n FROM demo_sandboxes WHERE name = 'forgotten'")["n"] == 0
    assert rows_of(story, "forgotten") == {table: [] for table in rows_of(story, "forgotten")}


def test_one_sandbox_that_cannot_be_refreshed_does_not_stop_the_others(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, log_output
) -> None:
    # Given a sandbox whose checkpoint this version no longer has, beside two refreshable ones
    created("aa-orphan"), created("zz-fine")
    story.execute("UPDATE demo_sandboxes SET checkpoint = 'act0-retired' WHERE name = 'aa-orphan'")
    idle(story, "default", "aa-orphan", "zz-fine")
    orphan_rows = rows_of(story, "aa-orphan")
    ten_days_on(monkeypatch)
    # When the refresh runs, Then the others are refreshed, the orphan is left whole, and the run fails loudly
    with pytest.raises(RuntimeError, match="aa-orphan"):
        refresh()
    assert sandbox_row(story, "zz-fine")["anchor_date"] == TEN_DAYS_LATER
    assert sandbox_row(story, "default")["anchor_date"] == TEN_DAYS_LATER
    assert rows_of(story, "aa-orphan") == orphan_rows
    assert "act0-retired" in log_output.getvalue()


def test_the_refresh_counts_the_stories_it_refreshed_and_those_it_could_not(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a sandbox that cannot be refreshed (a retired checkpoint) beside the default story, both stale,
    # and the metrics a deployment emits switched on
    created("aa-orphan")
    story.execute("UPDATE demo_sandboxes SET checkpoint = 'act0-retired' WHERE name = 'aa-orphan'")
    idle(story, "default", "aa-orphan")
    ten_days_on(monkeypatch)
    metrics.clear_metrics()
    use_environment(monkeypatch, POWERTOOLS_METRICS_DISABLED="false")
    capsys.readouterr()
    # When the refresh runs (and fails for the orphan)
    with pytest.raises(RuntimeError, match="aa-orphan"):
        refresh()
    # Then it counts one story refreshed and one it could not refresh, as counts
    counted = {
        metric["Name"]: (metric["Unit"], blob[metric["Name"]])
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
        for blob in [json.loads(line)]
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }
    metrics.clear_metrics()
    assert counted["StoriesRefreshed"] == ("Count", [1.0])
    assert counted["StoryRefreshFailures"] == ("Count", [1.0])


def test_a_story_reset_since_the_survey_is_left_as_its_presenter_made_it(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a story the survey found stale, which a presenter then reset around today before its turn came
    ten_days_on(monkeypatch)
    assert invoke("DemoResetFunction", load_event("demo_reset.json"))["statusCode"] == 200
    idle(story, "default")
    rows, logged = rows_of(story, "default"), reset_log_size(story)
    # When the refresh reaches it, Then it finds it current and leaves it alone, logging nothing
    assert refresh_module._refresh("default", TEN_DAYS_LATER) == "current"
    assert rows_of(story, "default") == rows and reset_log_size(story) == logged


def test_a_sandbox_deleted_since_the_survey_is_nothing_to_do(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stale, idle sandbox the survey found, which a presenter then deleted before its turn came
    # (a delete while the refresh is at work on it: test_sandbox_races.py)
    created("gone")
    idle(story, "gone")
    ten_days_on(monkeypatch)
    assert sandbox_row(story, "gone")["anchor_date"] < TEN_DAYS_LATER  # stale: the survey lists it
    assert invoke("SandboxDeleteFunction", delete_event("gone"))["statusCode"] == 204
    logged = reset_log_size(story)
    # When the refresh reaches it, Then it is current (nothing to refresh), not an error, and brings nothing back
    assert refresh_module._refresh("gone", TEN_DAYS_LATER) == "current"
    assert one(story, "SELECT count(*) AS n FROM demo_sandboxes WHERE name = 'gone'")["n"] == 0
    assert rows_of(story, "gone") == {table: [] for table in rows_of(story, "gone")}
    assert reset_log_size(story) == logged


def test_saving_a_step_counts_as_activity(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a workflow started long ago in an idle, stale default story
    started = invoke("WorkflowStartFunction", load_event("workflow_start.json"))
    session_id = body_of(started)["session_id"]
    idle(story, "default")
    one_day_on(monkeypatch)
    # When the presenter saves a step, and then the refresh runs
    event = load_event("workflow_step_save.json")
    path = event["rawPath"].replace("wf-example-session-0001", session_id)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"session_id": session_id}
    event["body"] = json.dumps({"step": 1, "data": {}})
    assert invoke("WorkflowStepSaveFunction", event)["statusCode"] == 200
    # Then the presenter's story stays as it is
    assert refresh()["skipped_busy"] == ["default"]
    assert session_ids(story, "default") == [session_id]


@pytest.mark.parametrize("days_ahead", [311, 5])
def test_a_story_dated_ahead_is_told_around_today_again(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, days_ahead: int
) -> None:
    # Given a rehearsal with DEMO_ANCHOR_DATE pinned ahead of today, then a plain run again, the sandbox idle
    use_environment(monkeypatch, DEMO_ANCHOR_DATE=(DEMO_DAY + timedelta(days=days_ahead)).isoformat())
    created("rehearsal")
    idle(story, "default", "rehearsal")
    use_environment(monkeypatch, DEMO_ANCHOR_DATE=None)
    assert sandbox_row(story, "rehearsal")["anchor_date"] == DEMO_DAY + timedelta(days=days_ahead)
    # When the refresh runs
    summary = refresh()
    # Then the story dated ahead is told around today, as one dated behind would be; today's is left alone
    assert summary["refreshed"] == ["rehearsal"]
    profile = body_of(get("CustomerGetFunction", "rehearsal"))
    assert (profile["days_to_renewal"], profile["story_age_days"]) == (143, 0)
