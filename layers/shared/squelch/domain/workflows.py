"""Guided-workflow sessions: a registry of workflow types, and sessions saved step by step.

Consistency lives in the database: a partial unique index allows one open session per customer
and type (so duplicate starts, even concurrent ones, meet the same session), and a step is saved
by one conditional UPDATE (so concurrent writers never lose each other's steps).

Anyone may write here when the stack does not require sign-in, so what they can store is bounded: a
step's data takes at most STEP_DATA_MAX_BYTES as stored, and a sandbox keeps its FINISHED_SESSIONS_KEPT
latest finished sessions beside its open ones (docs/RELIABILITY.md computes the bound this makes).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any, NoReturn

from squelch import clock, db
from squelch.db import Connection, sandbox
from squelch.db.connection import sandbox_not_found
from squelch.domain.customers import check_story_holds, customer_not_found
from squelch.domain.health import risk_level
from squelch.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from squelch.models.common import from_row
from squelch.models.workflows import CustomerContext, SavedStep, StartedWorkflow, WorkflowContext
from squelch.queries import customers as customer_queries
from squelch.queries import demo as demo_queries
from squelch.queries import workflows as queries
from squelch.queries.customers import Customer


@dataclass(frozen=True)
class WorkflowType:
    total_steps: int
    description: str


# The database's CHECK on demo_workflow_state.workflow_type admits exactly these names.
WORKFLOW_TYPES: dict[str, WorkflowType] = {
    "strategic_planning": WorkflowType(5, "Build the rescue plan: contract, stakeholders, risks, plan, review."),
    "risk_detection": WorkflowType(4, "Find and explain the account's risks: signals, causes, impact, actions."),
}
START_ATTEMPTS = 3
MAX_STEPS = 2**31 - 1  # PostgreSQL integer
# The most one step's data may take as stored (jsonb, uncompressed): the demo's largest step takes 273
# bytes. Measured as stored, not as sent: jsonb keeps an array of small numbers in six times its text.
STEP_DATA_MAX_BYTES = 8 * 1024
# Finished sessions a sandbox keeps; finishing one more removes the oldest (a front end may still show
# the latest ones; none needs a history).
FINISHED_SESSIONS_KEPT = 10


def new_session_id() -> str:
    return "wf-" + secrets.token_urlsafe(18)  # 144 random bits


def _workflow_type(name: str) -> WorkflowType:
    if name not in WORKFLOW_TYPES:
        known = ", ".join(sorted(WORKFLOW_TYPES))
        raise Invalid(
            "unknown_workflow_type",
            f"Unknown workflow_type {name!r}; known types: {known}.",
            [{"loc": ["workflow_type"], "msg": f"must be one of: {known}", "type": "enum"}],
        )
    return WORKFLOW_TYPES[name]


def _customer_context(customer: Customer) -> CustomerContext:
    score, renewal = customer.health_score, customer.renewal_date
    return from_row(
        CustomerContext,
        customer,
        customer_name=customer.name,
        risk_level=risk_level(score) if score is not None else None,
        days_to_renewal=(renewal - clock.today()).days if renewal else None,
    )


def start(customer_ref: str, workflow_type: str, sandbox_key: str | None = None) -> tuple[StartedWorkflow, bool]:
    """The open session of this customer and type, created if there is none. True when created. A private
    sandbox's key must be sandbox_key (check_sandbox_key)."""
    kind, today = _workflow_type(workflow_type), clock.today()

    def unit(conn: Connection) -> tuple[Customer, queries.Session, bool]:
        demo_queries.lock_story_for_write(conn, sandbox.current())
        check_sandbox_key(conn, sandbox_key)
        customer = customer_queries.resolve(conn, customer_ref)
        if customer is None:
            raise _gone(conn) or customer_not_found(customer_ref)
        check_story_holds(customer, today)
        for _ in range(START_ATTEMPTS):
            # Each statement sees what committed before it: a concurrent start that won the
            # insert is found by the select; one that completed in between lets the next insert win.
            created = queries.insert_session(
                conn, new_session_id(), customer.customer_id, workflow_type, kind.total_steps
            )
            if created:
                demo_queries.touch(conn, sandbox.current())
                return customer, created, True
            existing = queries.open_session(conn, customer.customer_id, workflow_type)
            if existing:
                return customer, existing, False
        raise Conflict("start_contended", "The session changed while starting; try again.")

    customer, session, created = db.run(unit)
    return from_row(
        StartedWorkflow, session, next_step=next_step(session), context=_customer_context(customer)
    ), created


def next_step(session: queries.Session) -> int | None:
    """The step a UI should show next: the lowest one not saved yet; None once the session is completed."""
    if session.completed:
        return None
    return next((n for n in range(1, session.total_steps + 1) if f"step_{n}" not in session.data), None)


