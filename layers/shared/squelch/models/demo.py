"""The presenters' demo reset."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import AfterValidator, BaseModel, Field, StrictBool, StringConstraints

from squelch.models.common import Text

SandboxName = Annotated[
    str,
    Path(
        description="Sandbox name, as in the X-Demo-Sandbox header.",
        pattern=r"^[a-z0-9][a-z0-9-]{0,39}$",
        examples=["acme-rehearsal"],
    ),
]


# A display name: letters of any script, spaces and the marks names carry, starting with a letter; no digits,
# so a name never puts a number in a text that the data does not hold, and no markup.
NAME_MARKS = " .'’&-"


def _display_name(value: str) -> str:
    letters = [unicodedata.category(c)[0] in "LM" or c in NAME_MARKS for c in value]
    if not all(letters) or unicodedata.category(value[0])[0] != "L":
        raise ValueError(f"use letters, spaces and {NAME_MARKS.strip()} only, starting with a letter (no digits)")
    return value


StoryName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
CsmName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=60), AfterValidator(_display_name)
]
AccountName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80), AfterValidator(_display_name)
]


class ResetRequest(BaseModel):
    confirm: Any = Field(
        None, description="Must be true; anything else answers 400 and deletes nothing.", examples=[True]
    )
    checkpoint: Text | None = Field(
        None,
        max_length=64,
        description="The point of the story to start from: one of the story's checkpoints (GET /api/demo/stories), "
        "its first by default; Act 1's are act1-start, act1-mid-planning and act1-planned.",
        examples=["act1-start"],
    )
    story: StoryName | None = Field(
        None,
        description="The story pack the sandbox tells (GET /api/demo/stories lists them): act1-obsidian-black by "
        "default. The default sandbox always tells Act 1.",
        examples=["nocturne-expansion"],
    )
    csm_name: CsmName | None = Field(
        None,
        description="The CSM's name every route and text shows in this sandbox instead of the story's; absent: the "
        "story's own. 2 to 60 characters: letters, spaces and . ' & - (no digits). Not for the default sandbox.",
        examples=["Dana Whitfield"],
    )
    account_name: AccountName | None = Field(
        None,
        description="The account's display name every route and text shows instead of the story's; absent: the "
        "story's own. 2 to 80 characters, as csm_name. Not for the default sandbox.",
        examples=["Acme Shadow Works"],
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
    story: str = Field(description="The story pack it tells now.")
    csm_name: str = Field(description="The CSM's name it shows: the presenter's, else the story's own.")
    account_name: str = Field(description="The account's name it shows: the presenter's, else the story's own.")
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
    story: str = Field(description="The story pack it tells.")
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


class StoryAccount(BaseModel):
    customer_id: str
    slug: str = Field(description="The short reference the routes take, as aco in /api/customers/aco.")
    name: str
    csm_name: str


class StoryCheckpoint(BaseModel):
    name: str
    description: str


class StoryInfo(BaseModel):
    name: str = Field(description="What the reset's story field takes.")
    title: str
    summary: str
    default: bool = Field(description="The story a reset tells without a story field, and the default sandbox's.")
    accounts: list[StoryAccount]
    checkpoints: list[StoryCheckpoint] = Field(description="The first is the story before the first click.")


class StoryList(BaseModel):
    stories: list[StoryInfo] = Field(description="The default story first.")
