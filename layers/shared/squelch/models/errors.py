"""The one error shape every route answers with, whatever the status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable reason, e.g. customer_not_found.", examples=["customer_not_found"])
    message: str = Field(description="What went wrong and what to do, for a person.")
    details: list[dict[str, Any]] = Field(default_factory=list, description="Per-field problems, when any.")


class ErrorResponse(BaseModel):
    error: ErrorBody
