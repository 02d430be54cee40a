"""Health: the overall score, its components, and the churn rule.

The churn rule, one line: churn_probability = 110 − 10 × health score, rounded half up and held
within 1-99 percent; risk level is critical below 3, high below 5, medium below 7, else low.
At the demo's 4.2 that gives 68 % and "high".
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from squelch import clock, periods
from squelch.ai import canned
from squelch.db import Connection
from squelch.domain.customers import read_for_customer
from squelch.models.common import from_row
from squelch.models.health import ComponentScores, Health, HealthComponent, RiskLevel
from squelch.queries import health as queries
from squelch.queries.customers import Customer

CHURN_RULE = (
    "churn_probability = 110 - 10 x health score, rounded, within 1-99 %; "
    "risk level: critical below 3, high below 5, medium below 7, else low"
)
RISK_BANDS: tuple[tuple[Decimal, RiskLevel], ...] = (
    (Decimal(3), "critical"),
    (Decimal(5), "high"),
    (Decimal(7), "medium"),
)


def churn_probability(health_score: Decimal) -> int:
    raw = (Decimal(110) - 10 * health_score).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(min(Decimal(99), max(Decimal(1), raw)))


def risk_level(health_score: Decimal) -> RiskLevel:
    return next((level for limit, level in RISK_BANDS if health_score < limit), "low")


def critical_failures(conn: Connection, customer_id: str, today: date) -> int:
    """Critical tickets (service failures) filed in the past twelve months, today included."""
    return queries.critical_failures_between(
        conn, customer_id, clock.start_of(periods.twelve_months_before(today)), clock.end_of(today)
    )


def of_customer(ref: str) -> Health:
    today = clock.today()

    def read(conn: Connection, customer: Customer) -> tuple[Customer, list[queries.HealthComponent], int]:
        customer_id = customer.customer_id
        return customer, queries.components_for(conn, customer_id), critical_failures(conn, customer_id, today)

    customer, components, failures = read_for_customer(ref, read)
    score = customer.health_score
    risk = risk_level(score) if score is not None else None
    by_name = {c.component: c.score for c in components}
    return Health(
        customer_id=customer.customer_id,
        overall_health_score=score,
        component_scores=ComponentScores.model_validate(
            {name: by_name.get(name) for name in ComponentScores.model_fields}
        ),
        components=[from_row(HealthComponent, c) for c in components],
        churn_probability=churn_probability(score) if score is not None else None,
        risk_level=risk,
        churn_rule=CHURN_RULE,
        critical_failures_12_months=failures,
        ai_insight=canned.health_insight(customer.name, failures, risk),
    )
