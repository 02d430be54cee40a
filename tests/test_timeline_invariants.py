"""The story never contradicts itself, whatever day it is told on.

For every anchor day of a whole year (a leap day, every month end and a year end among them) and
every checkpoint, the story is seeded in a sandbox and read back through the routes; the rules
below must hold for every answer. The sandbox's rows are read too (as the owner), for the history
the routes summarise rather than list (tickets older than the two-week window).
"""

from __future__ import annotations

import json
import re
from calendar import monthrange
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from conftest import DictConnection, body_of, invoke, load_event

from squelch.domain import demo
from squelch.settings import get_settings
from tools.story_check import GET_ROUTES

FIRST_DAY = date(2027, 7, 1)
YEAR = [FIRST_DAY + timedelta(days=n) for n in range(366)]  # through 2028-06-30
AI_ROUTES = {
    "risk": ("RiskAnalysisCreateFunction", "risk_analysis_create.json", {"customer_id": "aco-001"}),
    "opportunity": ("OpportunityAnalysisCreateFunction", "opportunity_analysis_create.json", {"customer_id": "aco"}),
    "email_marcus": ("EmailDraftCreateFunction", "email_draft_create.json", {"recipient": "Marcus Castellan"}),
    "email_elena": ("EmailDraftCreateFunction", "email_draft_create.json", {"recipient": "Dr. Elena Voss"}),
}
MONEY = r"\$(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)([KMB]?)"  # $850K, $1.7M, $1,234,567
YEAR_WORDS = ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
PROSE_DATE = rf"\b({'|'.join(MONTHS)}) (\d{{1,2}}), (\d{{4}})"  # August 20, 2025


def test_the_year_holds_the_days_that_break_date_arithmetic() -> None:
    assert date(2028, 2, 29) in YEAR and date(2027, 12, 31) in YEAR and date(2028, 1, 1) in YEAR
    assert all(date(d.year, d.month, monthrange(d.year, d.month)[1]) in YEAR for d in YEAR)


# ---- reading a day's story -------------------------------------------------------------------------


