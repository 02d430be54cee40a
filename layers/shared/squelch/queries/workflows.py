"""SQL of workflow sessions and the strategic plans they complete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import Cursor
from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb

from squelch.db import Connection
from squelch.queries import planned

# The partial unique index demo_workflow_state_one_open_idx makes a duplicate start a no-op.
INSERT_SESSION = """
INSERT INTO demo_workflow_state (session_id, customer_id, workflow_type, total_steps)
VALUES (%(session_id)s, %(customer_id)s, %(workflow_type)s, %(total_steps)s)
ON CONFLICT (sandbox, customer_id, workflow_type) WHERE NOT completed DO NOTHING
RETURNING session_id, customer_id, workflow_type, current_step, total_steps, completed, data, created_at, updated_at
"""

OPEN_SESSION = planned("""
SELECT session_id, customer_id, workflow_type, current_step, total_steps, completed, data, created_at, updated_at
FROM demo_workflow_state
WHERE customer_id = %(customer_id)s AND workflow_type = %(workflow_type)s AND NOT completed
""")

SESSION = planned("""
SELECT session_id, customer_id, workflow_type, current_step, total_steps, completed, data, created_at, updated_at
FROM demo_workflow_state
WHERE session_id = %(session_id)s
""")

# One statement: the row lock serializes concurrent saves, each merging its own step_<n> key into
# the data the previous one left. Refused (no row) when the data takes more than most_bytes stored,
# the session is missing or completed, or the step is out of 1..total_steps or skips ahead of
# current_step + 1.
SAVE_STEP = """
UPDATE demo_workflow_state
SET data = data || jsonb_build_object('step_' || %(step)s::integer, %(data)s::jsonb),
    current_step = greatest(current_step, %(step)s::integer),
    completed = %(step)s::integer = total_steps,
    updated_at = now()
WHERE session_id = %(session_id)s
  AND NOT completed
  AND %(step)s::integer BETWEEN 1 AND total_steps
  AND %(step)s::integer <= current_step + 1
  AND pg_column_size(%(data)s::jsonb) <= %(most_bytes)s
RETURNING session_id, customer_id, workflow_type, current_step, total_steps, completed, data, created_at, updated_at
"""

# What a value takes as stored in a jsonb column, before any compression.
STORED_SIZE = "SELECT pg_column_size(%(data)s::jsonb)"

# The sandbox's finished sessions but its `keep` latest. Row-level security keeps it to the request's
# sandbox; the condition says so for a login that sees every sandbox.
REMOVE_FINISHED_BEYOND = """
DELETE FROM demo_workflow_state
WHERE sandbox = current_setting('squelch.sandbox') AND completed AND session_id IN (
    SELECT session_id FROM demo_workflow_state
    WHERE sandbox = current_setting('squelch.sandbox') AND completed
    ORDER BY updated_at DESC, session_id DESC
    OFFSET %(keep)s
)
"""

# The same function the act1-planned checkpoint calls (migration 0005).
COMPLETE_LATEST_PLAN = "SELECT demo_complete_plan(%(customer_id)s)"

LATEST_PLAN = planned("""
SELECT plan_id, phase_1_tasks, phase_2_tasks, phase_3_tasks, success_probability, completed
FROM demo_strategic_plans
WHERE customer_id = %(customer_id)s
ORDER BY created_at DESC, plan_id DESC
LIMIT 1
""")


@dataclass(frozen=True)
class Session:
    session_id: str
    customer_id: str
    workflow_type: str
    current_step: int
    total_steps: int
    completed: bool
    data: dict[str, Any]  # free-form: what each step chose to keep, as step_<n>
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PlanTask:
    task: str
    due: str
    status: str


@dataclass(frozen=True)
class Plan:
    plan_id: str
    phase_1_tasks: list[PlanTask]
    phase_2_tasks: list[PlanTask]
    phase_3_tasks: list[PlanTask]
    success_probability: Decimal | None
    completed: bool


def _session_cursor(conn: Connection) -> Cursor[Session]:
    return conn.cursor(row_factory=class_row(Session))


def insert_session(
    conn: Connection, session_id: str, customer_id: str, workflow_type: str, total_steps: int
) -> Session | None:
    """The new session, or None when an open one of this customer and type exists."""
    params = {
        "session_id": session_id,
        "customer_id": customer_id,
        "workflow_type": workflow_type,
        "total_steps": total_steps,
    }
    return _session_cursor(conn).execute(INSERT_SESSION, params).fetchone()


def open_session(conn: Connection, customer_id: str, workflow_type: str) -> Session | None:
    params = {"customer_id": customer_id, "workflow_type": workflow_type}
    return _session_cursor(conn).execute(OPEN_SESSION, params).fetchone()


def session(conn: Connection, session_id: str) -> Session | None:
    return _session_cursor(conn).execute(SESSION, {"session_id": session_id}).fetchone()


def save_step(conn: Connection, session_id: str, step: int, data: dict[str, Any], most_bytes: int) -> Session | None:
    """The session after the step is saved; None when the rules in SAVE_STEP refused it."""
    params = {"session_id": session_id, "step": step, "data": Jsonb(data), "most_bytes": most_bytes}
    return _session_cursor(conn).execute(SAVE_STEP, params).fetchone()


def stored_size(conn: Connection, data: dict[str, Any]) -> int:
    return int(conn.cursor(row_factory=scalar_row).execute(STORED_SIZE, {"data": Jsonb(data)}).fetchone() or 0)


def remove_finished_beyond(conn: Connection, keep: int) -> None:
    """Remove the sandbox's finished sessions but its `keep` most recently finished."""
    conn.execute(REMOVE_FINISHED_BEYOND, {"keep": keep})


def complete_latest_plan(conn: Connection, customer_id: str) -> None:
    conn.execute(COMPLETE_LATEST_PLAN, {"customer_id": customer_id})


@dataclass(frozen=True)
class _PlanRow:
    plan_id: str
    phase_1_tasks: list[dict[str, str]]
    phase_2_tasks: list[dict[str, str]]
    phase_3_tasks: list[dict[str, str]]
    success_probability: Decimal | None
    completed: bool


def latest_plan(conn: Connection, customer_id: str) -> Plan | None:
    row = conn.cursor(row_factory=class_row(_PlanRow)).execute(LATEST_PLAN, {"customer_id": customer_id}).fetchone()
    if row is None:
        return None

    def tasks(phase: list[dict[str, str]]) -> list[PlanTask]:
        return [PlanTask(task=t["task"], due=t["due"], status=t["status"]) for t in phase]

    return Plan(
        row.plan_id,
        tasks(row.phase_1_tasks),
        tasks(row.phase_2_tasks),
        tasks(row.phase_3_tasks),
        row.success_probability,
        row.completed,
    )
