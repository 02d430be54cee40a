"""Canned answers of the three AI routes, written from AccountFacts; each writer returns its text and
the sources it used. They are also the fallback whenever the LLM provider fails."""

from __future__ import annotations

from squelch.ai import wording
from squelch.ai.canned import FAILURE_WINDOW_MONTHS, OUTLOOK, health_insight, opportunity_insight
from squelch.ai.facts import AccountFacts
from squelch.models.ai import AnalyzedOpportunity, EmailText, OpportunityText, RiskText, Source
from squelch.models.common import from_row
from squelch.queries.contacts import Contact
from squelch.queries.opportunities import Opportunity


def _customer_source(f: AccountFacts, **facts: object) -> Source:
    return Source(kind="customer", id=f.customer_id, facts={"name": f.name, **facts})


def _contact_standing(f: AccountFacts, contact: Contact) -> str:
    if contact.last_contact is None:
        return "never contacted"
    return f"last contacted {wording.count(f.days_since(contact.last_contact) or 0, 'day')} ago"


def risk_text(f: AccountFacts) -> tuple[RiskText, list[Source]]:
    sources = [_customer_source(f, health_score=f.customer.health_score, risk_level=f.risk_level)]
    insights = [health_insight(f.name, f.critical_failures, None)]
    sources.append(
        Source(
            kind="tickets",
            id=f"{f.customer_id}:critical-12-months",
            facts={"critical_tickets_past_365_days": f.critical_failures, "window_months": FAILURE_WINDOW_MONTHS},
        )
    )
    if worst := f.most_costly_failure():
        insights.append(
            f"Most severe: {worst.name} directly cost {f.name} {wording.money(worst.cost_impact or 0)} "
            "and damaged trust."
        )
        sources.append(
            Source(
                kind="operation",
                id=worst.operation_id,
                facts={"name": worst.name, "cost_impact": worst.cost_impact, "date": worst.date},
            )
        )
    if gap := f.communication_gap():
        days, last = gap.days, gap.last_contact_before
        insights.append(f"Your predecessor's departure created {wording.a_or_an(days)} {days}-day communication void.")
        sources.append(_customer_source(f, csm_assigned_on=f.customer.csm_assigned_on, communication_gap_days=days))
        sources.append(Source(kind="contact", id=last.contact_id, facts={"last_contact": last.last_contact}))
    spike = f.tickets
    if spike.spike_multiplier and spike.spike_multiplier > 1:
        weeks = f.ticket_window_days // 7
        insights.append(
            f"Support tickets spiked to {spike.total_tickets_2_weeks} in the past "
            f"{wording.count(weeks, 'week', spelled=True)}, "
            f"{spike.spike_multiplier}x the normal rate of {spike.normal_rate}."
        )
        sources.append(
            Source(
                kind="tickets",
                id=f"{f.customer_id}:spike",
                facts={
                    "total_tickets_2_weeks": spike.total_tickets_2_weeks,
                    "normal_rate": spike.normal_rate,
                    "spike_multiplier": spike.spike_multiplier,
                    "window_days": f.ticket_window_days,
                    "window_weeks": weeks,
                },
            )
        )
    if f.risk_level:
        insights.append(OUTLOOK[f.risk_level])
    return RiskText(insights=insights, recommendation=_priority(f, sources)), sources


def _priority(f: AccountFacts, sources: list[Source]) -> str:
    contact = f.priority_contact()
    if contact is None:
        return f"Priority: map the stakeholders at {f.name}; no contacts are on record."
    reasons = [_contact_standing(f, contact)]
    if contact.is_evaluating_competitors:
        reasons.append("evaluating competitors")
    if opportunity := f.sponsored(contact.contact_id):
        reasons.append(f"sponsor of the {wording.money(opportunity.value)} {opportunity.name}")
        sources.append(
            Source(
                kind="opportunity",
                id=opportunity.opportunity_id,
                facts={"name": opportunity.name, "value": opportunity.value},
            )
        )
    sources.append(
        Source(
            kind="contact",
            id=contact.contact_id,
            facts={
                "name": contact.name,
                "last_contact": contact.last_contact,
                "days_since_contact": f.days_since(contact.last_contact),
                "is_evaluating_competitors": contact.is_evaluating_competitors,
            },
        )
    )
    if f.knows(contact):  # the CSM is in touch already: keep it up rather than start one
        return f"Priority: keep {contact.name} close this week: {wording.joined(reasons)}."
    return f"Priority: establish a relationship with {contact.name} this week: {wording.joined(reasons)}."


