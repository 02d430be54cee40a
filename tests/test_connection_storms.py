"""Connection storms: Lambda opens one connection per container, and a burst of new containers can
ask for more connections than the database allows. Every such request must get a 503
`database_busy` with Retry-After (never a 500), and a write either happens whole or not at all.

Against a throwaway PostgreSQL whose max_connections is set low, with more concurrent "containers"
(threads: the layer keeps one connection per thread, as per container) than it admits."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from conftest import DEMO_DAY, RUNTIME_LOGIN, DictConnection, invoke, load_event, one, use_environment
from pg_cluster import Cluster, throwaway_cluster
from psycopg.rows import dict_row
from test_demo_reset import reset_event

from squelch import db
from squelch.db import migrations, roles
from squelch.domain import demo

MAX_CONNECTIONS = 8
RESERVED_FOR_SUPERUSERS = 2  # the owner's connection that checks the outcome always gets in
CONTAINERS = 24
STORY_TABLES = ["demo_customers", "demo_contacts", "demo_operations", "demo_support_tickets", "demo_contracts",
                "demo_strategic_plans", "demo_opportunities", "demo_health_components"]  # fmt: skip


@pytest.fixture(scope="module")
def small_server() -> Iterator[Cluster]:
    settings = {"max_connections": str(MAX_CONNECTIONS), "superuser_reserved_connections": str(RESERVED_FOR_SUPERUSERS)}
    with throwaway_cluster(settings) as cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as owner:
            migrations.migrate(owner)
            roles.provision_login(owner, RUNTIME_LOGIN, None)
            demo.reset(owner, DEMO_DAY)
        yield cluster


@pytest.fixture
def storm_environment(small_server: Cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[DictConnection]:
    use_environment(
        monkeypatch,
        DATABASE_URL=small_server.url(user=RUNTIME_LOGIN) + "?sslmode=disable",
        DB_SECRET_ARN=None,
        DEMO_ANCHOR_DATE=DEMO_DAY.isoformat(),
        DEMO_TODAY=DEMO_DAY.isoformat(),
        DEMO_MAX_SANDBOXES="100",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    with psycopg.connect(small_server.url(), autocommit=True, row_factory=dict_row) as owner:
        owner.execute("DELETE FROM demo_sandboxes WHERE name <> 'default'")
        yield owner
    db.close()


def in_sandbox(event: dict[str, Any], name: str) -> dict[str, Any]:
    event["headers"] = {**event["headers"], "x-demo-sandbox": name}
    return event


def story_size(owner: DictConnection, sandbox: str) -> dict[str, int]:
    return {
        table: one(owner, f"SELECT count(*) AS n FROM {table} WHERE sandbox = %s", sandbox)["n"]
        for table in STORY_TABLES
    }


def test_a_burst_beyond_max_connections_gets_503_database_busy_and_loses_nothing(
    storm_environment: DictConnection,
) -> None:
    owner = storm_environment
    whole_story = story_size(owner, "default")
    start = threading.Barrier(CONTAINERS)
    answers: dict[int, list[dict[str, Any]]] = {}

    def container(n: int) -> None:
        # Each thread is a new container: its own connection, opened by its first request
        start.wait()
        answers[n] = [
            invoke("CustomerGetFunction", load_event("customer_get.json")),
            invoke("DemoResetFunction", in_sandbox(reset_event({"confirm": True}), f"storm-{n}")),
        ]
        db.close()  # the container goes away

    # Given more containers at once than the database admits
    threads = [threading.Thread(target=container, args=(n,)) for n in range(CONTAINERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every answer is a 200 or a 503 database_busy with Retry-After; none is a 500
    statuses: Counter[int] = Counter()
    for n, (read, reset) in answers.items():
        for response in (read, reset):
            statuses[response["statusCode"]] += 1
            if response["statusCode"] == 503:
                assert json.loads(response["body"])["error"]["code"] == "database_busy"
                assert int(response["headers"]["Retry-After"]) >= 1
            else:
                assert response["statusCode"] == 200, (n, response["body"])
        # And a reset happened whole or not at all
        created = owner.execute("SELECT 1 FROM demo_sandboxes WHERE name = %s", [f"storm-{n}"]).fetchone()
        assert bool(created) == (reset["statusCode"] == 200), n
        assert story_size(owner, f"storm-{n}") == (whole_story if created else dict.fromkeys(STORY_TABLES, 0))
    # And the storm did overflow the database, and the database still served as many as it could
    assert statuses[503] > 0 and statuses[200] > 0, statuses


def test_the_next_request_after_the_storm_is_served(storm_environment: DictConnection) -> None:
    # Given a storm has passed (its containers' connections are closed)
    # When one request comes, Then it is served
    response = invoke("CustomerGetFunction", load_event("customer_get.json"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["renewal_date"] == "2026-04-15"
