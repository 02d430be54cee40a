"""Recent support tickets and the spike they make."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class Ticket(BaseModel):
    ticket_id: str = Field(examples=["aco-4891"])
    subject: str
    category: str
    priority: Literal["critical", "high", "medium", "low"]
    sentiment: Literal["frustrated", "neutral", "satisfied"]
    created_at: date = Field(description="Day filed (UTC).")
    filed_at: datetime = Field(description="Instant filed.")
    resolution_time_hours: int | None = Field(description="Null while unresolved.")
    resolved: bool


class TicketSummary(BaseModel):
    total_tickets_2_weeks: int
    normal_rate: float = Field(description="Tickets per two weeks over the baseline, one decimal.")
    spike_multiplier: float | None = Field(description="total / normal rate, one decimal; null when the rate is 0.")
    frustrated_count: int
    window_start: date = Field(description="First day of the two-week window (today − 14).")
    window_end: date = Field(description="Last day of the window (today).")
    baseline_start: date = Field(description="First day of the baseline (today − 98).")
    baseline_end: date = Field(description="Last day of the baseline (today − 15): twelve weeks.")


class TicketList(BaseModel):
    tickets: list[Ticket] = Field(description="Filed in the window, newest first.")
    summary: TicketSummary