def save_step(session_id: str, step: int, data: dict[str, Any], sandbox_key: str | None = None) -> SavedStep:
    def unit(conn: Connection) -> SavedStep:
        demo_queries.lock_story_for_write(conn, sandbox.current())
        check_sandbox_key(conn, sandbox_key)
        # A step no session can have never reaches the database (it would not fit its integer column).
        fits = 1 <= step <= MAX_STEPS
        saved = queries.save_step(conn, session_id, step, data, STEP_DATA_MAX_BYTES) if fits else None
        if saved is None:
            _explain_refusal(conn, session_id, step, data)
        demo_queries.touch(conn, sandbox.current())
        if saved.completed:
            queries.remove_finished_beyond(conn, FINISHED_SESSIONS_KEPT)
            if saved.workflow_type == "strategic_planning":
                queries.complete_latest_plan(conn, saved.customer_id)
        return from_row(SavedStep, saved, next_step=next_step(saved))

    return db.run(unit)


def check_sandbox_key(conn: Connection, sent: str | None) -> None:
    """A private sandbox's workflows are written only by who sends its key (X-Demo-Sandbox-Key): a start
    hands back the open session's id, so knowing the sandbox's name would otherwise be enough to
    complete a presenter's workflow. Read under the story lock, after any reset that changed it."""
    name = sandbox.current()
    expected = demo_queries.sandbox_key(conn, name)
    if expected is None:
        return
    if sent is None:
        raise Forbidden(
            "sandbox_key_required",
            f"Sandbox {name!r} is private: send its key in the X-Demo-Sandbox-Key header (its presenter's "
            "console shows it).",
        )
    if not hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode()):
        raise Forbidden(
            "sandbox_key_required",
            f"The X-Demo-Sandbox-Key sent is not sandbox {name!r}'s key: copy it again from its presenter's "
            "console (making the sandbox public and private again gives it a new one).",
        )


def _gone(conn: Connection) -> NotFound | None:
    """sandbox_not_found when the request's sandbox was deleted before this write got its story lock
    (a delete holds it exclusively): then the write found nothing to write to. Asked only after a
    refusal, so a write that succeeds costs no statement more."""
    name = sandbox.current()
    return None if demo_queries.sandbox_exists(conn, name) else sandbox_not_found(name)


def _explain_refusal(conn: Connection, session_id: str, step: int, data: dict[str, Any]) -> NoReturn:
    """Why the conditional UPDATE matched no row: 413 step_data_too_large, 404, 409, or 422 invalid_step
    with the steps allowed."""
    if (size := queries.stored_size(conn, data)) > STEP_DATA_MAX_BYTES:
        raise step_data_too_large(size)
    session = queries.session(conn, session_id)
    if session is None:
        raise _gone(conn) or session_not_found(session_id)
    if session.completed:
        raise Conflict("session_completed", f"Session {session_id} is completed; start a new one.")
    total, current = session.total_steps, session.current_step
    if not 1 <= step <= total:
        message, kind, highest = f"step must be between 1 and {total}.", "step_out_of_range", total
    else:
        message = f"step {step} skips ahead: the current step is {current}, so the next is at most {current + 1}."
        kind, highest = "step_skips_ahead", current + 1
    raise Invalid("invalid_step", message, [{"loc": ["step"], "msg": message, "type": kind, "min": 1, "max": highest}])


def step_data_too_large(size: int) -> TooLarge:
    most = STEP_DATA_MAX_BYTES
    message = (
        f"The step's data takes {size:,} bytes as stored; a step may keep {most:,} ({most // 1024} KiB) at most. "
        "Keep what the step chose (ids, choices, short notes), not whole documents."
    )
    return TooLarge(
        "step_data_too_large",
        message,
        [
            {
                "loc": ["body", "data"],
                "msg": f"takes {size:,} bytes stored, over {most:,}",
                "type": "too_large",
                "max": most,
                "size": size,
            }
        ],
    )


def session_not_found(session_id: str) -> NotFound:
    return NotFound("session_not_found", f"No workflow session {session_id!r}.")


def context(session_id: str) -> WorkflowContext:
    today = clock.today()

    def unit(conn: Connection) -> tuple[queries.Session, Customer, queries.Plan | None]:
        session = queries.session(conn, session_id)
        if session is None:
            raise session_not_found(session_id)
        customer = customer_queries.resolve(conn, session.customer_id)
        if customer is None:  # the foreign key keeps a session's customer; only a broken database gets here
            raise customer_not_found(session.customer_id)
        check_story_holds(customer, today)
        planning = session.workflow_type == "strategic_planning"
        return session, customer, queries.latest_plan(conn, session.customer_id) if planning else None

    session, customer, plan = db.run(unit, read_only=True)
    return from_row(
        WorkflowContext,
        session,
        next_step=next_step(session),
        customer_context=_customer_context(customer),
        strategic_plan=plan,
    )
