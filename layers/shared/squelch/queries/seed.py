"""SQL that seeds a sandbox's story from a pack's rows (squelch.domain.demo places them around D first).
Every row goes to the transaction's sandbox, the tables' default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb

from squelch.db import Connection

# Deletes every demo customer of the transaction's sandbox and, through ON DELETE CASCADE, everything
# that belongs to one. Customers without is_demo, and other sandboxes, are never touched (row-level
# security keeps the API's login to its sandbox; the condition says it for the schema's owner, who runs
# the first seed).
DELETE_DEMO_DATA = "DELETE FROM demo_customers WHERE is_demo AND sandbox = current_setting('squelch.sandbox')"

INSERT_CUSTOMER = """
INSERT INTO demo_customers (
    customer_id, slug, name, industry, operatives, facilities, arr, renewal_date,
    health_score, opportunity_score, csm_name, csm_assigned_on, is_demo, customer_since, created_at
) VALUES (
    %(customer_id)s, %(slug)s, %(name)s, %(industry)s, %(operatives)s, %(facilities)s, %(arr)s, %(renewal_date)s,
    %(health_score)s, %(opportunity_score)s, %(csm_name)s, %(csm_assigned_on)s, true, %(customer_since)s,
    %(created_at)s
)
"""
INSERT_CONTACT = """
INSERT INTO demo_contacts (
    contact_id, customer_id, name, title, villain_designation, engagement_level, satisfaction,
    last_contact, is_evaluating_competitors, initiative_value, is_primary, created_at
) VALUES (
    %(contact_id)s, %(customer_id)s, %(name)s, %(title)s, %(villain_designation)s, %(engagement_level)s,
    %(satisfaction)s, %(last_contact)s, %(is_evaluating_competitors)s, %(initiative_value)s, %(is_primary)s,
    %(created_at)s
)
"""
INSERT_OPERATION = """
INSERT INTO demo_operations (operation_id, customer_id, name, status, failure_reason, cost_impact, date, created_at)
VALUES (%(operation_id)s, %(customer_id)s, %(name)s, %(status)s, %(failure_reason)s, %(cost_impact)s, %(date)s,
        %(created_at)s)
"""
INSERT_TICKET = """
INSERT INTO demo_support_tickets (
    ticket_id, customer_id, subject, category, priority, resolution_time_hours, sentiment, created_at
) VALUES (
    %(ticket_id)s, %(customer_id)s, %(subject)s, %(category)s, %(priority)s, %(resolution_time_hours)s,
    %(sentiment)s, %(created_at)s
)
"""
INSERT_CONTRACT = """
INSERT INTO demo_contracts (
    contract_id, customer_id, start_date, end_date, arr, auto_renew, sla_uptime, status, created_at
) VALUES (
    %(contract_id)s, %(customer_id)s, %(start_date)s, %(end_date)s, %(arr)s, %(auto_renew)s, %(sla_uptime)s,
    %(status)s, %(created_at)s
)
"""
INSERT_PLAN = """
INSERT INTO demo_strategic_plans (
    plan_id, customer_id, phase_1_tasks, phase_2_tasks, phase_3_tasks, success_probability, completed, created_at
) VALUES (
    %(plan_id)s, %(customer_id)s, %(phase_1_tasks)s, %(phase_2_tasks)s, %(phase_3_tasks)s,
    %(success_probability)s, %(completed)s, %(created_at)s
)
"""
INSERT_OPPORTUNITY = """
INSERT INTO demo_opportunities (
    opportunity_id, customer_id, sponsor_contact_id, name, value, status, key_requirement,
    competitors, urgency, probability, created_at
) VALUES (
    %(opportunity_id)s, %(customer_id)s, %(sponsor_contact_id)s, %(name)s, %(value)s, %(status)s,
    %(key_requirement)s, %(competitors)s, %(urgency)s, %(probability)s, %(created_at)s
)
"""
INSERT_HEALTH = """
INSERT INTO demo_health_components (customer_id, component, score, weight, created_at)
VALUES (%(customer_id)s, %(component)s, %(score)s, %(weight)s, %(created_at)s)
"""
# A checkpoint's session: its hours on D are never later than the reset itself (now(): a reset before
# them, or with D ahead of today, stamps the reset's moment), so no timestamp lies in the future and a
# step saved later is never dated before its session.
INSERT_SESSION = """
INSERT INTO demo_workflow_state (
    session_id, customer_id, workflow_type, current_step, total_steps, completed, data, created_at, updated_at
) VALUES (
    demo_new_session_id(), %(customer_id)s, %(workflow_type)s, %(current_step)s, %(total_steps)s, %(completed)s,
    %(data)s, least(%(created_at)s, now()), least(%(updated_at)s, now())
)
"""
# The planning workflow agreed the customer's latest plan: the same function the step-save route calls.
COMPLETE_PLAN = "SELECT demo_complete_plan(%(customer_id)s)"

Row = Mapping[str, Any]


def delete_demo_data(conn: Connection) -> None:
    conn.execute(DELETE_DEMO_DATA)


def _insert(conn: Connection, query: str, rows: Sequence[Row]) -> None:
    if rows:
        conn.cursor().executemany(query, rows)


def insert_story(
    conn: Connection,
    customer: Row,
    contacts: Sequence[Row],
    operations: Sequence[Row],
    tickets: Sequence[Row],
    contracts: Sequence[Row],
    plan: Row,
    opportunities: Sequence[Row],
    health: Sequence[Row],
) -> None:
    """The story's rows, the customer first (everything else refers to it)."""
    conn.execute(INSERT_CUSTOMER, customer)
    _insert(conn, INSERT_CONTACT, contacts)
    _insert(conn, INSERT_OPERATION, operations)
    _insert(conn, INSERT_TICKET, tickets)
    _insert(conn, INSERT_CONTRACT, contracts)
    phases = ("phase_1_tasks", "phase_2_tasks", "phase_3_tasks")
    conn.execute(INSERT_PLAN, {**plan, **{phase: Jsonb(plan[phase]) for phase in phases}})
    _insert(conn, INSERT_OPPORTUNITY, opportunities)
    _insert(conn, INSERT_HEALTH, health)


def insert_checkpoint(conn: Connection, customer_id: str, sessions: Sequence[Row], complete_plan: bool) -> None:
    _insert(conn, INSERT_SESSION, [{**s, "customer_id": customer_id, "data": Jsonb(s["data"])} for s in sessions])
    if complete_plan:
        conn.execute(COMPLETE_PLAN, {"customer_id": customer_id})