def on_day(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """The clock and the demo day D both on day (without dropping the functions' connection)."""
    monkeypatch.setenv("DEMO_ANCHOR_DATE", day.isoformat())
    monkeypatch.setenv("DEMO_TODAY", day.isoformat())
    get_settings.cache_clear()


def in_sandbox(event: dict[str, Any], name: str) -> dict[str, Any]:
    event["headers"] = {**event["headers"], "x-demo-sandbox": name}
    return event


def answer(function: str, event: dict[str, Any]) -> Any:
    response = invoke(function, event)
    assert response["statusCode"] in (200, 201), (function, response["body"])
    return body_of(response)


def read_story(name: str, with_ai: bool) -> dict[str, Any]:
    answers = {key: answer(fn, in_sandbox(load_event(file), name)) for key, (fn, file) in GET_ROUTES.items()}
    if with_ai:
        for key, (fn, file, body) in AI_ROUTES.items():
            answers[key] = answer(fn, in_sandbox(load_event(file, body=json.dumps(body)), name))
    start = load_event("workflow_start.json")  # resumes the checkpoint's open session, or starts one
    session = answer("WorkflowStartFunction", in_sandbox(start, name))["session_id"]
    context = load_event("workflow_context_get.json", pathParameters={"session_id": session})
    context["rawPath"] = f"/api/workflows/{session}/context"
    answers["context"] = answer("WorkflowContextGetFunction", in_sandbox(context, name))
    return answers


def rows(conn: DictConnection, name: str) -> dict[str, list[dict[str, Any]]]:
    tables = ("demo_customers", "demo_contacts", "demo_operations", "demo_support_tickets", "demo_contracts",
              "demo_strategic_plans", "demo_workflow_state")  # fmt: skip
    return {t: conn.execute(f"SELECT * FROM {t} WHERE sandbox = %s", [name]).fetchall() for t in tables}


# ---- the rules ---------------------------------------------------------------------------------------


def day_of(value: str | date | datetime) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def years_later(day: date, years: int) -> date:
    year = day.year + years
    return day.replace(year=year, day=min(day.day, monthrange(year, day.month)[1]))


def full_years(start: date, day: date) -> int:
    """How many anniversaries of start have passed on day."""
    years = day.year - start.year
    return years if day >= years_later(start, years) else years - 1


def relationship_starts_first(today: date, story: dict[str, Any], db: dict[str, list[dict[str, Any]]]) -> None:
    since = day_of(story["profile"]["customer_since"])
    events = {
        **{f"operation {o['operation_id']}": day_of(o["date"]) for o in story["operations"]["operations"]},
        **{f"ticket {t['ticket_id']}": day_of(t["created_at"]) for t in story["tickets"]["tickets"]},
        **{f"ticket {t['ticket_id']}": day_of(t["created_at"]) for t in db["demo_support_tickets"]},
        **{f"operation {o['operation_id']}": o["date"] for o in db["demo_operations"]},
        **{f"contact {c['contact_id']}": day_of(c["created_at"]) for c in db["demo_contacts"]},
        **{
            f"last contact with {c['contact_id']}": day_of(c["last_contact"])
            for c in story["contacts"]["contacts"]
            if c["last_contact"]
        },
        "CSM assignment": day_of(db["demo_customers"][0]["csm_assigned_on"]),
    }
    early = {event: day for event, day in events.items() if day < since}
    assert not early, f"before the relationship began on {since}: {early}"
    assert all(day <= today for day in events.values()), "the story tells of no event after today"


def contracts_follow_their_dates(today: date, story: dict[str, Any], db: dict[str, list[dict[str, Any]]]) -> None:
    since = day_of(story["profile"]["customer_since"])
    contract, renewal = story["profile"]["contract"], day_of(story["profile"]["renewal_date"])
    start, end = day_of(contract["start_date"]), day_of(contract["end_date"])
    assert since <= start < today < renewal == end, (since, start, today, renewal)
    for row in db["demo_contracts"]:
        assert row["contract_id"] == f"aco-contract-{row['start_date'].year}", row
        assert since <= row["start_date"] < row["end_date"], row
    terms = sorted(db["demo_contracts"], key=lambda r: r["start_date"])
    assert terms[0]["start_date"] == since, "the first contract began the relationship"
    assert all(a["end_date"] == b["start_date"] for a, b in pairwise(terms)), "no gap, no overlap"
    assert [r["status"] for r in terms if r["start_date"] <= today < r["end_date"]] == ["active"]
    for session in db["demo_workflow_state"]:
        if cited := session["data"].get("step_1", {}).get("contract_id"):
            assert cited == contract["contract_id"], "a checkpoint's session cites the current contract"


def year_and_quarter_words_match_their_dates(today: date, story: dict[str, Any], _db: Any) -> None:
    since, renewal = day_of(story["profile"]["customer_since"]), day_of(story["profile"]["renewal_date"])
    this_year, next_year = full_years(since, today) + 1, full_years(since, renewal) + 1
    marcus = story["email_marcus"]
    assert f"Year {YEAR_WORDS[next_year - 1]} Expectations" in marcus["subject"]
    assert f"Year {YEAR_WORDS[this_year - 1]} was disappointing" in marcus["body"]
    assert f"expectations for Year {YEAR_WORDS[next_year - 1]}." in marcus["body"]
    for text in texts(story):
        for word in re.findall(r"\bYear (\w+)", text):
            assert word in (YEAR_WORDS[this_year - 1], YEAR_WORDS[next_year - 1]), (word, text)
        for quarter, year in re.findall(r"\bQ([1-4]) (\d{4})\b", text):
            first_day = date(int(year), 3 * int(quarter) - 2, 1)
            # A delivery quarter: the next one, which starts after today and before the renewal.
            assert today < first_day < renewal and first_day - today <= timedelta(days=92), (quarter, year, text)


def twelve_month_counts_match_the_dates(
    today: date, story: dict[str, Any], db: dict[str, list[dict[str, Any]]]
) -> None:
    window_start = years_later(today, -1) + timedelta(days=1)
    critical = [
        t
        for t in db["demo_support_tickets"]
        if t["priority"] == "critical" and window_start <= day_of(t["created_at"]) <= today
    ]
    health = story["health"]
    assert health["critical_failures_12_months"] == len(critical)
    sentence = f"experienced {len(critical)} critical service failures in the past 12 months"
    assert sentence in health["ai_insight"] and sentence in story["risk"]["insights"][0]
    summary = story["tickets"]["summary"]
    in_window = [
        t for t in story["tickets"]["tickets"] if today - timedelta(days=14) <= day_of(t["created_at"]) <= today
    ]
    assert summary["total_tickets_2_weeks"] == len(in_window) == len(story["tickets"]["tickets"])
    assert day_of(summary["window_end"]) == today


def ai_text_holds_only_the_datas_numbers_and_dates(
    today: date, story: dict[str, Any], db: dict[str, list[dict[str, Any]]]
) -> None:
    """Each number and date an answer writes is one the data holds (the sandbox's rows, and what the
    routes compute from them). An AI answer's is also one its sources cite (and what the sources
    cite is the data's), a span of days ("87-day") is the span between two dates it cites, and a
    multiplier ("3.3x") is the data's spike multiplier."""
    data = [db, {k: v for k, v in story.items() if k not in AI_ROUTES and k != "context"}]
    numbers, days = numbers_and_days(data)
    multipliers = {Decimal(str(story["tickets"]["summary"]["spike_multiplier"]))}
    for writer, text, sources in written(story):
        cited_numbers, cited_days = numbers_and_days(sources) if sources is not None else (numbers, days)
        unknown = cited_days - days
        assert not unknown, (
            writer,
            "cites dates the data does not hold",
            [s for s in sources if unknown & numbers_and_days(s)[1]],
        )
        spans = {Decimal((a - b).days) for a in cited_days for b in cited_days if a > b}
        allowed = numbers & cited_numbers
        # Named periods are checked by the rules above; an id or a version ("v8.2") is a name.
        text = re.sub(r"\bQ[1-4] \d{4}\b|\bYear \w+|past 12 months|\b\w+-\d+\b|\bv\d+(\.\d+)*", "", text)
        for month, day, year in re.findall(PROSE_DATE, text):
            assert date(int(year), MONTHS.index(month) + 1, int(day)) in cited_days, (writer, month, day, year)
        text = re.sub(PROSE_DATE, "", text)
        for iso in re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text):
            assert date.fromisoformat(iso) in cited_days, (writer, iso)
        text = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", "", text)
        for money, scale in re.findall(MONEY, text):
            value = Decimal(money.replace(",", "")) * {"K": 10**3, "M": 10**6, "B": 10**9, "": 1}[scale]
            assert value in allowed, (writer, money + scale)
        text = re.sub(MONEY, "", text)
        for span in re.findall(r"\b(\d+)-day\b", text):
            assert Decimal(span) in spans, (writer, f"{span}-day", sorted(cited_days))
        text = re.sub(r"\b\d+-day\b", "", text)
        for multiplier in re.findall(r"\b(\d+(?:\.\d+)?)x\b", text):
            assert Decimal(multiplier) in multipliers, (writer, f"{multiplier}x")
        text = re.sub(r"\b\d+(?:\.\d+)?x\b", "", text)
        for number in re.findall(r"\b\d{1,3}(?:,\d{3})+(?:\.\d+)?|\b\d+(?:\.\d+)?", text):
            assert Decimal(number.replace(",", "")) in allowed, (writer, number)


