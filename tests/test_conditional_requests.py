"""Conditional GETs: the customer-context routes and the workflow context answer with a strong
ETag that changes exactly when the answer would (the sandbox's story version, the day, the
request), and answer If-None-Match with the current tag by 304 with no body, sending one
statement to PostgreSQL and running nothing of the route."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, one, use_environment
from test_sandboxes import created, in_sandbox
from test_workflows import save, start, with_session

from localdev.server import free_port
from squelch import clock, db
from squelch.db.connection import STORY_VERSION
from squelch.domain import demo
from squelch.http import conditional

ROUTES = {
    "CustomerGetFunction": "customer_get.json",
    "ContactsListFunction": "contacts_list.json",
    "OperationsListFunction": "operations_list.json",
    "HealthGetFunction": "health_get.json",
    "TicketsListFunction": "tickets_list.json",
    "OpportunitiesListFunction": "opportunities_list.json",
    "WorkflowContextGetFunction": "workflow_context_get.json",
}
STRONG_TAG = re.compile(r'^"[A-Za-z0-9_-]{24}"$')


class Client:
    """Calls one route as a browser's cache would: remembering the last ETag and sending it back."""

    def __init__(self, function: str, session_id: str) -> None:
        self.function, self.session_id = function, session_id

    def event(self, sandbox: str | None = None, **headers: str) -> dict[str, Any]:
        name = ROUTES[self.function]
        session_route = self.function == "WorkflowContextGetFunction"
        event = with_session(name, self.session_id) if session_route else load_event(name)
        event["headers"] = {**event["headers"], **headers}
        return in_sandbox(event, sandbox)

    def get(self, sandbox: str | None = None, **headers: str) -> dict[str, Any]:
        return invoke(self.function, self.event(sandbox, **headers))

    def revalidate(self, tag: str, sandbox: str | None = None) -> dict[str, Any]:
        return self.get(sandbox, **{"if-none-match": tag})


@pytest.fixture
def session_id(story: DictConnection) -> str:
    response = start()
    assert response["statusCode"] == 201, response["body"]
    return str(body_of(response)["session_id"])


@pytest.fixture(params=list(ROUTES))
def client(request: pytest.FixtureRequest, session_id: str) -> Client:
    return Client(request.param, session_id)


