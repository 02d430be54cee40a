"""Contacts of a customer."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from squelch.models.common import Money


class Contact(BaseModel):
    contact_id: str = Field(examples=["aco-marcus"])
    customer_id: str
    name: str
    title: str | None
    villain_designation: str | None
    engagement_level: Literal["high", "medium", "low"] | None
    satisfaction: Literal["high", "medium", "neutral", "low"] | None
    last_contact: date | None = Field(description="Last day anyone spoke with them; null when never.")
    days_since_contact: int | None = Field(description="Days from last_contact to today; null when never contacted.")
    is_evaluating_competitors: bool
    initiative_value: Money | None = Field(description="Value of an initiative they sponsor, in US dollars.")
    is_primary: bool


class ContactList(BaseModel):
    contacts: list[Contact] = Field(description="Primary contact first, then by name.")
