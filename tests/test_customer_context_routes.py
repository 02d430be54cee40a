"""The five customer-context routes through their handlers, with the sample events of events/,
on the demo day; and a second, non-demo customer to prove nothing is wired to aco-001."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, use_environment

ROUTES = {
    "CustomerGetFunction": ("customer_get.json", ""),
    "ContactsListFunction": ("contacts_list.json", "/contacts"),
    "OperationsListFunction": ("operations_list.json", "/operations"),
    "HealthGetFunction": ("health_get.json", "/health"),
    "TicketsListFunction": ("tickets_list.json", "/tickets"),
    "OpportunitiesListFunction": ("opportunities_list.json", "/opportunities"),
}


def call(function: str, ref: str = "aco") -> dict[str, Any]:
    event_file, suffix = ROUTES[function]
    event = load_event(event_file)
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/api/customers/{ref}{suffix}"
    event["pathParameters"] = {"customer_ref": ref}
    return invoke(function, event)


def ok(function: str, ref: str = "aco") -> Any:
    response = call(function, ref)
    assert response["statusCode"] == 200, response["body"]
    return body_of(response)


def day(offset: int) -> str:
    return (DEMO_DAY + timedelta(days=offset)).isoformat()


def test_contacts_are_the_task_lists_superset(story: DictConnection) -> None:
    contacts = ok("ContactsListFunction")["contacts"]
    assert contacts == [
        {
            "contact_id": "aco-marcus",
            "customer_id": "aco-001",
            "name": "Marcus Castellan",
            "title": "Chief Operating Officer",
            "villain_designation": "The Orchestrator",
            "engagement_level": "high",
            "satisfaction": "low",
            "last_contact": day(-90),
            "days_since_contact": 90,
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
            "days_since_contact": None,
            "is_evaluating_competitors": True,
            "initiative_value": 1700000,
            "is_primary": False,
        },
    ]


def test_days_since_contact_follows_the_clock(story: DictConnection, monkeypatch) -> None:
    use_environment(monkeypatch, DEMO_TODAY=day(7))
    assert ok("ContactsListFunction")["contacts"][0]["days_since_contact"] == 97


def test_operations_newest_first_with_derived_quarters(story: DictConnection) -> None:
    operations = ok("OperationsListFunction")["operations"]
    assert [(o["operation_id"], o["status"], o["date"], o["quarter"]) for o in operations] == [
        ("op-shadow-grid", "in_progress", day(-40), "Q4 2025"),
        ("op-blackout", "failed", day(-95), "Q3 2025"),
        ("op-nightfall", "success", day(-180), "Q2 2025"),
        ("op-crimson-dawn", "success", day(-250), "Q1 2025"),
    ]
    blackout = operations[1]
    assert blackout["failure_reason"] == "Platform latency caused 47-second delay in synchronized sequence"
    assert blackout["cost_impact"] == 850000
    assert all("failure_reason" in o and "cost_impact" in o for o in operations)
    assert operations[0]["cost_impact"] is None and operations[0]["failure_reason"] is None


def test_health_explains_the_score(story: DictConnection) -> None:
    health = ok("HealthGetFunction")
    assert health["overall_health_score"] == 4.2
    assert health["component_scores"] == {
        "product_performance": 3.1,
        "relationship_strength": 4.8,
        "strategic_alignment": 5.2,
        "support_quality": 3.5,
        "executive_sponsorship": 6.0,
    }
    assert health["churn_probability"] == 68 and health["risk_level"] == "high"
    contributions = {c["component"]: (c["weight"], c["contribution"]) for c in health["components"]}
    assert contributions["product_performance"] == (0.3, 0.93)
    assert round(sum(c for _, c in contributions.values()), 2) == 4.2
    assert health["critical_failures_12_months"] == 3
    assert health["ai_insight"] == (
        "Obsidian Black experienced 3 critical service failures in the past 12 months. "
        "Without intervention, renewal is unlikely."
    )


@pytest.mark.parametrize(
    ("score", "churn", "risk"),
    [
        (4.2, 68, "high"),
        (0.0, 99, "critical"),
        (2.9, 81, "critical"),
        (5.0, 60, "medium"),
        (6.9, 41, "medium"),
        (7.0, 40, "low"),
        (10.0, 10, "low"),
    ],
)
def test_churn_and_risk_follow_the_one_rule(story: DictConnection, score: float, churn: int, risk: str) -> None:
    story.execute("UPDATE demo_customers SET health_score = %s WHERE customer_id = 'aco-001'", [score])
    health = ok("HealthGetFunction")
    assert (health["churn_probability"], health["risk_level"]) == (churn, risk)


def test_health_insight_counts_from_the_data(story: DictConnection) -> None:
    # Given one of the three critical failures is downgraded, the sentence follows the data
    story.execute("UPDATE demo_support_tickets SET priority = 'high' WHERE ticket_id = 'aco-3655'")
    assert ok("HealthGetFunction")["ai_insight"].startswith(
        "Obsidian Black experienced 2 critical service failures in the past 12 months."
    )
    story.execute("UPDATE demo_support_tickets SET priority = 'high' WHERE priority = 'critical'")
    assert ok("HealthGetFunction")["ai_insight"].startswith("Obsidian Black had no critical service failures")


def test_tickets_of_the_past_two_weeks_with_the_spike(story: DictConnection) -> None:
    body = ok("TicketsListFunction")
    assert [(t["ticket_id"], t["created_at"]) for t in body["tickets"]] == [
        ("aco-4891", day(-4)),
        ("aco-4856", day(-6)),
        ("aco-4823", day(-8)),
        ("aco-4801", day(-10)),
        ("aco-4728", day(-13)),
    ]
    assert body["tickets"][0] == {
        "ticket_id": "aco-4891",
        "subject": "Dashboard not displaying real-time operational status",
        "category": "ux",
        "priority": "medium",
        "sentiment": "neutral",
        "created_at": day(-4),
        "filed_at": f"{day(-4)}T16:48:00Z",
        "resolution_time_hours": 24,
        "resolved": True,
    }
    assert body["summary"] == {
        "total_tickets_2_weeks": 5,
        "normal_rate": 1.5,
        "spike_multiplier": 3.3,
        "frustrated_count": 4,
        "window_start": day(-14),
        "window_end": day(0),
        "baseline_start": day(-98),
        "baseline_end": day(-15),
    }


def add_ticket(
    conn: DictConnection,
    ticket_id: str,
    days_ago: int,
    customer: str = "aco-001",
    at: time = time(23, 59),
    priority: str = "low",
) -> None:
    filed = datetime.combine(DEMO_DAY - timedelta(days=days_ago), at, UTC)
    conn.execute(
        "INSERT INTO demo_support_tickets VALUES (%s, %s, 'Edge', 'bug', %s, NULL, 'frustrated', %s)",
        [ticket_id, customer, priority, filed],
    )


LAST_INSTANT = time(23, 59, 59, 999999)


@pytest.mark.parametrize(
    ("days_ago", "at", "in_window"),
    [
        (14, time(0, 0), True),
        (14, LAST_INSTANT, True),
        (15, LAST_INSTANT, False),
        (15, time(0, 0), False),
        (0, time(0, 0), True),
        (0, LAST_INSTANT, True),
        (-1, time(0, 0), False),
        (-1, time(12, 0), False),
    ],
    ids=lambda value: str(value),
)
def test_the_window_runs_from_the_first_instant_of_day_14_to_the_last_of_today(
    story: DictConnection, days_ago: int, at: time, in_window: bool
) -> None:
    add_ticket(story, "edge", days_ago, at=at)
    summary = ok("TicketsListFunction")
    assert ("edge" in [t["ticket_id"] for t in summary["tickets"]]) == in_window
    assert summary["summary"]["total_tickets_2_weeks"] == 5 + in_window


@pytest.mark.parametrize(("days_ago", "counted"), [(0, True), (364, True), (365, False), (380, False), (-1, False)])
def test_critical_failures_count_the_past_twelve_months_through_today(
    story: DictConnection, days_ago: int, counted: bool
) -> None:
    # DEMO_DAY is 2025-11-23: the past twelve months are 2024-11-24 through 2025-11-23 (365 days)
    add_ticket(story, "edge-failure", days_ago, at=time(12, 0), priority="critical")
    assert ok("HealthGetFunction")["critical_failures_12_months"] == 3 + counted


def test_window_edges_fourteen_days_in_fifteen_out(story: DictConnection) -> None:
    # Given tickets filed late on the days 14 and 15 days ago
    add_ticket(story, "edge-14", 14)
    add_ticket(story, "edge-15", 15)
    ids = [t["ticket_id"] for t in ok("TicketsListFunction")["tickets"]]
    # Then the first is in the window and the second is not (it is baseline now: 10 / 6)
    assert "edge-14" in ids and "edge-15" not in ids
    summary = ok("TicketsListFunction")["summary"]
    assert summary["total_tickets_2_weeks"] == 6 and summary["normal_rate"] == 1.7
    assert summary["spike_multiplier"] == 3.5  # 6 / 1.7, the rate as shown, so a reader can check it


def test_zero_baseline_has_no_multiplier(story: DictConnection) -> None:
    story.execute(
        "DELETE FROM demo_support_tickets WHERE created_at < %s",
        [datetime.combine(DEMO_DAY - timedelta(days=14), time(), UTC)],
    )
    summary = ok("TicketsListFunction")["summary"]
    assert (summary["total_tickets_2_weeks"], summary["normal_rate"], summary["spike_multiplier"]) == (5, 0.0, None)


def test_opportunity_insight_commits_to_the_next_quarter(story: DictConnection) -> None:
    assert ok("OpportunitiesListFunction")["opportunities"] == [
        {
            "opportunity_id": "aco-opp-001",
            "name": "Global Synchronization Initiative",
            "sponsor": "Dr. Elena Voss",
            "sponsor_contact_id": "aco-elena",
            "value": 1700000,
            "status": "evaluating",
            "key_requirement": "Timezone-intelligent scheduling",
            "competitors_evaluating": ["VectorSync", "OmniCoord"],
            "urgency": "high",
            "probability": 65,
            "ai_insight": "Elena's evaluation is driven by ONE feature: timezone-intelligent scheduling. If Squelch "
            "commits to Q1 2026 delivery, you neutralize the competitive threat from VectorSync and OmniCoord and "
            "unlock the $1.7M expansion.",
        }
    ]


def test_opportunity_insight_takes_every_figure_from_the_data(story: DictConnection, monkeypatch) -> None:
    # Given a changed value and competitor list, on a day in the second quarter
    story.execute("UPDATE demo_opportunities SET value = 2250000, competitors = ARRAY['Chronos']")
    story.execute("UPDATE demo_contacts SET name = 'Prof. Ada Stone' WHERE contact_id = 'aco-elena'")
    use_environment(monkeypatch, DEMO_TODAY="2026-04-02")
    insight = ok("OpportunitiesListFunction")["opportunities"][0]["ai_insight"]
    assert insight == (
        "Ada's evaluation is driven by ONE feature: timezone-intelligent scheduling. If Squelch commits to "
        "Q3 2026 delivery, you neutralize the competitive threat from Chronos and unlock the $2.25M expansion."
    )


@pytest.mark.parametrize("function", list(ROUTES))
def test_every_customer_route_is_a_404_for_an_unknown_customer(story: DictConnection, function: str) -> None:
    response = call(function, "nobody")
    assert response["statusCode"] == 404
    assert body_of(response)["error"]["code"] == "customer_not_found"


@pytest.mark.parametrize("function", list(ROUTES))
def test_every_customer_route_answers_by_id_and_slug_alike(story: DictConnection, function: str) -> None:
    assert ok(function, "aco-001") == ok(function, "aco")


@pytest.fixture
def globex(story: DictConnection) -> DictConnection:
    """A second, non-demo customer with data of its own."""
    story.execute(
        """INSERT INTO demo_customers (customer_id, slug, name, arr, renewal_date, health_score, is_demo)
           VALUES ('cust-7', 'globex', 'Globex', 320000, %s, 7.5, false)""",
        [DEMO_DAY + timedelta(days=200)],
    )
    story.execute(
        """INSERT INTO demo_contacts (contact_id, customer_id, name, title, last_contact, is_primary)
           VALUES ('globex-hank', 'cust-7', 'Hank Scorpio', 'CEO', %s, true)""",
        [DEMO_DAY - timedelta(days=2)],
    )
    story.execute(
        """INSERT INTO demo_operations (operation_id, customer_id, name, status, date)
           VALUES ('globex-op', 'cust-7', 'Project Volcano', 'success', %s)""",
        [DEMO_DAY - timedelta(days=10)],
    )
    add_ticket(story, "globex-1", 3, "cust-7")
    story.execute(
        """INSERT INTO demo_health_components (customer_id, component, score, weight)
           VALUES ('cust-7', 'product_performance', 7.5, 1)"""
    )
    story.execute(
        """INSERT INTO demo_opportunities (opportunity_id, customer_id, name, value, status, urgency)
           VALUES ('globex-opp', 'cust-7', 'Doomsday Analytics', 90000, 'identified', 'low')"""
    )
    return story


def test_a_second_customer_gets_its_own_data(globex: DictConnection) -> None:
    assert ok("CustomerGetFunction", "globex")["primary_contact"] == "Hank Scorpio"
    assert [c["days_since_contact"] for c in ok("ContactsListFunction", "globex")["contacts"]] == [2]
    assert [o["name"] for o in ok("OperationsListFunction", "cust-7")["operations"]] == ["Project Volcano"]
    health = ok("HealthGetFunction", "globex")
    assert (health["overall_health_score"], health["churn_probability"], health["risk_level"]) == (7.5, 35, "low")
    assert health["component_scores"]["support_quality"] is None
    assert (
        health["ai_insight"] == "Globex had no critical service failures in the past 12 months. Renewal looks on track."
    )
    tickets = ok("TicketsListFunction", "globex")
    assert [t["ticket_id"] for t in tickets["tickets"]] == ["globex-1"]
    assert tickets["summary"]["spike_multiplier"] is None
    opportunity = ok("OpportunitiesListFunction", "globex")["opportunities"][0]
    assert opportunity["sponsor"] is None and opportunity["competitors_evaluating"] == []
    assert opportunity["ai_insight"] == (
        "The evaluation has no single deciding requirement on record. "
        "Address the competitive threat to unlock the $90K expansion."
    )
    # And the demo customer's answers are untouched by Globex's rows
    assert ok("TicketsListFunction")["summary"]["total_tickets_2_weeks"] == 5


def test_the_multiplier_is_rounded_half_up_as_a_reader_redoing_it_would(story: DictConnection) -> None:
    # Given one ticket in the window and five in the twelve weeks before it: a normal rate of 5 / 6, shown 0.8
    story.execute("DELETE FROM demo_support_tickets WHERE customer_id = 'aco-001'")
    add_ticket(story, "in-window", 1)
    for n in range(5):
        add_ticket(story, f"baseline-{n}", 20 + 7 * n)
    summary = ok("TicketsListFunction")["summary"]
    # Then the multiplier 1 / 0.8 = 1.25 is written 1.3, half up (not to the even 1.2)
    assert (summary["total_tickets_2_weeks"], summary["normal_rate"], summary["spike_multiplier"]) == (1, 0.8, 1.3)