class StatementLog:
    """Every statement the functions send, through any cursor."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __enter__(self) -> StatementLog:
        self._original = psycopg.Cursor.execute
        log, original = self, self._original

        def execute(cursor: psycopg.Cursor[Any], query: Any, params: Any = None, **kwargs: Any) -> Any:
            log.statements.append(str(query))
            return original(cursor, query, params, **kwargs)

        psycopg.Cursor.execute = execute  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.Cursor.execute = self._original  # type: ignore[method-assign]


def etag(response: dict[str, Any]) -> str:
    tag = response["headers"].get("ETag")
    assert tag is not None and STRONG_TAG.match(tag), response["headers"]
    return str(tag)


def assert_not_modified(response: dict[str, Any], tag: str) -> None:
    assert response["statusCode"] == 304, response.get("body")
    assert response["body"] == ""
    assert response["headers"]["ETag"] == tag
    assert response["headers"]["Cache-Control"] == conditional.CACHE_CONTROL
    assert "Content-Type" not in response["headers"]
    assert_varies(response)


def assert_varies(response: dict[str, Any]) -> None:
    names = {name.strip().lower() for name in response["headers"]["Vary"].split(",")}
    assert {"x-demo-sandbox", "origin", "accept-encoding"} <= names, response["headers"]


def assert_new_answer(response: dict[str, Any], old_tag: str) -> str:
    assert response["statusCode"] == 200, response["body"]
    tag = etag(response)
    assert tag != old_tag
    return tag


def test_every_answer_has_a_strong_tag_and_the_caching_headers(client: Client) -> None:
    # Given the story
    # When a route answers
    response = client.get()
    # Then it has a strong ETag, may be kept but always revalidated, and says what it varies by
    assert response["statusCode"] == 200, response["body"]
    etag(response)
    assert response["headers"]["Cache-Control"] == "private, no-cache"
    assert_varies(response)
    # And the same request again gives the same tag: nothing changed
    assert client.get()["headers"]["ETag"] == response["headers"]["ETag"]


def test_a_repeat_with_the_current_tag_is_304_after_one_statement(client: Client) -> None:
    # Given an answer and its tag
    tag = etag(client.get())
    # When the client asks again with it
    with StatementLog() as log:
        response = client.revalidate(tag)
    # Then it is 304 with no body and the same tag, and the only statement read the version
    assert_not_modified(response, tag)
    assert log.statements == [STORY_VERSION]


def test_a_reset_changes_every_tag(client: Client, story: DictConnection) -> None:
    # Given a tag of the story as it was
    tag = etag(client.get())
    # When the story is reset (the session, made before it, is seeded again for the context route)
    demo.reset(story, DEMO_DAY)
    if client.function == "WorkflowContextGetFunction":
        client.session_id = str(body_of(start())["session_id"])
    # Then the old tag is not current: a full answer with a new one
    new = assert_new_answer(client.revalidate(tag), tag)
    assert_not_modified(client.revalidate(new), new)


def test_a_workflow_write_changes_every_tag(client: Client) -> None:
    # Given a tag
    tag = etag(client.get())
    # When a workflow step is saved (one version for the whole story: every route revalidates)
    assert save(client.session_id, 1, {"contract": "reviewed"})["statusCode"] == 200
    # Then the old tag gets the new answer
    response = client.revalidate(tag)
    assert_new_answer(response, tag)
    if client.function == "WorkflowContextGetFunction":
        assert body_of(response)["data"] == {"step_1": {"contract": "reviewed"}}


def test_another_sandbox_never_takes_a_tag_of_this_one(client: Client) -> None:
    # Given a tag of the default sandbox, and another sandbox with the same story
    tag = etag(client.get())
    created("acme")
    # When the other sandbox is asked with it
    response = client.revalidate(tag, sandbox="acme")
    # Then it answers for itself: the customer routes with their own tag, the session (only the
    # default sandbox has it) with 404
    if client.function == "WorkflowContextGetFunction":
        assert response["statusCode"] == 404
        assert body_of(response)["error"]["code"] == "session_not_found"
    else:
        assert_new_answer(response, tag)


def test_the_next_day_changes_every_tag(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a tag on the demo day
    tag = etag(client.get())
    # When the day changes (the derived fields count from it)
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=1)).isoformat())
    # Then the old tag is not current
    new = assert_new_answer(client.revalidate(tag), tag)
    assert_not_modified(client.revalidate(new), new)


def test_another_customer_reference_has_its_own_tag(story: DictConnection) -> None:
    # Given the profile by slug
    by_slug = invoke("CustomerGetFunction", load_event("customer_get.json"))
    # When it is asked by id with the slug's tag
    event = load_event("customer_get.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/customers/aco-001"
    event["pathParameters"] = {"customer_ref": "aco-001"}
    event["headers"] = {**event["headers"], "if-none-match": by_slug["headers"]["ETag"]}
    by_id = invoke("CustomerGetFunction", event)
    # Then the route's inputs are part of the tag: another request, another tag
    assert_new_answer(by_id, etag(by_slug))


@pytest.mark.parametrize(
    "header",
    [
        "{tag}",
        "W/{tag}",
        '"other", {tag}',
        '"other",{tag} ,  "more"',
        # RFC 9110 5.6.1: empty list elements are ignored
        "{tag}, ",
        ", {tag}",
        '"other",, {tag}',
        " , ,{tag},,",
    ],
)
def test_if_none_match_is_a_list_compared_weakly(story: DictConnection, header: str) -> None:
    # Given the profile's tag
    client = Client("CustomerGetFunction", "")
    tag = etag(client.get())
    # When it is sent weak, or in a list
    response = client.revalidate(header.format(tag=tag))
    # Then it matches (RFC 9110: If-None-Match compares weakly)
    assert_not_modified(response, tag)


@pytest.mark.parametrize("header", ['"nope"', "not-a-tag", '"unterminated', '"a" "b"', "", '*, "x"', '"a\\"b"'])
def test_tags_that_do_not_match_get_the_answer(story: DictConnection, header: str) -> None:
    # Given a client with a tag that is not the current one, or not a tag at all
    client = Client("CustomerGetFunction", "")
    # When it asks
    response = client.revalidate(header)
    # Then it gets the answer, and the route ran
    assert response["statusCode"] == 200, response["body"]
    assert body_of(response)["customer_id"] == "aco-001"
    etag(response)


def test_a_star_is_304_only_when_there_is_an_answer(story: DictConnection) -> None:
    # Given the profile and an unknown customer
    client = Client("CustomerGetFunction", "")
    tag = etag(client.get())
    # When both are asked with If-None-Match: *
    answer = client.revalidate("*")
    event = client.event(**{"if-none-match": "*"})
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/customers/nobody"
    event["pathParameters"] = {"customer_ref": "nobody"}
    missing = invoke("CustomerGetFunction", event)
    # Then the customer's is 304 with its tag, the unknown one still 404
    assert_not_modified(answer, tag)
    assert missing["statusCode"] == 404
    assert "ETag" not in missing["headers"]


def test_errors_have_no_tag_and_are_not_kept(story: DictConnection) -> None:
    # Given an unknown customer, and an unknown sandbox
    client = Client("CustomerGetFunction", "")
    event = client.event()
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/customers/nobody"
    event["pathParameters"] = {"customer_ref": "nobody"}
    # When they are asked
    for response in (invoke("CustomerGetFunction", event), client.get(sandbox="nowhere")):
        # Then they are errors with no tag, revalidated like any answer of the route
        assert response["statusCode"] == 404
        assert "ETag" not in response["headers"]
        assert response["headers"]["Cache-Control"] == conditional.CACHE_CONTROL


def test_a_tag_from_an_unknown_sandbox_is_still_its_404(story: DictConnection) -> None:
    # Given a tag of a sandbox that is then deleted
    created("gone")
    client = Client("CustomerGetFunction", "")
    tag = etag(client.get(sandbox="gone"))
    story.execute("DELETE FROM demo_sandboxes WHERE name = 'gone'")
    # When the client revalidates it
    response = client.revalidate(tag, sandbox="gone")
    # Then the sandbox is not found: no version, no 304
    assert response["statusCode"] == 404
    assert body_of(response)["error"]["code"] == "sandbox_not_found"


def test_a_sandbox_made_again_never_repeats_a_tag(story: DictConnection) -> None:
    # Given a tag of a sandbox, which is deleted and made again from the same checkpoint
    created("again")
    client = Client("CustomerGetFunction", "")
    tag = etag(client.get(sandbox="again"))
    story.execute("DELETE FROM demo_sandboxes WHERE name = 'again'")
    created("again")
    # When the old tag is sent
    response = client.revalidate(tag, sandbox="again")
    # Then it is not current (the new sandbox's version was never handed out before)
    assert_new_answer(response, tag)


def test_a_post_has_no_tag(story: DictConnection) -> None:
    # Given a write route
    # When it answers
    response = start("aco-001", "risk_detection")
    # Then it has no validator and no revalidation policy (only the GETs of the story have them)
    assert response["statusCode"] == 201
    assert "ETag" not in response["headers"] and "Cache-Control" not in response["headers"]
    assert_varies(response)


@pytest.fixture
def day_turns_while_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock reads the demo day when the request starts, the next day every time after."""
    days = iter([DEMO_DAY])

    def today() -> Any:
        return next(days, DEMO_DAY + timedelta(days=1))

    monkeypatch.setattr(clock, "today", today)


