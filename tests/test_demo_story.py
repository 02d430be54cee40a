"""The Obsidian Black seed on the demo clock, and the presenters' reset."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from time import tzset
from typing import Any

import psycopg
import pytest
from conftest import DEMO_DAY, DictConnection, one, use_environment

from squelch import clock
from squelch.db import migrations
from squelch.domain import demo

TABLES = (
    "demo_customers",
    "demo_contacts",
    "demo_operations",
    "demo_support_tickets",
    "demo_contracts",
    "demo_strategic_plans",
    "demo_workflow_state",
    "demo_opportunities",
    "demo_health_components",
)


def day(offset: int) -> date:
    return DEMO_DAY + timedelta(days=offset)


def snapshot(conn: DictConnection) -> dict[str, list[str]]:
    """Every row of every demo table, as text, in a stable order."""
    return {
        table: [row["r"] for row in conn.execute(f"SELECT to_jsonb(t)::text AS r FROM {table} t ORDER BY 1").fetchall()]
        for table in TABLES
    }


def test_customer_is_seeded_as_the_task_list_says(story: DictConnection) -> None:
    customer = one(story, "SELECT * FROM demo_customers WHERE customer_id = 'aco-001'")
    assert {k: v for k, v in customer.items() if k not in ("created_at", "sandbox")} == {
        "customer_id": "aco-001",
        "slug": "aco",
        "name": "Obsidian Black",
        "industry": "Global Strategic Coordination Services",
        "operatives": 450,
        "facilities": 23,
        "arr": Decimal("1500000"),
        "renewal_date": day(143),
        "health_score": Decimal("4.2"),
        "opportunity_score": Decimal("8.7"),
        "csm_name": "Sarah Chen",
        "csm_assigned_on": day(-3),
        "is_demo": True,
        "customer_since": date(2024, 4, 15),
    }
    # On this demo day the renewal falls on 2026-04-15 (D+143, docs/STORY.md's example).
    assert customer["renewal_date"] == date(2026, 4, 15)


def test_contacts_are_marcus_and_elena(story: DictConnection) -> None:
    rows = story.execute("SELECT * FROM demo_contacts ORDER BY contact_id DESC").fetchall()
    assert [{k: v for k, v in r.items() if k not in ("created_at", "sandbox")} for r in rows] == [
        {
            "contact_id": "aco-marcus",
            "customer_id": "aco-001",
            "name": "Marcus Castellan",
            "title": "Chief Operating Officer",
            "villain_designation": "The Orchestrator",
            "engagement_level": "high",
            "satisfaction": "low",
            "last_contact": day(-90),
            "is_evaluating_competitors": False,
            "initiative_value": None,
            "is_primary": True,
        },
        {
            "contact_id": "aco-elena",
            "customer_id": "aco-001",
            "name": "Dr. Elena Voss",
            "title": "VP of Technical Operations",
            "villain_designation": "Nightingale",
            "engagement_level": "medium",
            "satisfaction": "neutral",
            "last_contact": None,
            "is_evaluating_competitors": True,
            "initiative_value": Decimal("1700000"),
            "is_primary": False,
        },
    ]


def test_operations_follow_the_demo_clock(story: DictConnection) -> None:
    rows = story.execute(
        "SELECT operation_id, name, status, failure_reason, cost_impact, date, quarter FROM demo_operations "
        "ORDER BY date DESC"
    ).fetchall()
    assert [tuple(r.values()) for r in rows] == [
        ("op-shadow-grid", "Operation Shadow Grid", "in_progress", None, None, day(-40), "Q4 2025"),
        (
            "op-blackout",
            "Operation Blackout",
            "failed",
            "Platform latency caused 47-second delay in synchronized sequence",
            Decimal("850000"),
            day(-95),
            "Q3 2025",
        ),
        ("op-nightfall", "Operation Nightfall", "success", None, None, day(-180), "Q2 2025"),
        ("op-crimson-dawn", "Operation Crimson Dawn", "success", None, None, day(-250), "Q1 2025"),
    ]


def test_the_five_spike_tickets_keep_the_task_lists_spacing(story: DictConnection) -> None:
    rows = story.execute(
        """SELECT ticket_id, subject, category, priority, resolution_time_hours, sentiment,
                  (created_at AT TIME ZONE 'UTC')::date AS day
           FROM demo_support_tickets WHERE created_at >= %s ORDER BY created_at""",
        [datetime.combine(day(-14), time(), UTC)],
    ).fetchall()
    assert [tuple(r.values()) for r in rows] == [
        (
            "aco-4728",
            "Operative Smith cannot access Phase 3 coordination documents",
            "permissions_error",
            "high",
            72,
            "frustrated",
            day(-13),
        ),
        (
            "aco-4801",
            "Timezone conversion bug in Jakarta facility coordination",
            "bug",
            "medium",
            48,
            "frustrated",
            day(-10),
        ),
        (
            "aco-4823",
            "Performance degradation during peak operational hours",
            "performance",
            "high",
            None,
            "frustrated",
            day(-8),
        ),
        (
            "aco-4856",
            "Integration with Operative Management System v8.2 failing",
            "integration",
            "high",
            None,
            "frustrated",
            day(-6),
        ),
        ("aco-4891", "Dashboard not displaying real-time operational status", "ux", "medium", 24, "neutral", day(-4)),
    ]


def test_baseline_history_gives_one_and_a_half_tickets_per_two_weeks(story: DictConnection) -> None:
    # The twelve weeks (six two-week periods) before the two-week window hold nine tickets.
    row = one(
        story,
        """SELECT count(*) AS n FROM demo_support_tickets
           WHERE (created_at AT TIME ZONE 'UTC')::date BETWEEN %s AND %s""",
        day(-98),
        day(-15),
    )
    assert row["n"] / 6 == 1.5


def test_three_critical_service_failures_in_the_past_twelve_months(story: DictConnection) -> None:
    # The past twelve months begin the day after the same day a year before D (2024-11-24 for D =
    # 2025-11-23); a fourth failure fell on that day a year before, just outside them.
    critical = story.execute(
        "SELECT created_at FROM demo_support_tickets WHERE priority = 'critical' ORDER BY created_at"
    ).fetchall()
    window_start = datetime.combine(date(2024, 11, 24), time(), UTC)
    assert len([t for t in critical if t["created_at"] >= window_start]) == 3
    assert critical[0]["created_at"].astimezone(UTC).date() == date(2024, 11, 23)


def test_contracts_are_the_first_term_and_its_renewal_named_for_their_start_years(story: DictConnection) -> None:
    contracts = story.execute("SELECT * FROM demo_contracts ORDER BY start_date").fetchall()
    terms = {"customer_id": "aco-001", "arr": Decimal("1500000"), "auto_renew": False, "sla_uptime": Decimal("99.5")}
    assert [{k: v for k, v in c.items() if k not in ("created_at", "sandbox")} for c in contracts] == [
        terms
        | {
            "contract_id": "aco-contract-2024",
            "start_date": date(2024, 4, 15),
            "end_date": date(2025, 4, 15),
            "status": "expired",
        },
        terms
        | {
            "contract_id": "aco-contract-2025",
            "start_date": date(2025, 4, 15),
            "end_date": day(143),
            "status": "active",
        },
    ]


def test_strategic_plan_has_the_three_phases(story: DictConnection) -> None:
    plan = one(story, "SELECT * FROM demo_strategic_plans")
    pending = "pending"
    assert plan["plan_id"] == "aco-plan-001" and plan["customer_id"] == "aco-001"
    assert plan["phase_1_tasks"] == [
        {"task": "Respond to Marcus email", "due": "Day 1", "status": pending},
        {"task": "Intro outreach to Elena", "due": "Day 3", "status": pending},
        {"task": "Schedule Marcus call", "due": "Day 5", "status": pending},
    ]
    assert plan["phase_2_tasks"] == [
        {"task": "Elena discovery call", "due": "Week 2", "status": pending},
        {"task": "Deliver Accountability Report", "due": "Week 3", "status": pending},
        {"task": "Propose dedicated liaison", "due": "Week 4", "status": pending},
        {"task": "Schedule Q1 QBR", "due": "Week 4", "status": pending},
    ]
    assert plan["phase_3_tasks"] == [
        {"task": "Demo timezone automation prototype", "due": "Month 2", "status": pending},
        {"task": "Expansion proposal presentation", "due": "Month 2", "status": pending},
        {"task": "Q1 QBR execution", "due": "Month 3", "status": pending},
        {"task": "Renewal negotiation kickoff", "due": "Month 3", "status": pending},
    ]
    assert plan["success_probability"] == Decimal("78") and plan["completed"] is False


def test_elenas_initiative_is_the_opportunity(story: DictConnection) -> None:
    opportunity = one(story, "SELECT * FROM demo_opportunities")
    assert {k: v for k, v in opportunity.items() if k not in ("created_at", "sandbox")} == {
        "opportunity_id": "aco-opp-001",
        "customer_id": "aco-001",
        "sponsor_contact_id": "aco-elena",
        "name": "Global Synchronization Initiative",
        "value": Decimal("1700000"),
        "status": "evaluating",
        "key_requirement": "Timezone-intelligent scheduling",
        "competitors": ["VectorSync", "OmniCoord"],
        "urgency": "high",
        "probability": Decimal("65"),
    }


def test_health_components_add_up_to_the_overall_score(story: DictConnection) -> None:
    rows = story.execute("SELECT component, score, weight FROM demo_health_components").fetchall()
    assert {r["component"]: r["score"] for r in rows} == {
        "product_performance": Decimal("3.1"),
        "relationship_strength": Decimal("4.8"),
        "strategic_alignment": Decimal("5.2"),
        "support_quality": Decimal("3.5"),
        "executive_sponsorship": Decimal("6.0"),
    }
    assert sum(r["weight"] for r in rows) == 1
    assert sum(r["score"] * r["weight"] for r in rows) == Decimal("4.2")


def test_seeding_an_empty_database_equals_resetting_a_seeded_one(story: DictConnection, database_factory) -> None:
    # Given a second database seeded from empty on the same demo day
    with psycopg.connect(database_factory(), autocommit=True, row_factory=psycopg.rows.dict_row) as fresh:
        migrations.migrate(fresh)
        assert demo.seed_if_absent(fresh, DEMO_DAY) is True
        # And the shared database seeded on another day, changed, then reset on the demo day
        demo.reset(story, DEMO_DAY - timedelta(days=30))
        story.execute("UPDATE demo_customers SET health_score = 9.9")
        demo.reset(story, DEMO_DAY)
        # Then both hold the same rows, to the last timestamp
        assert snapshot(story) == snapshot(fresh)


def test_reset_is_idempotent(story: DictConnection) -> None:
    before = snapshot(story)
    demo.reset(story, DEMO_DAY)
    demo.reset(story, DEMO_DAY)
    assert snapshot(story) == before


def test_reset_restores_changed_and_deleted_story_rows(story: DictConnection) -> None:
    before = snapshot(story)
    story.execute("UPDATE demo_contacts SET satisfaction = 'high'")
    story.execute("DELETE FROM demo_support_tickets WHERE ticket_id = 'aco-4728'")
    story.execute(
        "INSERT INTO demo_workflow_state (session_id, customer_id, workflow_type, total_steps) "
        "VALUES ('wf-test', 'aco-001', 'strategic_planning', 5)"
    )
    result = demo.reset(story, DEMO_DAY)
    assert snapshot(story) == before
    assert (result.customer_id, result.anchor_date) == ("aco-001", DEMO_DAY)


def test_a_reset_that_fails_midway_leaves_the_old_data(story: DictConnection, monkeypatch) -> None:
    # Given a session in progress and a seed that breaks after it has inserted some rows
    story.execute(
        "INSERT INTO demo_workflow_state (session_id, customer_id, workflow_type, total_steps) "
        "VALUES ('wf-keep', 'aco-001', 'strategic_planning', 5)"
    )
    before = snapshot(story)
    seed_story = demo.seed_story

    def breaking(conn: Any, *args: Any) -> None:  # the whole story written, then a failure
        seed_story(conn, *args)
        conn.execute("SELECT 1 / 0")

    monkeypatch.setattr(demo, "seed_story", breaking)
    # When the reset runs, it fails
    with pytest.raises(psycopg.errors.DivisionByZero):
        demo.reset(story, DEMO_DAY + timedelta(days=1))
    # Then every row is as it was, the session included
    assert snapshot(story) == before


def test_reset_never_touches_other_customers(story: DictConnection) -> None:
    # Given a real (non-demo) customer with its own contacts and tickets
    story.execute(
        "INSERT INTO demo_customers (customer_id, slug, name, arr, is_demo) "
        "VALUES ('cust-42', 'acme', 'Acme', 10, false)"
    )
    story.execute("INSERT INTO demo_contacts (contact_id, customer_id, name) VALUES ('acme-1', 'cust-42', 'Ann')")
    story.execute(
        "INSERT INTO demo_support_tickets VALUES ('acme-t1', 'cust-42', 'Help', 'bug', 'low', NULL, 'neutral', now())"
    )
    before = snapshot(story)
    # When the demo is reset
    demo.reset(story, DEMO_DAY)
    # Then the other customer's rows are all still there, unchanged
    after = snapshot(story)
    for table in TABLES:
        others = [r for r in before[table] if "cust-42" in r]
        assert others == [r for r in after[table] if "cust-42" in r]
    assert any("cust-42" in r for r in after["demo_support_tickets"])


def test_seed_if_absent_never_overwrites(story: DictConnection) -> None:
    story.execute("UPDATE demo_customers SET operatives = 451 WHERE customer_id = 'aco-001'")
    assert demo.seed_if_absent(story, DEMO_DAY) is False
    assert one(story, "SELECT operatives FROM demo_customers")["operatives"] == 451


class HalfPastMidnightUtc(datetime):
    """2026-03-01 00:30 UTC, which is still 28 February in America, whatever zone is asked for."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        instant = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
        return instant.astimezone(tz) if tz else instant.astimezone().replace(tzinfo=None)


def test_demo_anchor_defaults_to_todays_utc_date(monkeypatch) -> None:
    # Given half past midnight UTC, on a machine whose local zone is still on the day before
    use_environment(monkeypatch, DEMO_ANCHOR_DATE=None, DEMO_TODAY=None)
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    tzset()
    monkeypatch.setattr(clock, "datetime", HalfPastMidnightUtc)
    try:
        # Then today, and the anchor, are the UTC date
        assert clock.demo_anchor() == clock.today() == date(2026, 3, 1)
    finally:
        monkeypatch.undo()
        tzset()


def test_pinned_anchor_and_frozen_today_are_independent(monkeypatch) -> None:
    use_environment(monkeypatch, DEMO_ANCHOR_DATE="2025-11-23", DEMO_TODAY="2025-12-01")
    assert clock.demo_anchor() == date(2025, 11, 23)
    assert clock.today() == date(2025, 12, 1)


def test_anchor_follows_a_frozen_today_when_not_pinned(monkeypatch) -> None:
    use_environment(monkeypatch, DEMO_ANCHOR_DATE=None, DEMO_TODAY="2025-12-01")
    assert clock.demo_anchor() == date(2025, 12, 1)
