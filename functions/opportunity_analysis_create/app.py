"""POST /api/ai/opportunity-analysis: the account's expansion opportunities and what to do next."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from squelch.domain import insights
from squelch.http import create_api
from squelch.models.ai import CustomerRequest, OpportunityAnalysis
from squelch.observability import observed

app = create_api(tells_story=True)


@app.post("/api/ai/opportunity-analysis", summary="Expansion opportunity analysis of a customer.", tags=["ai"])
def analyze_opportunities(request: CustomerRequest) -> OpportunityAnalysis:
    return insights.opportunity_analysis(request.customer_id)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