def test_an_answer_made_across_midnight_has_no_tag(story: DictConnection, day_turns_while_answering: None) -> None:
    # Given a request that starts on one day and ends on the next
    # When the route answers
    response = Client("CustomerGetFunction", "").get()
    # Then its body may count from either day: it gets no tag rather than a wrong one
    assert response["statusCode"] == 200
    assert "ETag" not in response["headers"]


def test_the_tag_covers_the_code(story: DictConnection, tmp_path: Any) -> None:
    # Given two versions of a route's module
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text("ANSWER = 1\n")
    second.write_text("ANSWER = 2\n")
    # When their fingerprints are taken
    one_code, other_code = conditional.code_fingerprint([str(first)]), conditional.code_fingerprint([str(second)])
    # Then a deployment that changes a route changes every tag of the same story and day
    assert one_code != other_code
    request = conditional.Revalidation(one_code, "default", "GET /api/customers/aco?")
    changed = conditional.Revalidation(other_code, "default", "GET /api/customers/aco?")
    assert request.tag(1) != changed.tag(1)
    assert request.tag(1) == conditional.Revalidation(one_code, "default", "GET /api/customers/aco?").tag(1)


def test_a_tag_names_one_snapshot(story: DictConnection) -> None:
    # Given a route whose reads saw two versions of the story (two transactions, a write between)
    request = conditional.Revalidation(b"code", "default", "GET /x?")

    def two_reads() -> None:
        with db.reporting_story_version(request.versions.add):
            db.run(lambda conn: None, read_only=True)
            story.execute("UPDATE demo_contacts SET name = name")
            db.run(lambda conn: None, read_only=True)

    two_reads()
    # Then there is no one version its answer is of: no tag
    assert len(request.versions) == 2
    assert request.current_tag() is None