def numbers_and_days(value: Any) -> tuple[set[Decimal], set[date]]:
    numbers, days = set(), set()
    for leaf in leaves(value):
        if isinstance(leaf, bool):
            continue
        if isinstance(leaf, int | float | Decimal):
            numbers.add(Decimal(str(leaf)))
        elif isinstance(leaf, date) or (isinstance(leaf, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", leaf)):
            days.add(day_of(leaf))
    return numbers, days


RULES: list[Callable[[date, dict[str, Any], dict[str, list[dict[str, Any]]]], None]] = [
    relationship_starts_first,
    contracts_follow_their_dates,
    year_and_quarter_words_match_their_dates,
    twelve_month_counts_match_the_dates,
    ai_text_holds_only_the_datas_numbers_and_dates,
]


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def written(story: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every sentence the answers write rather than store, as (writer, text, the sources it cites or
    None): the AI routes' text and the insights of the health and opportunities routes."""
    found: list[tuple[str, str, Any]] = [("health", story["health"]["ai_insight"], None)]
    found += [("opportunities", o["ai_insight"], None) for o in story["opportunities"]["opportunities"]]
    for key in AI_ROUTES:
        ai = story[key]
        for field in ("insights", "recommendation", "ai_insight", "subject", "body"):
            value = ai.get(field)
            found += [(key, text, ai["sources"]) for text in (value if isinstance(value, list) else [value]) if text]
    return found


def texts(story: dict[str, Any]) -> list[str]:
    return [text for _writer, text, _sources in written(story)]


# ---- the property ------------------------------------------------------------------------------------


@pytest.mark.parametrize("checkpoint", demo.CHECKPOINTS)
def test_every_rule_holds_on_every_day_of_a_year(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, checkpoint: str
) -> None:
    name = f"timeline-{checkpoint}"
    broken: dict[str, list[str]] = {}
    for today in YEAR:
        # Given the story seeded on this day, from this checkpoint
        on_day(monkeypatch, today)
        demo.reset(story, today, checkpoint, name)
        # When it is read through the routes
        answers = read_story(name, with_ai=True)
        # Then every rule holds
        for rule in RULES:
            try:
                rule(today, answers, rows(story, name))
            except AssertionError as error:
                broken.setdefault(rule.__name__, []).append(f"{today}: {error}")
    assert not broken, {rule: (len(days), days[:3]) for rule, days in broken.items()}
