"""Workflow sessions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header
from pydantic import AfterValidator, BaseModel, Field, StrictInt

from squelch.models.common import Money, Number, Text, storable_json
from squelch.models.health import RiskLevel

# A private sandbox's key: its workflow writes send it (squelch.domain.workflows.check_sandbox_key).
SandboxKey = Annotated[
    str | None,
    Header(
        alias="X-Demo-Sandbox-Key",
        max_length=128,
        description="A private sandbox's key, which its presenter's console shows: starting a workflow or saving a "
        "step in a private sandbox without it (or with another) is a 403 sandbox_key_required. Public sandboxes "
        "ignore it.",
    ),
]


class StartWorkflowRequest(BaseModel):
    customer_id: Text = Field(min_length=1, max_length=128, description="Customer id or slug.", examples=["aco-001"])
    workflow_type: Text = Field(min_length=1, max_length=64, examples=["strategic_planning"])


class CustomerContext(BaseModel):
    customer_id: str
    name: str
    customer_name: str = Field(description="Same as name, under the key the front end reads.")
    health_score: Number | None
    risk_level: RiskLevel | None
    arr: Money
    renewal_date: date | None
    days_to_renewal: int | None


class StartedWorkflow(BaseModel):
    session_id: str = Field(description="Unguessable: wf- and 24 random URL-safe characters.")
    customer_id: str
    workflow_type: str
    current_step: int = Field(description="The highest step saved so far; 1 before any is saved.")
    next_step: int | None = Field(
        description="The step to show next: the lowest one not saved yet; null once the session is completed."
    )
    total_steps: int
    completed: bool
    created_at: datetime
    context: CustomerContext


class SaveStepRequest(BaseModel):
    step: StrictInt = Field(
        description="1..total_steps, at most current_step + 1; any other integer is a 422 invalid_step with the range."
    )
    data: Annotated[dict[str, Any], AfterValidator(storable_json)] = Field(
        description="Anything the step wants kept (JSON object, up to 32 levels); stored as step_<n>."
    )


class SavedStep(BaseModel):
    session_id: str
    current_step: int = Field(description="The highest step saved so far; 1 before any is saved.")
    next_step: int | None = Field(
        description="The step to show next: the lowest one not saved yet; null once the session is completed."
    )
    total_steps: int
    completed: bool


class PlanTask(BaseModel):
    task: str
    due: str
    status: str = Field(
        description="pending while the plan is a draft (a proposal); scheduled once planning has completed and the "
        "plan is agreed. The demo tracks no task's progress past that."
    )


class StrategicPlan(BaseModel):
    plan_id: str
    phase_1_tasks: list[PlanTask]
    phase_2_tasks: list[PlanTask]
    phase_3_tasks: list[PlanTask]
    success_probability: Number | None
    completed: bool = Field(
        description="Planning is completed: the strategic-planning workflow agreed this plan (its tasks are then "
        "scheduled, not done)."
    )


class WorkflowContext(BaseModel):
    session_id: str
    customer_id: str
    workflow_type: str
    current_step: int = Field(description="The highest step saved so far; 1 before any is saved.")
    next_step: int | None = Field(
        description="The step to show next: the lowest one not saved yet; null once the session is completed."
    )
    total_steps: int
    completed: bool
    data: dict[str, Any] = Field(description="Every saved step's data, keyed step_1, step_2, ...")
    created_at: datetime
    updated_at: datetime
    customer_context: CustomerContext
    strategic_plan: StrategicPlan | None = Field(description="The customer's plan, for strategic_planning sessions.")
