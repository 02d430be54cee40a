"""The warm-up event: every function of template.yaml answers {"squelch_warmup": {...}} by opening and
checking what a first request would (its database connection with SELECT 1, then the story tables' catalog
in a read-only transaction that enters a sandbox no sandbox can be named), and says whether it was cold and
how long each part took; it reads and writes no story data. Through the HTTP API
the same words are an ordinary request, so no caller can send it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from conftest import DictConnection, body_of, http_request, invoke, load_event, use_environment

from localdev import runtime, template
from squelch import db, queries, warmup
from squelch.db import sandbox
from squelch.db.connection import ENTER_SANDBOX, NO_SANDBOX
from squelch.queries import WARM_CATALOG, numbered, warm_up_sql

FUNCTIONS = sorted(template.load())
WITHOUT_DATABASE = {"ConsoleGetFunction"}  # the console's page: no secret, no connection
EVENT = {"squelch_warmup": {"reason": "preflight"}}


def table_counts(conn: DictConnection) -> dict[str, Any]:
    """Every table's row count, and every sandbox's story version and last activity: what any read that
    touches a sandbox (its last activity) or write (its version, its rows) would change."""
    tables = [
        row["tablename"]
        for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    ]
    counts: dict[str, Any] = {t: one_value(conn, f'SELECT count(*) AS n FROM "{t}"') for t in tables}
    counts["sandboxes"] = conn.execute(
        "SELECT name, version, last_activity_at, anchor_date FROM demo_sandboxes ORDER BY name"
    ).fetchall()
    return counts


def one_value(conn: DictConnection, query: str) -> Any:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row["n"]


@dataclass
class Sent:
    statements: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (statement, the server's error's name)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Every SQL statement the functions send through psycopg while the test runs (a connection's execute
    goes through a cursor's), and those the server answered with an error."""
    log = Sent()
    original = psycopg.Cursor.execute

    def recording(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        text = query if isinstance(query, str) else repr(query)
        log.statements.append(text)
        try:
            return original(self, query, *args, **kwargs)
        except psycopg.Error as error:
            log.failures.append((text, type(error).__name__))
            raise

    monkeypatch.setattr(psycopg.Cursor, "execute", recording)
    return log


@pytest.fixture
def statements(sent: Sent) -> list[str]:
    return sent.statements


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_function_answers_the_warm_up_without_touching_story_data(
    story: DictConnection, sent: Sent, statements: list[str], function_id: str
) -> None:
    # Given new containers of the function, and the story's rows as they stand
    runtime.unload_all()
    before = table_counts(story)
    statements.clear()
    # When the warm-up event arrives twice
    first = invoke(function_id, EVENT)
    second = invoke(function_id, {"squelch_warmup": {}})
    # Then the first was the container's cold start, the second found it warm, both in the contract's shape
    assert set(first) == {"warm", "function", "cold", "timings_ms", "database"}
    assert set(first["timings_ms"]) == {"init", "secret", "connect"}
    assert first["warm"] is True and first["function"] == function_id
    assert first["cold"] is True and second["cold"] is False
    assert isinstance(first["timings_ms"]["init"], float) and second["timings_ms"]["init"] is None
    assert first["timings_ms"]["secret"] is None  # DATABASE_URL: no secret to read
    if function_id in WITHOUT_DATABASE:
        assert first["database"] == second["database"] == "not_used" and statements == []
    else:
        assert first["database"] == second["database"] == "ok"
        assert isinstance(first["timings_ms"]["connect"], float)
        # And the database saw SELECT 1, then, in a read-only transaction rolled back, a sandbox entered that no
        # sandbox can be named, the story's tables opened with LIMIT 0 (their catalog loaded, no row read) and,
        # on PostgreSQL 16 and later, the routes' reads planned with EXPLAIN (GENERIC_PLAN), never run; once a
        # warm-up, and none of it refused
        sql = warm_up_sql(story.info.server_version)
        warm_up = ["SELECT 1", ENTER_SANDBOX, sql]
        assert statements == warm_up + warm_up and sent.failures == []
        assert sql.startswith(WARM_CATALOG)
        assert all(re.fullmatch(r"SELECT FROM demo_\w+ LIMIT 0", part) for part in WARM_CATALOG.split("; "))
        plans = sql.removeprefix(WARM_CATALOG).split("; EXPLAIN (GENERIC_PLAN) ")[1:]
        assert len(plans) == (len(queries.PLANNED) if story.info.server_version >= 160000 else 0)
        assert all(plan.startswith("SELECT ") and "EXPLAIN" not in plan for plan in plans)  # reads, planned only
        assert not sandbox.NAME.fullmatch(NO_SANDBOX)  # a name no sandbox can have
    # And no row, story version or sandbox activity changed
    assert table_counts(story) == before
    json.dumps(first)  # what lambda:InvokeFunction hands back: JSON as it is


def test_a_database_that_cannot_be_reached_is_reported_not_raised(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database nothing listens for
    use_environment(monkeypatch, DATABASE_URL="postgresql://squelch@127.0.0.1:1/none?connect_timeout=1")
    runtime.unload_all()
    # When a route function is warmed
    answer = invoke("CustomerGetFunction", EVENT)
    # Then it answers, warm, and names the problem a request would meet
    assert answer["warm"] is True and answer["database"] == "database_unavailable"
    assert answer["timings_ms"]["connect"] is None


def test_an_unconfigured_database_is_named(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    use_environment(monkeypatch, DATABASE_URL=None, DB_SECRET_ARN=None)
    assert invoke("HealthGetFunction", EVENT)["database"] == "database_not_configured"


def test_the_ai_routes_build_the_bedrock_client_when_bedrock_is_on(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Bedrock as the provider (the client is built, no model called: no AWS here)
    use_environment(
        monkeypatch, AI_PROVIDER="bedrock", BEDROCK_MODEL_ID="anthropic.claude-test", AWS_DEFAULT_REGION="us-east-1"
    )
    from squelch.ai import bedrock

    bedrock.client.cache_clear()
    # When an AI route is warmed
    answer = invoke("RiskAnalysisCreateFunction", EVENT)
    # Then its client is built and cached for the first request
    assert answer["database"] == "ok"
    assert bedrock.client.cache_info().currsize == 1
    bedrock.client.cache_clear()


@pytest.mark.parametrize(
    "event",
    [
        {"squelch_warmup": "yes"},  # not an object
        {"squelch_warmup": {}, "requestContext": {}},  # API Gateway's shape
        {"squelch_warmup": {}, "routeKey": "GET /api/customers/{customer_ref}"},
        {"body": '{"squelch_warmup": {}}'},
    ],
)
def test_only_a_direct_invocation_is_a_warm_up(event: dict[str, Any]) -> None:
    assert not warmup.is_warm_up(event)
    assert warmup.is_warm_up(warmup.event("schedule")) and warmup.is_warm_up({"squelch_warmup": {}})


@pytest.mark.parametrize(
    ("function_id", "event_file"),
    [("CustomerGetFunction", "customer_get.json"), ("DemoResetFunction", "demo_reset.json")],
)
def test_an_http_event_carrying_the_warm_up_is_an_ordinary_request(
    story: DictConnection, function_id: str, event_file: str
) -> None:
    # Given API Gateway's event with the warm-up's key at its top and in its body
    event = load_event(event_file, squelch_warmup={"reason": "preflight"})
    event["body"] = json.dumps({"squelch_warmup": {"reason": "preflight"}, "confirm": True})
    # When the function is invoked with it
    response = invoke(function_id, event)
    # Then it answers as the route does, an HTTP response, not a warm-up answer
    assert "statusCode" in response and "warm" not in response
    if function_id == "CustomerGetFunction":
        assert response["statusCode"] == 200 and body_of(response)["customer_id"] == "aco-001"


def test_the_warm_up_sent_through_the_local_http_api_is_refused(story: DictConnection, server: str) -> None:
    # Given the local server, as API Gateway: every request becomes an HTTP event
    body = json.dumps({"squelch_warmup": {"reason": "preflight"}}).encode()
    # When a caller posts the warm-up to a route, and to the path Lambda's own API would take it on
    status, _, answer = http_request(f"{server}/api/workflows/start", "POST", body, Content_Type="application/json")
    lambda_path = f"{server}/2015-03-31/functions/CustomerGetFunction/invocations"
    lambda_status, _, _ = http_request(lambda_path, "POST", body, Content_Type="application/json")
    # Then the route treats it as a request body (an invalid one), and there is no invocation path
    assert status == 422 and b'"warm"' not in answer
    assert lambda_status == 404


def test_the_warm_up_builds_what_its_routes_first_request_would_and_only_its_own(story: DictConnection) -> None:
    # Given new containers
    runtime.unload_all()
    # When the profile's function is warmed
    invoke("CustomerGetFunction", EVENT)
    # Then its routes' validation models are built (Powertools builds them on a route's first request)
    warmed = runtime.load_module(template.load()["CustomerGetFunction"]).app
    assert all(route._dependant is not None for route in warmed._static_routes + warmed._dynamic_routes)
    # And another function's, loaded but never warmed, are not
    other = runtime.load_module(template.load()["HealthGetFunction"]).app
    assert all(route._dependant is None for route in other._static_routes + other._dynamic_routes)


@pytest.mark.parametrize("function_id", ["CustomerGetFunction", "WorkflowStepSaveFunction", "DatabaseMigrateFunction"])
def test_the_story_tables_are_opened_as_the_functions_login_under_row_level_security(
    story: DictConnection, sent: Sent, function_id: str
) -> None:
    # Given new containers, connecting as the API functions' login, whose reads row-level security filters by
    # the sandbox a transaction enters (planning a story table's read without one raises 42704)
    runtime.unload_all()
    # When a function is warmed
    answer = invoke(function_id, EVENT)
    # Then every statement of its warm-up succeeded, the story tables' catalog among them
    assert answer["database"] == "ok"
    assert any(statement.startswith(WARM_CATALOG) for statement in sent.statements) and sent.failures == []
    # And its connection is left idle, outside any transaction, in no sandbox, with the transaction settings it
    # had (the migration runner's transactions, which set none, must not begin read-only)
    conn = db.connection()  # the container's: invoke runs the function on this thread
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert (conn.read_only, conn.isolation_level) == (None, None)
    assert conn.execute("SELECT current_setting('squelch.sandbox', true) AS name").fetchone() in (
        {"name": None},
        {"name": ""},
    )


def test_a_statement_is_planned_as_psycopg_sends_it() -> None:
    # Placeholders numbered in the order each name first appears, a name used twice one parameter, %% a %
    statement = "SELECT %(b)s, %(a)s WHERE x = %(b)s AND y LIKE 'a%%'"
    assert numbered(statement) == "SELECT $1, $2 WHERE x = $1 AND y LIKE 'a%'"
    # PostgreSQL 15 has no GENERIC_PLAN: the catalog alone
    assert warm_up_sql(150000) == WARM_CATALOG
    assert warm_up_sql(160000).count("; EXPLAIN (GENERIC_PLAN) SELECT ") == len(queries.PLANNED)
    # A read registered again (its module loaded again) is planned once
    assert queries.planned(queries.PLANNED[0]) is queries.PLANNED[0] and len(set(queries.PLANNED)) == len(
        queries.PLANNED
    )
    before = len(queries.PLANNED)
    queries.planned(queries.PLANNED[-1])
    assert len(queries.PLANNED) == before


# The routes a front end reads a customer's and a workflow's story through (the demo's bookkeeping aside).
STORY_READS = [
    ("CustomerGetFunction", "customer_get.json"),
    ("ContactsListFunction", "contacts_list.json"),
    ("OperationsListFunction", "operations_list.json"),
    ("HealthGetFunction", "health_get.json"),
    ("TicketsListFunction", "tickets_list.json"),
    ("OpportunitiesListFunction", "opportunities_list.json"),
    ("WorkflowContextGetFunction", "workflow_context_get.json"),
]


@pytest.mark.parametrize(("function_id", "event_file"), STORY_READS)
def test_every_statement_a_story_read_sends_is_one_the_warm_up_sends_or_plans(
    story: DictConnection, sent: Sent, function_id: str, event_file: str
) -> None:
    # Given a warmed function
    runtime.unload_all()
    invoke(function_id, EVENT)
    sent.statements.clear()
    # When its route answers a request
    response = invoke(function_id, load_event(event_file))
    # Then each statement it sent was entered (the sandbox) or planned by the warm-up (the rest)
    assert response["statusCode"] in (200, 404)
    assert sent.statements and set(sent.statements) <= {ENTER_SANDBOX, *queries.PLANNED}
