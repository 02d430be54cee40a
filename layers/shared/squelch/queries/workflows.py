"""SQL of workflow sessions and the strategic plans they complete."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from squelch.db import Connection

SESSION_COLUMNS = """session_id, customer_id, workflow_type, current_step, total_steps, completed, data,
                     created_at, updated_at"""

# The partial unique index demo_workflow_state_one_open_idx makes a duplicate start a no-op.
INSERT_SESSION = f"""
INSERT INTO demo_workflow_state (session_id, customer_id, workflow_type, total_steps)
VALUES (%(session_id)s, %(customer_id)s, %(workflow_type)s, %(total_steps)s)
ON CONFLICT (customer_id, workflow_type) WHERE NOT completed DO NOTHING
RETURNING {SESSION_COLUMNS}
"""

OPEN_SESSION = f"""
SELECT {SESSION_COLUMNS}
FROM demo_workflow_state
WHERE customer_id = %(customer_id)s AND workflow_type = %(workflow_type)s AND NOT completed
"""

SESSION = f"SELECT {SESSION_COLUMNS} FROM demo_workflow_state WHERE session_id = %(session_id)s"

# One statement: the row lock serializes concurrent saves, each merging its own step_<n> key into
# the data the previous one left. Refused (no row) when the session is missing or completed, or
# the step is out of 1..total_steps or skips ahead of current_step + 1.
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
RETURNING session_id, customer_id, workflow_type, current_step, total_steps, completed
"""

COMPLETE_LATEST_PLAN = """
UPDATE demo_strategic_plans SET completed = true
WHERE plan_id = (
    SELECT plan_id FROM demo_strategic_plans WHERE customer_id = %(customer_id)s
    ORDER BY created_at DESC, plan_id DESC LIMIT 1
)
"""

LATEST_PLAN = """
SELECT plan_id, phase_1_tasks, phase_2_tasks, phase_3_tasks, success_probability, completed
FROM demo_strategic_plans
WHERE customer_id = %(customer_id)s
ORDER BY created_at DESC, plan_id DESC
LIMIT 1
"""


def insert_session(
    conn: Connection, session_id: str, customer_id: str, workflow_type: str, total_steps: int
) -> dict[str, Any] | None:
    params = {"session_id": session_id, "customer_id": customer_id, "workflow_type": workflow_type,
              "total_steps": total_steps}
    return conn.execute(INSERT_SESSION, params).fetchone()


def open_session(conn: Connection, customer_id: str, workflow_type: str) -> dict[str, Any] | None:
    return conn.execute(OPEN_SESSION, {"customer_id": customer_id, "workflow_type": workflow_type}).fetchone()


def session(conn: Connection, session_id: str) -> dict[str, Any] | None:
    return conn.execute(SESSION, {"session_id": session_id}).fetchone()


def save_step(conn: Connection, session_id: str, step: int, data: dict[str, Any]) -> dict[str, Any] | None:
    return conn.execute(SAVE_STEP, {"session_id": session_id, "step": step, "data": Jsonb(data)}).fetchone()


def complete_latest_plan(conn: Connection, customer_id: str) -> None:
    conn.execute(COMPLETE_LATEST_PLAN, {"customer_id": customer_id})


def latest_plan(conn: Connection, customer_id: str) -> dict[str, Any] | None:
    return conn.execute(LATEST_PLAN, {"customer_id": customer_id}).fetchone()
