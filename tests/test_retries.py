"""When the connection fails, only work that cannot have been applied is run again.

A TCP proxy (pg_proxy.py) loses the server's answer to a COMMIT: the work committed, the function
cannot know it. A write must then answer 503 and not run again (a replay would answer as if the
first attempt had not happened, or do the work twice); a read may simply be read again. A
connection the server dropped while the container was idle fails at BEGIN, before any work, and
is retried for reads and writes alike."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, one, use_environment
from pg_proxy import CommitDroppingProxy, commit_dropping_proxy
from test_demo_reset import reset_event, resets_logged
from test_workflows import save, start

from squelch import db
from squelch.errors import Unavailable


@pytest.fixture
def proxy(story: DictConnection, runtime_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CommitDroppingProxy]:
    """The functions reach the database through the proxy; the test arms it before the request."""
    with commit_dropping_proxy(runtime_url) as proxy:
        use_environment(monkeypatch, DATABASE_URL=proxy.url())
        assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 200  # warm
        yield proxy
    db.close()


def lost_connection(response: dict) -> None:
    assert response["statusCode"] == 503, response["body"]
    assert body_of(response)["error"]["code"] == "database_unavailable"


def test_saving_the_last_step_is_not_replayed_after_a_lost_commit_answer(
    story: DictConnection, proxy: CommitDroppingProxy
) -> None:
    # Given a session at step 4 of 5
    story.execute(
        "INSERT INTO demo_workflow_state (session_id, customer_id, workflow_type, total_steps, current_step)"
        " VALUES ('wf-lost-commit', 'aco-001', 'strategic_planning', 5, 4)"
    )
    # When the answer to the last step's COMMIT is lost
    proxy.drop_next_commit = True
    response = save("wf-lost-commit", 5, {"note": "done"})
    # Then the client hears the connection failed, not "session_completed" from a replay
    assert proxy.commits_dropped == 1
    lost_connection(response)
    # And the step was saved once, as the first attempt left it
    saved = story.execute(
        "SELECT completed, data FROM demo_workflow_state WHERE session_id = 'wf-lost-commit'"
    ).fetchone()
    assert saved == {"completed": True, "data": {"step_5": {"note": "done"}}}


def test_a_reset_is_not_run_twice_after_a_lost_commit_answer(story: DictConnection, proxy: CommitDroppingProxy) -> None:
    logged = resets_logged(story)
    proxy.drop_next_commit = True
    lost_connection(invoke("DemoResetFunction", reset_event()))
    assert proxy.commits_dropped == 1 and resets_logged(story) == logged + 1


def test_a_first_start_is_not_answered_as_a_second_after_a_lost_commit_answer(
    story: DictConnection, proxy: CommitDroppingProxy
) -> None:
    proxy.drop_next_commit = True
    lost_connection(start())
    assert proxy.commits_dropped == 1
    [created] = story.execute("SELECT session_id FROM demo_workflow_state").fetchall()
    # And asking again meets the session the first attempt made
    again = start()
    assert again["statusCode"] == 200 and body_of(again)["session_id"] == created["session_id"]


def test_a_read_is_read_again_after_a_lost_commit_answer(story: DictConnection, proxy: CommitDroppingProxy) -> None:
    proxy.drop_next_commit = True
    response = invoke("CustomerGetFunction", load_event("customer_get.json"))
    assert proxy.commits_dropped == 1
    assert response["statusCode"] == 200 and body_of(response)["name"] == "Obsidian Black"


def test_a_write_on_a_connection_dropped_while_idle_is_retried(story: DictConnection) -> None:
    # Given a warm container whose connection the server then terminates
    pid = db.run(lambda conn: one(conn, "SELECT pg_backend_pid() AS pid")["pid"])
    story.execute("SELECT pg_terminate_backend(%s)", [pid])
    # When the next invocation writes, then it fails at BEGIN, before any work, and is retried
    response = start()
    assert response["statusCode"] == 201, response["body"]
    assert body_of(response)["context"]["renewal_date"] == (DEMO_DAY.replace(year=2026, month=4, day=15)).isoformat()


def test_a_read_that_fails_for_another_reason_is_not_run_again(story: DictConnection) -> None:
    # Given a read the server cancels (its statement timeout): the connection itself is fine
    attempts = []

    def slow_read(conn: DictConnection) -> None:
        attempts.append(1)
        conn.execute("SET LOCAL statement_timeout = '10ms'")
        conn.execute("SELECT pg_sleep(1)")

    # Then it is reported once, not repeated
    with pytest.raises(Unavailable):
        db.run(slow_read, read_only=True)
    assert attempts == [1]


def test_idempotent_work_that_fails_for_another_reason_is_not_run_again(story: DictConnection) -> None:
    # Given work that may run twice (the migration runner's kind), which the server cancels (its statement
    # timeout) on a connection that is itself fine
    attempts = []

    def slow_work(conn: DictConnection) -> None:
        attempts.append(1)
        with conn.transaction():
            conn.execute("SET LOCAL statement_timeout = '10ms'")
            conn.execute("SELECT pg_sleep(1)")

    # When it runs, Then the server's error is raised after one attempt: only a broken connection is retried
    with pytest.raises(psycopg.errors.QueryCanceled):
        db.run_idempotent(slow_work)
    assert attempts == [1]
    # And the container's connection is still the one it had, working
    assert not db.connection().broken


def test_idempotent_work_on_a_connection_dropped_while_idle_runs_again_on_a_new_one(story: DictConnection) -> None:
    # Given a warm container whose connection the server then terminates
    pid = db.run(lambda conn: one(conn, "SELECT pg_backend_pid() AS pid")["pid"])
    story.execute("SELECT pg_terminate_backend(%s)", [pid])
    attempts = []

    def work(conn: DictConnection) -> int:
        attempts.append(1)
        return int(one(conn, "SELECT pg_backend_pid() AS pid")["pid"])

    # When idempotent work runs, Then it fails on the dead connection and runs again on a new one
    assert db.run_idempotent(work) != pid
    assert attempts == [1, 1]
