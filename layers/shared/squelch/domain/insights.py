"""The three AI routes: facts from the database, canned text written from them, and, when
AI_PROVIDER=bedrock, the LLM's text instead, unless it fails, in which case the canned text stands."""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from squelch import clock, db, warmup
from squelch.ai import drafts
from squelch.ai.facts import AccountFacts
from squelch.db import Connection
from squelch.domain import health, tickets
from squelch.domain.customers import DEMO_CUSTOMER_ID, read_for_profile
from squelch.errors import Conflict, NotFound
from squelch.models.ai import EmailDraft, OpportunityAnalysis, Provider, Recipient, RiskAnalysis, Source
from squelch.observability import logger, metrics
from squelch.queries import contacts as contact_queries
from squelch.queries import customers as customer_queries
from squelch.queries import operations as operation_queries
from squelch.queries import opportunities as opportunity_queries
from squelch.queries.contacts import Contact
from squelch.queries.customers import CustomerProfile
from squelch.settings import get_settings

T = TypeVar("T", bound=BaseModel)


def gather(ref: str) -> AccountFacts:
    """Everything the AI routes may say about a customer, read in one snapshot, as of today."""
    today = clock.today()

    def read(conn: Connection, customer: CustomerProfile) -> AccountFacts:
        customer_id, score = customer.customer_id, customer.health_score
        return AccountFacts(
            today=today,
            customer=customer,
            contacts=contact_queries.list_for(conn, customer_id, today),
            operations=operation_queries.list_for(conn, customer_id, today),
            critical_failures=health.critical_failures(conn, customer_id, today),
            tickets=tickets.spike(conn, customer_id, today).summary,
            ticket_window_days=tickets.WINDOW_DAYS,
            opportunities=opportunity_queries.list_for(conn, customer_id),
            risk_level=health.risk_level(score) if score is not None else None,
            churn_probability=health.churn_probability(score) if score is not None else None,
        )

    return read_for_profile(ref, read)


def _prompt_facts(f: AccountFacts, sources: list[Source], **extra: Any) -> dict[str, Any]:
    return {
        "customer": f.name,
        "today": f.today.isoformat(),
        "facts": [s.model_dump(mode="json") for s in sources],
        **extra,
    }


def _written(
    task: str, f: AccountFacts, sources: list[Source], canned: T, request: dict[str, str] | None = None, **extra: Any
) -> tuple[T, Provider, str | None]:
    if get_settings().ai_provider != "bedrock":
        return canned, "canned", None
    from squelch.ai import bedrock  # boto3 is imported only when the LLM is in use

    try:
        written = bedrock.write(task, _prompt_facts(f, sources, **extra), type(canned), canned, request)
        return written, "bedrock", None
    except bedrock.ProviderFailure as failure:
        logger.warning("AI provider failed; canned answer used", extra={"reason": failure.reason})
        metrics.add_metric(name="AIFallbacks", unit=MetricUnit.Count, value=1)
        return canned, "canned", failure.reason


@warmup.on_warm_up("bedrock")
def _build_llm_client(answer: warmup.Answer) -> None:
    """The AI routes' warm-up builds the Bedrock client when it is on (boto3's import and the client's
    making are most of an AI route's first-request cost beyond the database); it calls no model."""
    if get_settings().ai_provider != "bedrock":
        return
    try:
        from squelch.ai import bedrock

        bedrock.client()
    except Exception as error:  # the warm-up reports, never raises: the first request will meet it again
        logger.warning("warm-up: Bedrock client not built", extra={"reason": f"{type(error).__name__}: {error}"})


def risk_analysis(customer_ref: str) -> RiskAnalysis:
    f = gather(customer_ref)
    canned, sources = drafts.risk_text(f)
    text, provider, reason = _written(
        "Write a risk analysis of this account: 3 to 5 short insights and one prioritized recommendation.",
        f,
        sources,
        canned,
    )
    return RiskAnalysis(
        customer_id=f.customer_id,
        overall_health_score=f.customer.health_score,
        churn_probability=f.churn_probability,
        risk_level=f.risk_level,
        insights=text.insights,
        recommendation=text.recommendation,
        provider=provider,
        fallback_reason=reason,
        sources=sources,
    )


def opportunity_analysis(customer_ref: str) -> OpportunityAnalysis:
    f = gather(customer_ref)
    canned, analyzed, sources = drafts.opportunity_text(f)
    text, provider, reason = _written(
        "Write one insight on the account's expansion opportunity and one actionable recommendation.",
        f,
        sources,
        canned,
    )
    return OpportunityAnalysis(
        customer_id=f.customer_id,
        opportunities=analyzed,
        ai_insight=text.ai_insight,
        recommendation=text.recommendation,
        provider=provider,
        fallback_reason=reason,
        sources=sources,
    )


def _recipient(f: AccountFacts, recipient: str) -> Contact:
    """The one contact the recipient names; a 404 listing the contacts when none, a 409 listing the
    candidates when several (two people may share a name: the caller resends with a contact_id)."""
    matching = f.contacts_matching(recipient)
    if not matching:
        known = _listed(f.contacts) or "none"
        raise NotFound("recipient_not_found", f"{recipient!r} is not a contact of {f.name}; contacts: {known}.")
    if len(matching) > 1:
        raise Conflict(
            "ambiguous_recipient",
            f"{recipient!r} names {len(matching)} contacts of {f.name}: {_listed(matching)}; "
            "send the contact_id of the one you mean as recipient.",
            [{"contact_id": c.contact_id, "name": c.name} for c in matching],
        )
    return matching[0]


def _listed(contacts: list[Contact]) -> str:
    return ", ".join(f"{c.name} ({c.contact_id})" for c in contacts)


def story_customer() -> str:
    """The customer a request that names none means: its sandbox's story's account (Act 1's when the sandbox
    holds none, so the answer is the usual 404 naming it)."""
    return db.run(customer_queries.sandbox_demo_customer, read_only=True) or DEMO_CUSTOMER_ID


def email_draft(recipient: str, context: str, purpose: str, customer_ref: str | None) -> EmailDraft:
    f = gather(customer_ref or story_customer())
    contact = _recipient(f, recipient)
    canned, sources = drafts.email_text(f, contact)
    text, provider, reason = _written(
        "Draft a professional email from the CSM to the recipient: subject and body, signed by the CSM.",
        f,
        sources,
        canned,
        {"context": context, "purpose": purpose},
        recipient=contact.name,
    )
    return EmailDraft(
        customer_id=f.customer_id,
        recipient=Recipient(contact_id=contact.contact_id, name=contact.name),
        subject=text.subject,
        body=text.body,
        provider=provider,
        fallback_reason=reason,
        sources=sources,
    )
