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
    contract: Contract | None = Field(description="The current contract: the active one, else the latest.")
