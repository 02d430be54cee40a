"""Every connection works in UTC: a database whose TimeZone is another zone (as the embedded
server takes the laptop's zone at initdb) gives the same answers, dates and instants as one in UTC."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from conftest import DEMO_DAY, RUNTIME_LOGIN, body_of, invoke, load_event, one, use_environment
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from test_ai_routes import email, risk
from test_workflows import start

from squelch import db
from squelch.db import migrations, roles
from squelch.domain import demo

ZONES = ["America/Los_Angeles", "Pacific/Kiritimati"]  # UTC-8 and UTC+14: a day apart either way


def answers() -> dict[str, Any]:
    """The date-sensitive answers, without what differs on every call (ids, now())."""
    started = body_of(start())
    return {
        "profile": body_of(invoke("CustomerGetFunction", load_event("customer_get.json"))),
        "contacts": body_of(invoke("ContactsListFunction", load_event("contacts_list.json"))),
        "tickets": body_of(invoke("TicketsListFunction", load_event("tickets_list.json"))),
        "health": body_of(invoke("HealthGetFunction", load_event("health_get.json"))),
        "risk": body_of(risk()),
        "email": body_of(email()),
        "started_offset": started["created_at"][-6:]
        if started["created_at"][-6] in "+-"
        else started["created_at"][-1],
        "renewal_in_context": started["context"]["renewal_date"],
    }


@pytest.fixture
def story_in(database_factory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A function that seeds the story on DEMO_DAY in a fresh database whose TimeZone is `zone` and
    points the functions at it."""

    def seeded(zone: str) -> None:
        url = database_factory()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET timezone TO {}").format(
                    sql.Identifier(str(conninfo_to_dict(url)["dbname"])), sql.Literal(zone)
                )
            )
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SHOW timezone").fetchone() == (zone,)
            migrations.migrate(conn)
            roles.provision_login(conn, RUNTIME_LOGIN, None)
            demo.reset(conn, DEMO_DAY)
        db.close()
        use_environment(
            monkeypatch,
            DATABASE_URL=make_conninfo(url, user=RUNTIME_LOGIN),
            DB_SECRET_ARN=None,
            DEMO_ANCHOR_DATE=DEMO_DAY.isoformat(),
            DEMO_TODAY=DEMO_DAY.isoformat(),
            POWERTOOLS_TRACE_DISABLED="true",
            POWERTOOLS_METRICS_DISABLED="true",
        )

    yield seeded
    db.close()


@pytest.mark.parametrize("zone", ZONES)
def test_answers_do_not_depend_on_the_databases_time_zone(story_in, zone: str) -> None:
    story_in("UTC")
    in_utc = answers()
    story_in(zone)
    elsewhere = answers()
    assert in_utc["started_offset"] in ("Z", "+00:00")
    assert json.dumps(elsewhere, sort_keys=True) == json.dumps(in_utc, sort_keys=True)


@pytest.mark.parametrize("through_rds_proxy", [False, True], ids=["direct", "rds-proxy"])
def test_connections_say_utc_whatever_the_server_default(story_in, monkeypatch, through_rds_proxy: bool) -> None:
    # RDS Proxy refuses startup options, so behind one the zone is set by a statement instead
    story_in("America/Los_Angeles")
    if through_rds_proxy:
        use_environment(monkeypatch, DB_PROXY_ENDPOINT="proxy.example.invalid")  # with DATABASE_URL: mode only
    assert db.run(lambda conn: one(conn, "SHOW timezone")["TimeZone"]) == "UTC"
    assert ("TimeZone" in db.connection().info.options) != through_rds_proxy