def version(conn: DictConnection, sandbox: str = "default") -> int:
    return int(one(conn, "SELECT version FROM demo_sandboxes WHERE name = %s", sandbox)["version"])


Write = Callable[[DictConnection, str], object]


def step_one(conn: DictConnection, session: str) -> object:
    return save(session, 1, {"a": 1})


WRITES: dict[str, Write] = {
    "presenter reset": lambda conn, session: created("default"),
    "reset to a checkpoint": lambda conn, session: created("default", "act1-planned"),
    "new workflow session": lambda conn, session: start("aco-001", "risk_detection"),
    "step saved": step_one,
    "plan completed": lambda conn, session: conn.execute("SELECT demo_complete_plan('aco-001')"),
    "owner's fix by hand, no sandbox named": lambda conn, session: conn.execute(
        "RESET squelch.sandbox; UPDATE demo_contacts SET name = name WHERE sandbox = 'default'"
    ),
    "owner's delete": lambda conn, session: conn.execute("DELETE FROM demo_operations WHERE sandbox = 'default'"),
    "anchor day": lambda conn, session: conn.execute(
        "UPDATE demo_sandboxes SET anchor_date = anchor_date - 1 WHERE name = 'default'"
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_to_the_story_bumps_its_version_and_no_other(
    story: DictConnection, session_id: str, write: str
) -> None:
    # Given the default sandbox and another one
    created("bystander")
    before, bystander = version(story), version(story, "bystander")
    # When the story is written to
    WRITES[write](story, session_id)
    # Then its version moved on, and the other sandbox's did not
    assert version(story) > before
    assert version(story, "bystander") == bystander


def test_the_daily_refresh_bumps_the_version(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a story seeded on the demo day, and a presenter idle for an hour
    before = version(story)
    story.execute("UPDATE demo_sandboxes SET last_activity_at = now() - interval '1 hour'")
    # When the refresh runs ten days later
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=10)).isoformat(), DEMO_ANCHOR_DATE=None)
    report = invoke("StoryRefreshFunction", load_event("story_refresh.json"))
    # Then the story was re-seeded, with a new version
    assert report["refreshed"] == ["default"]
    assert version(story) > before


def test_reads_and_answers_without_change_keep_the_version(story: DictConnection, session_id: str) -> None:
    # Given the story and an open session
    before = version(story)
    # When every route reads, and a start meets the open session (a touch, no change to the story)
    for function in ROUTES:
        Client(function, session_id).get()
    assert start()["statusCode"] == 200
    # Then the version is the same: answers did not change, so tags do not either
    assert version(story) == before


def test_the_version_moves_with_the_writing_transaction(story: DictConnection, app_database: str) -> None:
    # Given the version before
    before = version(story)
    # When a transaction writes, is looked at from outside, and rolls back
    with psycopg.connect(app_database) as writer:
        writer.execute("SELECT set_config('squelch.sandbox', 'default', true)")
        writer.execute("UPDATE demo_contacts SET name = name")
        inside = writer.execute("SELECT version FROM demo_sandboxes WHERE name = 'default'").fetchone()
        outside = version(story)
        writer.rollback()
    # Then the bump is part of the write: seen inside, not outside, gone with the rollback
    assert inside is not None and inside[0] > before
    assert outside == before
    assert version(story) == before


