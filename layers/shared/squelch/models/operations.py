"""Operations (the customer's projects) of a customer."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from squelch.models.common import Money


class Operation(BaseModel):
    operation_id: str = Field(examples=["op-blackout"])
    name: str
    status: Literal["planned", "in_progress", "success", "failed"]
    failure_reason: str | None
    cost_impact: Money | None = Field(description="What the outcome cost the customer, in US dollars.")
    quarter: str = Field(description="Calendar quarter of date.", examples=["Q4 2024"])
    date: date


class OperationList(BaseModel):
    operations: list[Operation] = Field(description="Newest first.")