def opportunity_text(f: AccountFacts) -> tuple[OpportunityText, list[AnalyzedOpportunity], list[Source]]:
    sources: list[Source] = []
    analyzed = []
    for o in f.opportunities:
        evaluator = wording.first_name(o.sponsor) if o.sponsor else "The customer"
        threat = (
            f"{evaluator} is evaluating {wording.joined(o.competitors_evaluating)}"
            if o.competitors_evaluating
            else None
        )
        analyzed.append(from_row(AnalyzedOpportunity, o, competitive_threat=threat))
        sources.append(
            Source(
                kind="opportunity",
                id=o.opportunity_id,
                facts={
                    "name": o.name,
                    "sponsor": o.sponsor,
                    "value": o.value,
                    "probability": o.probability,
                    "key_requirement": o.key_requirement,
                    "competitors": o.competitors_evaluating,
                    "delivery_quarter": wording.quarter_after(f.today),
                },
            )
        )
    if not f.opportunities:
        text = OpportunityText(
            ai_insight=f"No expansion opportunities are on record for {f.name}.",
            recommendation="Ask the sponsor of the account what they plan next year.",
        )
        return text, analyzed, [_customer_source(f)]
    top = f.opportunities[0]
    insight = opportunity_insight(top.sponsor, top.key_requirement, top.competitors_evaluating, top.value, f.today)
    sponsor = next((c for c in f.contacts if c.contact_id == top.sponsor_contact_id), None)
    if sponsor:
        opening = "Follow up with" if f.knows(sponsor) else "Introduce yourself to"
        recommendation = (
            f"{opening} {wording.first_name(sponsor.name)} first "
            f"({_contact_standing(f, sponsor)}). "
            "Position Squelch as a strategic partner, not a vendor."
        )
        sources.append(
            Source(
                kind="contact",
                id=sponsor.contact_id,
                facts={
                    "name": sponsor.name,
                    "last_contact": sponsor.last_contact,
                    "days_since_contact": f.days_since(sponsor.last_contact),
                },
            )
        )
    else:
        recommendation = f"Find the sponsor of the {top.name} and position Squelch as a strategic partner."
    return OpportunityText(ai_insight=insight, recommendation=recommendation), analyzed, sources


SIGNATURE_ROLE = "Customer Success Manager, Squelch"


def email_text(f: AccountFacts, contact: Contact) -> tuple[EmailText, list[Source]]:
    """Unhappy contacts (Act 1's Marcus) get ownership and a call request; contacts evaluating competitors
    or sponsoring an initiative (Elena) an introduction and a discovery call; others a check-in. What
    the letter owns, and whether its sender is new, come from the data."""
    sender = f.customer.csm_name or "Your Customer Success Manager"
    sources = [
        _customer_source(f, csm_name=f.customer.csm_name),
        Source(
            kind="contact",
            id=contact.contact_id,
            facts={
                "name": contact.name,
                "satisfaction": contact.satisfaction,
                "is_primary": contact.is_primary,
                "is_evaluating_competitors": contact.is_evaluating_competitors,
            },
        ),
    ]
    greeting = f"{wording.first_name(contact.name)},"
    sign_off = f"Best regards,\n{sender}\n{SIGNATURE_ROLE}"
    opportunity = f.sponsored(contact.contact_id)
    if contact.is_evaluating_competitors or opportunity:
        body, subject = _introduction(f, opportunity, sender, sources)
    elif contact.satisfaction == "low" or (contact.is_primary and (f.most_costly_failure() or f.communication_gap())):
        body, subject = _ownership(f, sources)
    else:
        subject = f"Checking in from Squelch: {f.name}"
        body = (
            f"I'm {sender}, the Customer Success Manager for {f.name} at Squelch. I'd like to hear how the "
            "platform is working for your team and what you need from us next.\n\n"
            "Would you be open to a short call this week?"
        )
    return EmailText(subject=subject, body=f"{greeting}\n\n{body}\n\n{sign_off}"), sources


