"""Expansion opportunities of a customer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from squelch.models.common import Money, Number


class Opportunity(BaseModel):
    opportunity_id: str = Field(examples=["aco-opp-001"])
    name: str
    sponsor: str | None = Field(description="Name of the sponsoring contact.")
    sponsor_contact_id: str | None
    value: Money
    status: Literal["identified", "evaluating", "proposed", "won", "lost"]
    key_requirement: str | None
    competitors_evaluating: list[str]
    urgency: Literal["low", "medium", "high"]
    probability: Number | None = Field(description="Chance of winning, percent.")
    ai_insight: str


class OpportunityList(BaseModel):
    opportunities: list[Opportunity] = Field(description="Largest value first.")
