"""Customer profile."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from squelch.models.common import Money, Number


class Contract(BaseModel):
    contract_id: str
    start_date: date
    end_date: date
    arr: Money
    auto_renew: bool
    sla_uptime: Number | None
    status: str


class CustomerProfile(BaseModel):
    customer_id: str = Field(examples=["aco-001"])
    slug: str = Field(examples=["aco"])
    name: str
    industry: str | None
    operatives: int | None
    facilities: int | None
    arr: Money
    renewal_date: date | None
    days_to_renewal: int | None = Field(description="Days from today (UTC) to renewal_date; negative once past.")
    health_score: Number | None
    opportunity_score: Number | None
    primary_contact: str | None = Field(description="Name of the primary contact.")
    primary_contact_id: str | None
    csm_name: str | None
    is_demo: bool
    customer_since: date = Field(description="First day of the relationship (the first contract's start).")
    story_anchor_date: date | None = Field(
        description="The demo day D this sandbox's story was last seeded around; null for a customer outside a story."
    )
    story_age_days: int | None = Field(
        description="Days from story_anchor_date to today: 0 when the story is today's; a front end may warn above 0."
    )
    contract: Contract | None = Field(description="The current contract: the active one, else the latest.")
