"""The presenters' demo reset."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field, StrictBool

from squelch.models.common import Text

SandboxName = Annotated[
    str,
    Path(
        description="Sandbox name, as in the X-Demo-Sandbox header.",
        pattern=r"^[a-z0-9][a-z0-9-]{0,39}$",
        examples=["acme-rehearsal"],
    ),
]


class ResetRequest(BaseModel):
    confirm: Any = Field(
        None, description="Must be true; anything else answers 400 and deletes nothing.", examples=[True]
    )
    checkpoint: Text | None = Field(
        None,
        max_length=64,
        description="The point of the story to start from: act1-start (default), act1-mid-planning or act1-planned.",
        examples=["act1-start"],
    )
    private: StrictBool | None = Field(
        None,
        description="true: the sandbox becomes private (it keeps its key, or gets one): starting or saving a workflow "
        "in it then needs its key in X-Demo-Sandbox-Key. false: public, anyone who knows its name may. Absent: as "
        "it was (a new sandbox is public). The default sandbox is always public.",
        examples=[True],
    )


class ResetResponse(BaseModel):
    success: bool
    message: str
    customer_id: str
    sandbox: str = Field(description="The sandbox reset (X-Demo-Sandbox; default without the header).")
    checkpoint: str = Field(description="The point of the story it starts from now.")
    created: bool = Field(description="True when this reset created the sandbox.")
    anchor_date: date = Field(description="The demo day D the story was re-seeded around.")
    duration_ms: float = Field(description="Time to delete and re-seed, in milliseconds.")
    reset_id: int
    requested_by: str
    owner: str | None = Field(
        description="Who may reset or delete it besides the admin group: its creator. null for the default sandbox, "
        "which every presenter may reset."
    )
    private: bool = Field(description="Whether its workflow writes need its key.")
    sandbox_key: str | None = Field(
        description="A private sandbox's key: the front end sends it in X-Demo-Sandbox-Key. null when public."
    )


StoryState = Literal["current", "stale", "ahead", "out_of_range"]


class SandboxInfo(BaseModel):
    name: str
    checkpoint: str = Field(description="The point of the story its last reset started from.")
    anchor_date: date = Field(description="The demo day D its story was last seeded around.")
    story_age_days: int = Field(description="Days from anchor_date to today: 0 when the story is today's.")
    story_state: StoryState = Field(
        description="current: seeded around today; stale: around an earlier day, still told as of today; ahead: "
        "around a later day, still told as of today (what has not happened yet is not shown); out_of_range: "
        "today is not in the year before its renewal, so its routes answer 409 story_out_of_range until it "
        "is reset (or refreshed)."
    )
    created_at: datetime
    last_activity_at: datetime = Field(description="Its last reset or workflow write.")
    owner: str | None = Field(
        description="The presenter who created it, who may reset and delete it (as may the admin group). null: the "
        "default sandbox, everyone's to reset; or one made before owners were recorded, whose next reset claims it."
    )
    private: bool = Field(description="Whether starting or saving a workflow in it needs its key (X-Demo-Sandbox-Key).")
    can_manage: bool = Field(
        description="Whether the caller may reset it (and, but for the default one, delete it): its owner, a member "
        "of the admin group, anyone for the default sandbox or one without an owner."
    )
    sandbox_key: str | None = Field(
        description="A private sandbox's key, shown to those who may manage it; null otherwise (and when public)."
    )


class SandboxList(BaseModel):
    sandboxes: list[SandboxInfo] = Field(description="The default sandbox first, then the most recently active.")
