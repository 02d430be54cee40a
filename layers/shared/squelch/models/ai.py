"""AI insight routes: requests, answers, and the facts each answer used."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from squelch.models.common import Money, Number, Text, json_number

Provider = Literal["canned", "bedrock"]


class Source(BaseModel):
    kind: Literal["customer", "contact", "operation", "tickets", "opportunity", "health"]
    id: str = Field(description="Row or figure the fact comes from, e.g. op-blackout.")
    facts: dict[str, Any] = Field(description="The values the text used.")

    @field_validator("facts", mode="before")
    @classmethod
    def _as_json_values(cls, facts: dict[str, Any]) -> dict[str, Any]:
        """Money and dates as the API writes them elsewhere: numbers and YYYY-MM-DD."""

        def plain(value: Any) -> Any:
            if isinstance(value, Decimal):
                return json_number(value)
            return value.isoformat() if isinstance(value, date) else value

        return {key: plain(value) for key, value in facts.items()}


class Answered(BaseModel):
    provider: Provider = Field(description="Who wrote the text: our canned text, or the LLM on Bedrock.")
    fallback_reason: str | None = Field(None, description="Why the LLM's answer was not used, when it was not.")
    sources: list[Source] = Field(description="Every fact the text uses, with where it comes from.")


class CustomerRequest(BaseModel):
    customer_id: Text = Field(min_length=1, max_length=128, description="Customer id or slug.", examples=["aco-001"])


class RiskText(BaseModel):
    """What a writer (canned or LLM) writes for a risk analysis."""

    insights: list[str] = Field(min_length=1, max_length=8)
    recommendation: str = Field(min_length=1, max_length=600)


class RiskAnalysis(Answered, RiskText):
    customer_id: str
    overall_health_score: Number | None
    churn_probability: int | None
    risk_level: str | None


class OpportunityText(BaseModel):
    ai_insight: str = Field(min_length=1, max_length=800)
    recommendation: str = Field(min_length=1, max_length=600)


class AnalyzedOpportunity(BaseModel):
    opportunity_id: str
    name: str
    sponsor: str | None
    value: Money
    probability: Number | None
    key_requirement: str | None
    competitive_threat: str | None


class OpportunityAnalysis(Answered, OpportunityText):
    customer_id: str
    opportunities: list[AnalyzedOpportunity]


class EmailDraftRequest(BaseModel):
    recipient: Text = Field(
        min_length=1, max_length=200, description="Contact name or contact_id.", examples=["Marcus Castellan"]
    )
    context: Text = Field("", max_length=2000, examples=["responding to proving ground email"])
    purpose: Text = Field("", max_length=2000, examples=["acknowledge concerns and request call"])
    customer_id: Text | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="Customer id or slug; absent, the account of the sandbox's story (aco-001 in Act 1).",
    )


class EmailText(BaseModel):
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=4000)


class Recipient(BaseModel):
    contact_id: str
    name: str


class EmailDraft(Answered, EmailText):
    customer_id: str
    recipient: Recipient
