"""The presenters' demo reset."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


class ResetRequest(BaseModel):
    confirm: Any = Field(
        None, description="Must be true; anything else answers 400 and deletes nothing.", examples=[True]
    )


class ResetResponse(BaseModel):
    success: bool
    message: str
    customer_id: str
    anchor_date: date = Field(description="The demo day D the story was re-seeded around.")
    duration_ms: float = Field(description="Time to delete and re-seed, in milliseconds.")
    reset_id: int
    requested_by: str