def _ownership(f: AccountFacts, sources: list[Source]) -> tuple[str, str]:
    year = f.contract_year()
    sources.append(
        _customer_source(f, customer_since=f.customer_since, contract_year=year, next_contract_year=year + 1)
    )
    owned = []
    if worst := f.most_costly_failure():
        owned.append(
            f"The {worst.name} incident cost you {wording.money(worst.cost_impact or 0)} and should never "
            "have happened."
        )
        sources.append(
            Source(
                kind="operation", id=worst.operation_id, facts={"name": worst.name, "cost_impact": worst.cost_impact}
            )
        )
    if gap := f.communication_gap():
        owned.append(f"The {gap.days}-day communication gap after my predecessor's departure was unacceptable.")
        sources.append(_customer_source(f, csm_assigned_on=f.customer.csm_assigned_on, communication_gap_days=gap.days))
        sources.append(
            Source(
                kind="contact",
                id=gap.last_contact_before.contact_id,
                facts={"last_contact": gap.last_contact_before.last_contact},
            )
        )
    if owned:
        owned.append("These aren't excuses I'm offering—they're problems I'm committed to solving.")
    body = (
        "Thank you for your email. I appreciate your directness—it's exactly what I need to serve "
        f"{f.name} effectively.\n\n"
        f"You're right: {wording.year_name(year)} was disappointing. {' '.join(owned)}".rstrip()
        + "\n\n"
        f"I'd like to request a short call this week to listen and understand your expectations for "
        f"{wording.year_name(year + 1)}. I'm not coming with a pitch—I'm coming to learn what \"strategic "
        'partnership" looks like from your perspective.\n\n'
        "Would a time this week work for you?"
    )
    subject = f"Re: {f.name} Renewal Discussion - {wording.year_name(year + 1)} Expectations"
    return body, subject


def _introduction(
    f: AccountFacts, opportunity: Opportunity | None, sender: str, sources: list[Source]
) -> tuple[str, str]:
    role = "the new Customer Success Manager" if f.csm_is_new() else "your Customer Success Manager"
    intro = f"I'm {sender}, {role} for {f.name} at Squelch."
    if not f.csm_is_new():
        sources.append(_customer_source(f, csm_assigned_on=f.customer.csm_assigned_on))
    if opportunity and opportunity.key_requirement:
        requirement = wording.mid_sentence(opportunity.key_requirement)
        quarter = wording.quarter_after(f.today)
        sources.append(
            Source(
                kind="opportunity",
                id=opportunity.opportunity_id,
                facts={
                    "name": opportunity.name,
                    "key_requirement": opportunity.key_requirement,
                    "delivery_quarter": quarter,
                },
            )
        )
        middle = (
            f"I understand you're leading the {opportunity.name}, and that {requirement} is the capability "
            "it turns on.\n\n"
            "I'd value a discovery call to understand your requirements and timeline, and to share where "
            f"Squelch stands on {requirement}, including what we can commit to for {quarter}."
        )
        subject = f"{opportunity.name}: a discovery call on {requirement}"
    else:
        middle = "I'd value a discovery call to understand your priorities and how Squelch can support them."
        subject = f"Introduction: your Customer Success Manager for {f.name}"
    return f"{intro} {middle}\n\nWould you be open to a short call this week?", subject
