"""Health of a customer: the score, what it is made of, and what it predicts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from squelch.models.common import Number

RiskLevel = Literal["critical", "high", "medium", "low"]


class ComponentScores(BaseModel):
    product_performance: Number | None
    relationship_strength: Number | None
    strategic_alignment: Number | None
    support_quality: Number | None
    executive_sponsorship: Number | None


class HealthComponent(BaseModel):
    component: str
    score: Number
    weight: Number = Field(description="Share of the overall score; a customer's weights sum to 1.")
    contribution: Number = Field(description="score × weight; the contributions sum to the overall score.")


class Health(BaseModel):
    customer_id: str
    overall_health_score: Number | None = Field(description="0-10.")
    component_scores: ComponentScores
    components: list[HealthComponent] = Field(description="Each component's weight and contribution, largest first.")
    churn_probability: int | None = Field(description="Percent; see churn_rule.")
    risk_level: RiskLevel | None
    churn_rule: str = Field(description="How churn_probability and risk_level follow from the score.")
    critical_failures_12_months: int = Field(description="Critical tickets filed in the past 365 days.")
    ai_insight: str
