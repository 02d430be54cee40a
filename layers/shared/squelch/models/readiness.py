"""The preflight's readiness report: each route function cold or warm and how long it took, the
database, the presenter's sandbox and its story, the AI provider, and one verdict."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from squelch.models.demo import StoryState

Verdict = Literal["ready", "not_ready"]


class WarmedInstance(BaseModel):
    cold: bool = Field(description="True when this warm-up started the instance (a cold start, now warm).")
    init_ms: float | None = Field(description="Its init (the handler's load) on a cold start; null when warm.")
    secret_ms: float | None = Field(description="Reading the database secret; null when not read (already open).")
    connect_ms: float | None = Field(description="Opening (when not open) and checking the database connection.")
    database: str = Field(description="ok, not_used (the console), or the code a request would meet.")
    round_trip_ms: float = Field(description="The warm-up's invocation, as the preflight waited for it.")


class FunctionReadiness(BaseModel):
    function: str = Field(description="The function's logical name in template.yaml.")
    state: Literal["warm", "failed"] = Field(description="warm: every instance answered with its database ok.")
    was_cold: bool = Field(description="True when at least one instance started cold: cold -> warm.")
    instances: list[WarmedInstance] = Field(description="One per concurrent warm-up (WarmInstances).")
    problem: str | None = Field(description="Why it failed: the invocation's error or the database's code.")


class DatabaseCheck(BaseModel):
    state: str = Field(description="ok, or the code the routes would answer (database_unavailable, ...).")
    connect_ms: float | None = Field(description="Opening (when not open) and checking the preflight's connection.")


class SandboxCheck(BaseModel):
    name: str = Field(description="The presenter's sandbox: X-Demo-Sandbox, default without the header.")
    exists: bool | None = Field(description="null when the database could not be asked.")
    checkpoint: str | None
    anchor_date: date | None = Field(description="The demo day D its story was seeded around.")
    story_age_days: int | None = Field(description="Days from anchor_date to today: 0 when the story is today's.")
    story_state: StoryState | None
    todays_story: bool = Field(description="True when its story was seeded around today (story_state current).")


class AiCheck(BaseModel):
    provider: Literal["canned", "bedrock"]
    state: Literal["ok", "not_configured", "unavailable"] = Field(
        description="canned is always ok; bedrock needs its model id and a client (no model is called)."
    )
    model_id: str | None


class ReadinessReport(BaseModel):
    verdict: Verdict = Field(description="ready: every check passed; not_ready: `actions` says what to do.")
    actions: list[str] = Field(description="What to do before the demo, one sentence each; empty when ready.")
    checked_at: datetime = Field(description="When the functions were warmed (UTC).")
    duration_ms: float = Field(description="The whole preflight, warm-ups and checks.")
    instances_per_function: int = Field(description="Concurrent warm-ups of each function (WarmInstances).")
    functions: list[FunctionReadiness] = Field(description="Every route function but the preflight, by name (A-Z).")
    database: DatabaseCheck
    sandbox: SandboxCheck
    ai: AiCheck


class WarmAllSummary(BaseModel):
    """What the demo-hours schedule's invocation of the preflight answers (no sandbox: nobody asked)."""

    warmed: int
    failed: list[str]
    was_cold: list[str]
    duration_ms: float
