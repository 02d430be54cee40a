"""A sandbox's lifecycle against its writers: deletes (the route, idle removal, the refresh's) take the
sandbox's story lock as resets do, so whatever the interleaving a delete serialises with the
sandbox's writers: a writer in a sandbox deleted under it gets 404 sandbox_not_found, nothing
deadlocks, the refresh never brings a deleted sandbox back, and the sandbox limit holds.

Each test makes one interleaving happen for sure: a transaction of the test's own holds a lock (a
row, a unique slot, an advisory lock) that the first request must wait for, the next request is
sent once the first waits, and the test lets go once both wait (pg_stat_activity says so)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, one, use_environment
from test_sandboxes import created, delete_event, in_sandbox, reset, start_in, wait_for_lock_waiters
from test_story_refresh import idle
from test_workflows import with_session

from squelch import db
from squelch.errors import Unavailable


class Running:
    """A request sent on a thread of its own (a client of its own); its answer once it has one."""

    def __init__(self, action: Callable[[], Any]) -> None:
        import threading

        self._answer: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(action,), daemon=True)
        self._thread.start()

    def _run(self, action: Callable[[], Any]) -> None:
        try:
            self._answer = action()
        except BaseException as error:
            self._error = error
        finally:
            db.close()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def answer(self, timeout: float = 20) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "no answer"
        if self._error is not None:
            raise self._error
        return self._answer


def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def lock_waiters(conn: psycopg.Connection[Any]) -> int:
    with psycopg.connect(conn.info.dsn, password=conn.info.password, autocommit=True) as watcher:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        row = watcher.execute(query).fetchone()
        return int(row[0]) if row else 0


def delete(name: str) -> dict[str, Any]:
    return invoke("SandboxDeleteFunction", delete_event(name))


def save_in(name: str, session_id: str, step: int) -> dict[str, Any]:
    event = in_sandbox(with_session("workflow_step_save.json", session_id), name)
    event["body"] = json.dumps({"step": step, "data": {"note": "racing"}})
    return invoke("WorkflowStepSaveFunction", event)


def sandbox_names(conn: DictConnection) -> list[str]:
    return [r["name"] for r in conn.execute("SELECT name FROM demo_sandboxes ORDER BY name").fetchall()]


def error_code(response: dict[str, Any]) -> str:
    return str(body_of(response)["error"]["code"])


# ---- a delete against the sandbox's writers


def test_a_workflow_start_racing_a_delete_never_answers_5xx(story: DictConnection, app_database: str) -> None:
    # Given alpha, whose open planning slot another start holds, not yet committed
    created("alpha")
    with psycopg.connect(app_database) as holder:
        holder.execute(
            "INSERT INTO demo_workflow_state (sandbox, session_id, customer_id, workflow_type, total_steps)"
            " VALUES ('alpha', 'wf-holding-the-slot', 'aco-001', 'strategic_planning', 5)"
        )
        # When a start in alpha waits for that slot, and alpha's delete comes in meanwhile
        starting = Running(lambda: start_in("alpha"))
        wait_for_lock_waiters(holder, 1)
        deleting = Running(lambda: delete("alpha"))
        wait_for_lock_waiters(holder, 2)
        holder.rollback()
    # Then the start, which came first, made its session, and the delete then removed alpha: no 500
    # (a foreign key meeting the deleted customer), no 503 (a deadlock taken for a lost connection)
    started, deleted = starting.answer(), deleting.answer()
    assert (started["statusCode"], deleted["statusCode"]) == (201, 204), (started["body"], deleted.get("body"))
    assert "alpha" not in sandbox_names(story)
    assert one(story, "SELECT count(*) AS n FROM demo_workflow_state WHERE sandbox = 'alpha'")["n"] == 0


def test_a_step_saved_while_its_sandbox_is_deleted_is_a_404_not_a_deadlock(
    story: DictConnection, app_database: str
) -> None:
    # Given alpha with an open session, and a delete of alpha that has to wait for alpha's row
    created("alpha")
    session_id = body_of(start_in("alpha"))["session_id"]
    with psycopg.connect(app_database) as holder:
        holder.execute("SELECT 1 FROM demo_sandboxes WHERE name = 'alpha' FOR UPDATE")
        deleting = Running(lambda: delete("alpha"))
        wait_for_lock_waiters(holder, 1)
        # When a step is saved in alpha meanwhile
        saving = Running(lambda: save_in("alpha", session_id, 1))
        wait_for_lock_waiters(holder, 2)
        holder.rollback()
    # Then the delete goes through, and the step save, which came second, finds no sandbox: no
    # deadlock, and above all no "the change may have been applied"
    deleted, saved = deleting.answer(), saving.answer()
    assert deleted["statusCode"] == 204, deleted.get("body")
    assert saved["statusCode"] == 404 and error_code(saved) == "sandbox_not_found", saved["body"]
    assert "alpha" not in sandbox_names(story)


def test_idle_removal_leaves_a_sandbox_a_presenter_is_writing_to(
    story: DictConnection, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given beta, idle for 15 days (TTL 14), in which a step save is under way (waiting for its session's row)
    use_environment(monkeypatch, DEMO_SANDBOX_TTL_DAYS="14")
    created("beta")
    session_id = body_of(start_in("beta"))["session_id"]
    idle(story, "beta", minutes=15 * 24 * 60)
    with psycopg.connect(app_database) as holder:
        holder.execute("SELECT 1 FROM demo_workflow_state WHERE session_id = %s FOR UPDATE", [session_id])
        saving = Running(lambda: save_in("beta", session_id, 1))
        wait_for_lock_waiters(holder, 1)
        # When gamma is created, which removes idle sandboxes first
        creating = Running(lambda: reset("gamma"))
        until(lambda: creating.done or lock_waiters(holder) >= 2)
        holder.rollback()
    # Then gamma is made, beta (in use) is kept, and the step is saved: nothing deadlocked
    made, saved = creating.answer(), saving.answer()
    assert made["statusCode"] == 200 and body_of(made)["created"], made["body"]
    assert saved["statusCode"] == 200, saved["body"]
    assert {"beta", "gamma"} <= set(sandbox_names(story))


def test_the_refresh_never_brings_a_deleted_sandbox_back(
    story: DictConnection, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alpha and the default story, stale (ten days old) and idle, and a delete of alpha that has
    # to wait for alpha's row
    created("alpha")
    idle(story, "default", "alpha")
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=10)).isoformat(), DEMO_ANCHOR_DATE=None)
    with psycopg.connect(app_database) as holder:
        holder.execute("SELECT 1 FROM demo_sandboxes WHERE name = 'alpha' FOR UPDATE")
        deleting = Running(lambda: delete("alpha"))
        wait_for_lock_waiters(holder, 1)
        # When the daily refresh reaches alpha meanwhile
        refreshing = Running(lambda: invoke("StoryRefreshFunction", load_event("story_refresh.json")))
        wait_for_lock_waiters(holder, 2)
        holder.rollback()
    # Then alpha stays deleted: the refresh found nothing to refresh there, and refreshed the default story
    assert deleting.answer()["statusCode"] == 204
    summary = refreshing.answer()
    assert summary["refreshed"] == ["default"] and summary["failed"] == []
    assert sandbox_names(story) == ["default"]
    assert one(story, "SELECT count(*) AS n FROM demo_customers WHERE sandbox = 'alpha'")["n"] == 0


# ---- the sandbox limit


def test_the_limit_holds_when_a_reset_meets_the_delete_of_its_sandbox(
    story: DictConnection, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a limit of two sandboxes, reached by default and alpha, and a reset of alpha that waits
    # for alpha's story (a reset of it under way)
    use_environment(monkeypatch, DEMO_MAX_SANDBOXES="2")
    created("alpha")
    counts: list[int] = []
    with psycopg.connect(app_database) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('squelch.story'), hashtext('alpha'))")
        resetting = Running(lambda: reset("alpha"))
        wait_for_lock_waiters(holder, 1)
        # When alpha is deleted meanwhile, and beta created
        deleting = Running(lambda: delete("alpha"))
        until(lambda: deleting.done or lock_waiters(holder) >= 2)
        creating_beta = reset("beta")
        counts.append(len(sandbox_names(story)))
        holder.rollback()
    reset_alpha, deleted = resetting.answer(), deleting.answer()
    counts.append(len(sandbox_names(story)))
    # Then there were never more than two sandboxes, and every answer says what happened
    assert max(counts) <= 2, (counts, sandbox_names(story))
    assert creating_beta["statusCode"] in (200, 409), creating_beta["body"]
    assert reset_alpha["statusCode"] in (200, 409), reset_alpha["body"]
    assert deleted["statusCode"] == 204


def test_two_creations_of_one_name_with_one_place_left_both_meet_the_sandbox(
    story: DictConnection, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given room for one more sandbox beside the default one, and another creation counting sandboxes
    use_environment(monkeypatch, DEMO_MAX_SANDBOXES="2")
    with psycopg.connect(app_database) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('squelch.sandboxes'), 0)")
        # When two presenters create alpha at the same time
        first, second = Running(lambda: reset("alpha")), Running(lambda: reset("alpha"))
        wait_for_lock_waiters(holder, 2)
        holder.rollback()
    # Then one creates it and the other resets the sandbox it meets, as a repeated reset does
    answers = [first.answer(), second.answer()]
    assert [a["statusCode"] for a in answers] == [200, 200], [a["body"] for a in answers]
    assert sorted(body_of(a)["created"] for a in answers) == [False, True]
    assert sandbox_names(story) == ["alpha", "default"]


# ---- what a rolled-back transaction is told


def test_a_transaction_the_server_rolled_back_to_break_a_deadlock_runs_again(story: DictConnection) -> None:
    # Given work that PostgreSQL rolls back once to break a deadlock (SQLSTATE 40P01)
    attempts: list[int] = []

    def work(conn: psycopg.Connection[Any]) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            conn.execute("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END $$")
        return "saved"

    # When it is run as a write, Then it runs again and succeeds
    assert db.run(work) == "saved" and len(attempts) == 2


@pytest.mark.parametrize("sqlstate", ["deadlock_detected", "serialization_failure"])
def test_a_write_rolled_back_every_time_says_nothing_was_applied(story: DictConnection, sqlstate: str) -> None:
    # Given a write that PostgreSQL rolls back every time it runs
    attempts: list[int] = []

    def work(conn: psycopg.Connection[Any]) -> None:
        attempts.append(1)
        conn.execute(f"DO $$ BEGIN RAISE EXCEPTION 'rolled back' USING ERRCODE = '{sqlstate}'; END $$")

    # When it is run, Then it is tried a few times and the answer says nothing was applied: a 503 to retry
    with pytest.raises(Unavailable) as raised:
        db.run(work)
    assert raised.value.code == "database_conflict" and raised.value.retry_after
    assert "nothing was applied" in raised.value.message and "may have been applied" not in raised.value.message
    assert len(attempts) == 3


def test_a_write_the_server_refused_is_not_a_lost_connection(story: DictConnection) -> None:
    # Given a write the server cancels (its statement timeout), over a connection that stays up
    def work(conn: psycopg.Connection[Any]) -> None:
        conn.execute("SET LOCAL statement_timeout = '10ms'")
        conn.execute("SELECT pg_sleep(1)")

    # When it is run, Then the answer says nothing was applied, not that the change may have been
    with pytest.raises(Unavailable) as raised:
        db.run(work)
    assert "nothing was applied" in raised.value.message and "may have been applied" not in raised.value.message
