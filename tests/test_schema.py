"""The schema: documented, constrained and indexed for its access paths."""

from __future__ import annotations

import psycopg
import pytest
from conftest import DictConnection

DEMO_TABLES = (
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


def test_every_table_and_column_is_commented(story: DictConnection) -> None:
    undocumented = story.execute(
        """
        SELECT c.relname || coalesce('.' || a.attname, '') AS name
        FROM pg_class c
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relname = ANY(%s)
          AND (obj_description(c.oid, 'pg_class') IS NULL
               OR (a.attname IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL))
        """,
        [list(DEMO_TABLES)],
    ).fetchall()
    assert undocumented == []


def test_every_child_table_is_indexed_on_its_sandbox_and_customer(story: DictConnection) -> None:
    for table in DEMO_TABLES[1:]:
        plans = story.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [table, "%(sandbox, customer_id%"],
        ).fetchall()
        assert plans, f"{table} has no index leading with (sandbox, customer_id)"


def test_tickets_are_indexed_for_the_two_week_window(story: DictConnection) -> None:
    story.execute("SET enable_seqscan = off")
    plan = story.execute(
        "EXPLAIN SELECT * FROM demo_support_tickets "
        "WHERE customer_id = 'aco-001' AND created_at >= now() - interval '14 days'"
    ).fetchall()
    assert "demo_support_tickets_customer_created_idx" in " ".join(row["QUERY PLAN"] for row in plan)


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("UPDATE demo_contacts SET engagement_level = 'furious'", "engagement_level"),
        ("UPDATE demo_contacts SET satisfaction = 'ecstatic'", "satisfaction"),
        ("UPDATE demo_operations SET status = 'abandoned' WHERE status <> 'failed'", "status"),
        ("UPDATE demo_support_tickets SET priority = 'urgent'", "priority"),
        ("UPDATE demo_support_tickets SET sentiment = 'angry'", "sentiment"),
        ("UPDATE demo_support_tickets SET category = 'misc'", "category"),
        ("UPDATE demo_contracts SET status = 'paused'", "status"),
        ("UPDATE demo_opportunities SET urgency = 'extreme'", "urgency"),
        ("UPDATE demo_opportunities SET status = 'maybe'", "status"),
        ("UPDATE demo_health_components SET component = 'vibes'", "component"),
        ("UPDATE demo_customers SET health_score = 11", "health_score"),
        ("UPDATE demo_customers SET slug = 'Not A Slug'", "slug"),
        ("UPDATE demo_contracts SET end_date = start_date", "end_after_start"),
        ("UPDATE demo_operations SET failure_reason = 'x' WHERE status = 'success'", "only_when_failed"),
    ],
)
def test_check_constraints_reject_values_outside_their_sets(
    story: DictConnection, statement: str, constraint: str
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match=constraint):
        story.execute(statement)


def test_a_customer_has_at_most_one_primary_contact(story: DictConnection) -> None:
    with pytest.raises(psycopg.errors.UniqueViolation):
        story.execute("UPDATE demo_contacts SET is_primary = true WHERE contact_id = 'aco-elena'")


def test_quarter_is_derived_from_the_date(story: DictConnection) -> None:
    story.execute("UPDATE demo_operations SET date = '2024-10-15' WHERE operation_id = 'op-blackout'")
    row = story.execute("SELECT quarter FROM demo_operations WHERE operation_id = 'op-blackout'").fetchone()
    assert row == {"quarter": "Q4 2024"}
    with pytest.raises(psycopg.errors.GeneratedAlways):
        story.execute("UPDATE demo_operations SET quarter = 'Q1 1999'")