def test_the_answer_and_its_tag_come_from_one_snapshot(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a route whose read is overtaken by a write committed right after it entered the sandbox
    client = Client("ContactsListFunction", "")
    connection = sys.modules["squelch.db.connection"]  # the package's `connection` is the function of that name
    enter = connection._enter_sandbox

    def enter_then_write(conn: Any, name: str, creates_sandbox: bool) -> int | None:
        found = enter(conn, name, creates_sandbox)
        story.execute("UPDATE demo_contacts SET name = 'Renamed' WHERE is_primary")
        return found

    monkeypatch.setattr(connection, "_enter_sandbox", enter_then_write)
    # When it answers
    response = client.get()
    monkeypatch.undo()
    # Then the body is of the version its tag names: the old name, and a tag that is no longer current
    assert "Renamed" not in json.dumps(body_of(response))
    assert_new_answer(client.revalidate(etag(response)), etag(response))


def test_one_statement_over_two_sandboxes_bumps_both(story: DictConnection) -> None:
    # Given two sandboxes with the same story
    created("second")
    before = version(story), version(story, "second")
    # When the owner changes rows of both in one statement
    story.execute("UPDATE demo_contacts SET name = name WHERE sandbox IN ('default', 'second')")
    # Then both versions moved on
    assert version(story) > before[0] and version(story, "second") > before[1]


def test_a_write_undone_by_a_savepoint_leaves_the_next_write_to_bump(story: DictConnection, runtime_url: str) -> None:
    # Given the version before, and the API's login (row-level security holds it to its sandbox)
    before = version(story)
    with psycopg.connect(runtime_url) as writer:
        writer.execute("SELECT set_config('squelch.sandbox', 'default', true)")
        # When a write is rolled back to a savepoint, and another write follows in the same transaction
        writer.execute("SAVEPOINT undone")
        writer.execute("UPDATE demo_contacts SET name = name")
        writer.execute("ROLLBACK TO SAVEPOINT undone")
        writer.execute("UPDATE demo_operations SET name = name")
        writer.commit()
    # Then the write that stayed bumped the version (the undone bump was forgotten with it)
    assert version(story) > before


def test_a_revalidation_without_a_database_is_the_routes_503(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a tag, then a database that refuses connections
    client = Client("CustomerGetFunction", "")
    tag = etag(client.get())
    use_environment(monkeypatch, DATABASE_URL=f"postgresql://squelch@127.0.0.1:{free_port()}/squelch")
    # When the client revalidates
    response = client.revalidate(tag)
    # Then it gets the route's own answer to that: 503 in the error shape, not a crash and not a 304
    assert response["statusCode"] == 503
    assert body_of(response)["error"]["code"] == "database_unavailable"


def test_two_sandboxes_at_the_same_story_version_never_share_a_tag(story: DictConnection) -> None:
    # Given another sandbox with the same story, and both sandboxes' stories at the same version
    created("acme")
    story.execute("UPDATE demo_sandboxes SET version = 42 WHERE name IN ('default', 'acme')")
    assert {row["version"] for row in story.execute("SELECT version FROM demo_sandboxes").fetchall()} == {42}
    # When the same route is read in each, Then their tags differ: a tag names its sandbox, not only the version
    default, acme = (
        etag(invoke("CustomerGetFunction", in_sandbox(load_event("customer_get.json"), name)))
        for name in ("default", "acme")
    )
    assert default != acme


def test_the_sandbox_listing_has_no_tag(story: DictConnection) -> None:
    # Given the listing of every sandbox (no one sandbox's story version says when it changes)
    event = load_event("sandboxes_list.json")
    # When it is read, and read again with a tag a story route gave for the default sandbox
    first = invoke("SandboxesListFunction", event)
    story_tag = etag(invoke("CustomerGetFunction", load_event("customer_get.json")))
    again = invoke("SandboxesListFunction", {**event, "headers": {**event["headers"], "if-none-match": story_tag}})
    # Then it is answered in full each time, with no tag to revalidate
    assert first["statusCode"] == again["statusCode"] == 200
    assert "ETag" not in first["headers"] and "ETag" not in again["headers"]
