"""POST /api/ai/risk-analysis: the account's risks in a few sentences, every figure from the data."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import insights
from squelch.http import create_api
from squelch.models.ai import CustomerRequest, RiskAnalysis
from squelch.observability import observed

app = create_api(tells_story=True)


@app.post("/api/ai/risk-analysis", summary="Risk analysis of a customer account.", tags=["ai"])
def analyze_risk(request: CustomerRequest) -> RiskAnalysis:
    return insights.risk_analysis(request.customer_id)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
