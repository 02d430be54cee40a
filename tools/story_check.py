"""`make story-check [PACK=name]`: prove a story pack coherent on every day it may be shown, without a deployment.

Three stages, each run only when the one before found nothing (a pack that breaks its schema cannot be placed
on a calendar, and one whose dates contradict each other need not be read through the routes):

1. schema: each file against its definition in packs/schema.json.
2. the story's rules, from the pack's data alone, on every anchor day of a year (a leap day among them).
3. the routes: the pack seeded on a scratch database (TEST_DATABASE_URL's server, or an embedded PostgreSQL),
   at every checkpoint, on anchor days across that year (each month's first and last day and the leap day;
   STORY_CHECK_EVERY_DAY=1 for all 366), read through every GET route and the three AI routes, whose every
   answer must pass the number guard.

Each problem names the file, what in it, the rule broken and how: docs/STORY.md lists the rules and why.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import uuid
import warnings
from calendar import monthrange
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from localdev.template import ROOT

PACKS = ROOT / "packs"
SCHEMA = PACKS / "schema.json"
FIRST_DAY = date(2027, 7, 1)
YEAR = [FIRST_DAY + timedelta(days=n) for n in range(366)]  # through 2028-06-30: 29 February 2028 in it
EVENTS = ROOT / "events"
YEAR_WORDS = ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"]
SANDBOX = "story-check"


@dataclass(frozen=True)
class Problem:
    file: str  # the pack's file, e.g. contacts.json
    subject: str  # what in it: "contact aco-marcus", "$.contacts[0].last_contact"
    message: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}: {self.subject}: {self.message} [{self.rule}]"


# ---- stage 1: the schema ---------------------------------------------------------------------------------


def schema_problems(folder: Path) -> list[Problem]:
    from squelch.domain import packs

    schema = json.loads(SCHEMA.read_text())
    problems = []
    for concern in packs.FILES:
        file = f"{concern}.json"
        try:
            data = packs.read_file(folder, concern)
        except packs.PackError as error:
            problems.append(Problem(file, "the file", str(error).split(": ", 1)[1], "schema"))
            continue
        validator = Draft202012Validator({**schema, "$ref": f"#/$defs/{concern}"})
        for broken in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in broken.absolute_path)
            message = broken.message
            if len(message) > 160:  # the whole instance, quoted: say which keyword it breaks instead
                message = f"fails {broken.validator}: {broken.validator_value}"
            problems.append(Problem(file, f"${where}", message, "schema"))
    return problems


# ---- stage 2: the story's rules from its data ------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    file: str
    subject: str
    field: str
    expression: str


def events(pack: Any) -> Iterator[Event]:
    """Every dated fact of the story that tells of the past."""
    yield Event("account.json", f"account {pack.customer_id}", "csm_assigned_on", pack.account["csm_assigned_on"])
    for c in pack.contacts:
        if c["last_contact"]:
            yield Event("contacts.json", f"contact {c['contact_id']}", "last_contact", c["last_contact"])
        yield Event("contacts.json", f"contact {c['contact_id']}", "created_at", c["created_at"])
    for o in pack.operations:
        yield Event("operations.json", f"operation {o['operation_id']}", "date", o["date"])
        yield Event("operations.json", f"operation {o['operation_id']}", "created_at", o["created_at"])
    for t in pack.tickets:
        yield Event("tickets.json", f"ticket {t['ticket_id']}", "created_at", t["created_at"])
    for o in pack.opportunities:
        yield Event("opportunities.json", f"opportunity {o['opportunity_id']}", "created_at", o["created_at"])
    yield Event("plan.json", f"plan {pack.plan['plan_id']}", "created_at", pack.plan["created_at"])
    for h in pack.health:
        yield Event("health.json", f"component {h['component']}", "created_at", h["created_at"])


def _once(problems: list[Problem], problem: Problem) -> None:
    if problem not in problems:
        problems.append(problem)


def data_problems(pack: Any) -> list[Problem]:
    from squelch.domain import packs

    problems: list[Problem] = []
    account, story = pack.account, pack.story
    add = problems.append
    # identity
    if story["customer_id"] != account["customer_id"]:
        add(
            Problem(
                "story.json",
                "customer_id",
                f"{story['customer_id']} is not account.json's customer_id {account['customer_id']}",
                "one-customer",
            )
        )
    if story["renewal"] != account["renewal_date"]:
        add(
            Problem(
                "story.json",
                "renewal",
                f"{story['renewal']} is not account.json's renewal_date {account['renewal_date']}",
                "one-customer",
            )
        )
    for file, rows, key in (
        ("contacts.json", pack.contacts, "contact_id"),
        ("operations.json", pack.operations, "operation_id"),
        ("tickets.json", pack.tickets, "ticket_id"),
        ("opportunities.json", pack.opportunities, "opportunity_id"),
        ("health.json", pack.health, "component"),
        ("checkpoints.json", pack.checkpoints, "name"),
    ):
        seen: set[str] = set()
        for row in rows:
            if row[key] in seen:
                add(Problem(file, f"{key} {row[key]}", "appears twice", "unique-ids"))
            seen.add(row[key])
    contact_ids = {c["contact_id"] for c in pack.contacts}
    for o in pack.opportunities:
        if o["sponsor_contact_id"] and o["sponsor_contact_id"] not in contact_ids:
            add(
                Problem(
                    "opportunities.json",
                    f"opportunity {o['opportunity_id']}",
                    f"sponsor_contact_id {o['sponsor_contact_id']} is not a contact of contacts.json",
                    "references",
                )
            )
    for o in pack.operations:
        if o["failure_reason"] and o["status"] != "failed":
            add(
                Problem(
                    "operations.json",
                    f"operation {o['operation_id']}",
                    f"has a failure_reason but its status is {o['status']}",
                    "failure-reason-when-failed",
                )
            )
    # health: the overall score is the weighted sum of its components
    weights = sum((Decimal(str(h["weight"])) for h in pack.health), Decimal(0))
    if weights != 1:
        add(Problem("health.json", "weight", f"the weights add up to {weights}, not 1", "health-weighted-sum"))
    total = sum((Decimal(str(h["score"])) * Decimal(str(h["weight"])) for h in pack.health), Decimal(0))
    if total != Decimal(str(account["health_score"])):
        add(
            Problem(
                "health.json",
                "score",
                f"the weighted sum of the components is {total.normalize()}, "
                f"but account.json's health_score is {account['health_score']}",
                "health-weighted-sum",
            )
        )
    # checkpoints
    first = pack.checkpoints[0]
    if first["sessions"] or first["complete_plan"]:
        add(
            Problem(
                "checkpoints.json",
                f"checkpoint {first['name']}",
                "the first checkpoint is the story before the first click: no sessions, no plan completed",
                "first-checkpoint-adds-nothing",
            )
        )
    for point in pack.checkpoints:
        for n, session in enumerate(point["sessions"], 1):
            subject = f"checkpoint {point['name']}, session {n}"
            if session["current_step"] > session["total_steps"]:
                add(
                    Problem(
                        "checkpoints.json",
                        subject,
                        f"current_step {session['current_step']} is past total_steps {session['total_steps']}",
                        "session-steps",
                    )
                )
            if session["completed"] and session["current_step"] != session["total_steps"]:
                add(Problem("checkpoints.json", subject, "is completed before its last step", "session-steps"))
            opened, saved = packs.offset(session["created_at"]), packs.offset(session["updated_at"])
            if (opened.days, opened.years, saved.days, saved.years) != (0, 0, 0, 0):
                add(
                    Problem(
                        "checkpoints.json",
                        subject,
                        "a checkpoint's work happens on D: created_at and updated_at are D HH:MM",
                        "checkpoint-on-D",
                    )
                )
            elif (opened.time_of_day or 0) > (saved.time_of_day or 0):  # type: ignore[operator]
                add(
                    Problem(
                        "checkpoints.json",
                        subject,
                        f"updated_at {saved} is before created_at {opened}",
                        "checkpoint-on-D",
                    )
                )
            for key, value in _pairs(session["data"]):
                if key.endswith("contact_id") and value not in contact_ids:
                    add(
                        Problem(
                            "checkpoints.json",
                            subject,
                            f"{key} {value} is not a contact of contacts.json",
                            "references",
                        )
                    )
    # the calendar: every anchor day of a year
    since_expr, renewal_expr = account["customer_since"], account["renewal_date"]
    for day in YEAR:
        placed = packs.place(pack, day)
        since, renewal = placed.customer["customer_since"], placed.customer["renewal_date"]
        if not (years_later(renewal, -1) <= day < renewal):
            _once(
                problems,
                Problem(
                    "account.json",
                    "renewal_date",
                    f"{renewal_expr} must fall after D and within "
                    "a year of it: the story is told in the year before its renewal",
                    "renewal-within-a-year",
                ),
            )
        for event in events(pack):
            when = _day(
                packs.offset(event.expression).instant(day)
                if " " in event.expression
                else packs.offset(event.expression).day(day)
            )
            if when < since:
                _once(
                    problems,
                    Problem(
                        event.file,
                        event.subject,
                        f"{event.field} {event.expression} is before the relationship began at {since_expr}",
                        "relationship-first",
                    ),
                )
            if when > day:
                _once(
                    problems,
                    Problem(
                        event.file,
                        event.subject,
                        f"{event.field} {event.expression} is after D: the story tells of no event still to come",
                        "nothing-after-D",
                    ),
                )
        problems += _contract_problems(pack, placed, day, problems)
        problems += _spike_problems(pack, placed, day, problems)
    return problems


def _contract_problems(pack: Any, placed: Any, day: date, found: list[Problem]) -> list[Problem]:
    new: list[Problem] = []
    terms = sorted(placed.contracts, key=lambda c: c["start_date"])

    def add(subject: str, message: str, rule: str) -> None:
        problem = Problem("contracts.json", subject, message, rule)
        if problem not in found and problem not in new:
            new.append(problem)

    ids = [t["contract_id"] for t in terms]
    if len(set(ids)) != len(ids):
        add(
            "terms",
            f"two terms start in the same year, so share the id {ids}: contract ids are "
            f"{pack.contracts['id_prefix']}<start year>",
            "contract-ids-by-start-year",
        )
    if terms[0]["start_date"] != placed.customer["customer_since"]:
        add(
            "terms[0].start_date",
            f"the first term starts at {pack.contracts['terms'][0]['start_date']}, not when "
            f"the relationship began ({pack.account['customer_since']})",
            "contracts-follow-their-dates",
        )
    for a, b in pairwise(terms):
        if a["end_date"] != b["start_date"]:
            add(
                f"term {b['contract_id']}",
                "does not start the day its predecessor ends: no gap, no overlap",
                "contracts-follow-their-dates",
            )
    current = [t for t in terms if t["start_date"] <= day < t["end_date"]]
    if [t["status"] for t in current] != ["active"] or [t for t in terms if t["status"] == "active"] != current:
        add("terms", "the term in force on D, and only it, is active", "contracts-follow-their-dates")
    elif current[0]["end_date"] != placed.customer["renewal_date"]:
        add(
            "terms", "the active term ends at the renewal (account.json's renewal_date)", "contracts-follow-their-dates"
        )
    return new


def _spike_problems(pack: Any, placed: Any, day: date, found: list[Problem]) -> list[Problem]:
    """The spike and its normal rate as the tickets route computes them (squelch.domain.tickets): a story
    that tells of a spike must have one on every day, and the route's multiplier then divides by a rate."""
    window = [t for t in placed.tickets if day - timedelta(days=14) <= t["created_at"].date() <= day]
    baseline_start = day - timedelta(days=14 * 7)
    baseline = [t for t in placed.tickets if baseline_start <= t["created_at"].date() < day - timedelta(days=14)]
    rate = (Decimal(len(baseline)) / 6).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    problem = None
    if window and not rate:
        problem = Problem(
            "tickets.json",
            "created_at",
            f"{len(window)} tickets in the two weeks before D, but none "
            "in the twelve weeks before them: no normal rate to compare the spike with",
            "spike-vs-normal-rate",
        )
    return [problem] if problem and problem not in found else []


def _pairs(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield key, item
            else:
                yield from _pairs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _pairs(item)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def years_later(day: date, years: int) -> date:
    year = day.year + years
    return day.replace(year=year, day=min(day.day, monthrange(year, day.month)[1]))


# ---- stage 3: through the routes -------------------------------------------------------------------------


def route_days() -> list[date]:
    if os.environ.get("STORY_CHECK_EVERY_DAY"):
        return YEAR
    ends = [d for d in YEAR if d.day == 1 or (d + timedelta(days=1)).day == 1 or (d.month, d.day) == (2, 29)]
    return sorted(set(ends))


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new database, migrated: on TEST_DATABASE_URL's server (dropped after), else an embedded one."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from localdev.database import create_database, start_embedded, stop_embedded
    from squelch.db import migrations

    admin = os.environ.get("TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="squelch-story-check-") as scratch:
        if admin:
            admin = make_conninfo(admin, sslmode=conninfo_to_dict(admin).get("sslmode", "prefer"))
            name = f"story_check_{uuid.uuid4().hex[:12]}"
            create_database(admin, name)
            url = make_conninfo(admin, dbname=name)
        else:
            url = start_embedded(Path(scratch) / "pg", "story_check")
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                migrations.migrate(conn)
            yield url
        finally:
            if admin:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            else:
                stop_embedded()


def _event(file: str, pack: Any, body: dict[str, Any] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / file).read_text())
    slug = pack.account["slug"]
    if "customer_ref" in (event.get("pathParameters") or {}):
        event["pathParameters"]["customer_ref"] = slug
        for key in ("rawPath",):
            event[key] = event[key].replace("/aco", f"/{slug}", 1)
        event["requestContext"]["http"]["path"] = event["rawPath"]
    if body is not None:
        event["body"] = json.dumps(body)
    event["headers"] = {**event["headers"], "x-demo-sandbox": SANDBOX}
    return event


GET_ROUTES = {
    "profile": ("CustomerGetFunction", "customer_get.json"),
    "contacts": ("ContactsListFunction", "contacts_list.json"),
    "operations": ("OperationsListFunction", "operations_list.json"),
    "health": ("HealthGetFunction", "health_get.json"),
    "tickets": ("TicketsListFunction", "tickets_list.json"),
    "opportunities": ("OpportunitiesListFunction", "opportunities_list.json"),
}


def read_story(pack: Any) -> tuple[dict[str, Any], list[Problem]]:
    from localdev import runtime, template

    functions = template.load()
    answers: dict[str, Any] = {}
    problems: list[Problem] = []

    def ask(key: str, function: str, event: dict[str, Any]) -> None:
        response = runtime.invoke(functions[function], event)
        if response["statusCode"] not in (200, 201):
            problems.append(
                Problem("story", key, f"answered {response['statusCode']}: {response['body'][:200]}", "routes-answer")
            )
        else:
            answers[key] = json.loads(response["body"])

    for key, (function, file) in GET_ROUTES.items():
        ask(key, function, _event(file, pack))
    cid = pack.customer_id
    ask("risk", "RiskAnalysisCreateFunction", _event("risk_analysis_create.json", pack, {"customer_id": cid}))
    ask(
        "opportunity",
        "OpportunityAnalysisCreateFunction",
        _event("opportunity_analysis_create.json", pack, {"customer_id": cid}),
    )
    for contact in pack.contacts:
        request = {
            "recipient": contact["contact_id"],
            "context": "story check",
            "purpose": "first contact",
            "customer_id": cid,
        }
        ask(
            f"email {contact['contact_id']}",
            "EmailDraftCreateFunction",
            _event("email_draft_create.json", pack, request),
        )
    return answers, problems


AI_KEYS = ("risk", "opportunity")
WRITTEN = ("insights", "recommendation", "ai_insight", "subject", "body")  # what the AI routes write


def _ai_answers(answers: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for key, answer in answers.items():
        if key in AI_KEYS or key.startswith("email "):
            yield key, answer


def route_problems(pack: Any, today: date, checkpoint: str, answers: dict[str, Any]) -> list[Problem]:
    """The rules the suite holds the Act 1 story to on every day (tests/test_timeline_invariants.py), for
    any pack, and the number guard over every AI answer."""
    from squelch.ai.number_guard import invented_numbers

    found: list[Problem] = []

    def add(file: str, subject: str, message: str, rule: str) -> None:
        found.append(Problem(file, subject, f"{message} (D = {today}, checkpoint {checkpoint})", rule))

    profile = answers["profile"]
    since, renewal = date.fromisoformat(profile["customer_since"]), date.fromisoformat(profile["renewal_date"])
    contract = profile.get("contract") or {}
    if contract.get("contract_id") != f"{pack.contracts['id_prefix']}{date.fromisoformat(contract['start_date']).year}":
        add(
            "contracts.json",
            "the current contract",
            f"{contract.get('contract_id')} is not named for the year it starts in",
            "contract-ids-by-start-year",
        )
    # the twelve-month count, as the health route and the texts say it
    window_start = years_later(today, -1) + timedelta(days=1)
    from squelch.domain import packs

    placed = packs.place(pack, today)
    critical = [
        t for t in placed.tickets if t["priority"] == "critical" and window_start <= t["created_at"].date() <= today
    ]
    health = answers["health"]
    if health["critical_failures_12_months"] != len(critical):
        add(
            "tickets.json",
            "priority critical",
            f"the health route counts {health['critical_failures_12_months']} "
            f"critical failures in the past 12 months, the tickets {len(critical)}",
            "twelve-month-count",
        )
    summary = answers["tickets"]["summary"]
    if summary["spike_multiplier"] is not None and summary["normal_rate"]:
        expected = (Decimal(summary["total_tickets_2_weeks"]) / Decimal(str(summary["normal_rate"]))).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        if Decimal(str(summary["spike_multiplier"])) != expected:
            add(
                "tickets.json",
                "the spike",
                f"multiplier {summary['spike_multiplier']} is not "
                f"{summary['total_tickets_2_weeks']} / {summary['normal_rate']}",
                "spike-vs-normal-rate",
            )
    this_year = full_years(since, today) + 1
    next_year = full_years(since, renewal) + 1
    allowed_years = {YEAR_WORDS[this_year - 1], YEAR_WORDS[min(next_year, len(YEAR_WORDS)) - 1]}
    for key, answer in _ai_answers(answers):
        text = "\n".join(_strings({k: v for k, v in answer.items() if k in WRITTEN}))
        for word in re.findall(r"\bYear (\w+)", text):
            if word not in allowed_years:
                add(
                    "account.json",
                    key,
                    f"writes Year {word}, but D is in Year {YEAR_WORDS[this_year - 1]} of the "
                    f"relationship (customer_since {pack.account['customer_since']})",
                    "year-words",
                )
        for quarter, year in re.findall(r"\bQ([1-4]) (\d{4})\b", text):
            first_day = date(int(year), 3 * int(quarter) - 2, 1)
            if not (today < first_day < renewal):
                add(
                    "account.json",
                    key,
                    f"promises Q{quarter} {year}, which does not start between D and the renewal",
                    "year-words",
                )
        invented = invented_numbers(text, answer.get("sources", []))
        if invented:
            add("story", key, f"writes {sorted(invented)}, which none of its sources holds", "number-guard")
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def full_years(start: date, day: date) -> int:
    years = day.year - start.year
    return years if day >= years_later(start, years) else years - 1


def story_problems(pack: Any, url: str, days: list[date]) -> list[Problem]:
    import psycopg

    from squelch import db
    from squelch.domain import demo
    from squelch.settings import get_settings

    problems: list[Problem] = []
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "DEMO_ANCHOR_DATE", "DEMO_TODAY", "DB_SECRET_ARN")}
    os.environ.update(POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_METRICS_DISABLED="true", DATABASE_URL=url)
    os.environ.pop("DB_SECRET_ARN", None)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for checkpoint in pack.checkpoint_names:
                for today in days:
                    os.environ.update(DEMO_ANCHOR_DATE=today.isoformat(), DEMO_TODAY=today.isoformat())
                    get_settings.cache_clear()
                    demo.reset(conn, today, checkpoint, SANDBOX, pack=pack)
                    answers, failed = read_story(pack)
                    problems += [p for p in failed if p not in problems]
                    if not failed:
                        for problem in route_problems(pack, today, checkpoint, answers):
                            if (problem.file, problem.subject, problem.rule) not in {
                                (p.file, p.subject, p.rule) for p in problems
                            }:
                                problems.append(problem)
            # A presenter's own names in place of the story's, on one day: the texts say them, and still pass
            problems += _personalised_problems(conn, pack, days[0], problems)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        db.close()
    return problems


PRESENTERS_NAMES = ("Dana Whitfield", "Acme Shadow Works")


def _personalised_problems(conn: Any, pack: Any, today: date, found: list[Problem]) -> list[Problem]:
    from squelch.domain import demo
    from squelch.settings import get_settings

    os.environ.update(DEMO_ANCHOR_DATE=today.isoformat(), DEMO_TODAY=today.isoformat())
    get_settings.cache_clear()
    csm, account = PRESENTERS_NAMES
    demo.reset(conn, today, pack.start, SANDBOX, pack=pack, display=demo.Display(csm, account))
    answers, failed = read_story(pack)
    new = [p for p in failed if p not in found]
    if failed:
        return new
    new += [p for p in route_problems(pack, today, pack.start, answers) if p not in found]
    for key, answer in answers.items():
        text = json.dumps(answer, ensure_ascii=False)
        for own in {pack.account["name"], pack.account["csm_name"]}:
            if own in text:
                new.append(
                    Problem(
                        "account.json",
                        key,
                        f"still says {own!r} in a sandbox with the presenter's names",
                        "personal-names",
                    )
                )
    return new


# ---- the command -----------------------------------------------------------------------------------------


def check(folder: Path, url: str | None = None) -> list[Problem]:
    """Every problem of the pack in folder; the routes are read only when url names a migrated database."""
    from squelch.domain import packs

    problems = schema_problems(folder)
    if problems:
        return problems
    pack = packs.read(folder, folder.name)
    problems = data_problems(pack)
    if problems or url is None:
        return problems
    return story_problems(pack, url, route_days())


def across_packs(folder: Path) -> list[Problem]:
    """A checkpoint's name is unique across every pack shipped (the console's one list of checkpoints says
    the story by it)."""
    from squelch.domain import packs

    try:
        mine = [c["name"] for c in packs.read_file(folder, "checkpoints")]
    except packs.PackError:
        return []
    problems = []
    for other in pack_folders([]):
        if other.name == folder.name:  # itself, or the shipped pack a copy being checked stands in for
            continue
        theirs = {c["name"] for c in packs.read_file(other, "checkpoints")}
        for name in mine:
            if name in theirs:
                problems.append(
                    Problem(
                        "checkpoints.json",
                        f"checkpoint {name}",
                        f"is also a checkpoint of {other.name}: name it for this story",
                        "checkpoint-names-across-packs",
                    )
                )
    return problems


def pack_folders(names: list[str]) -> list[Path]:
    if names:
        return [p if (p := Path(n)).is_dir() else PACKS / n for n in names]
    return sorted(p for p in PACKS.iterdir() if p.is_dir())


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", "No application metrics to publish")
    parser = argparse.ArgumentParser(prog="make story-check", description=__doc__.split("\n\n")[0])
    parser.add_argument("packs", nargs="*", help="pack names or folders (default: every pack in packs/)")
    parser.add_argument("--no-routes", action="store_true", help="the schema and the data's rules only")
    args = parser.parse_args(argv)
    failed = False
    folders = pack_folders(args.packs)
    missing = [f for f in folders if not f.is_dir()]
    if missing:
        print(f"story-check: no pack at {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    runner: Callable[[], Any] = scratch_database
    with runner() if not args.no_routes else _nothing() as url:
        for folder in folders:
            problems = across_packs(folder) + check(folder, url)
            for problem in problems:
                print(f"{folder.name}/{problem}")
            failed |= bool(problems)
            if not problems:
                print(f"story-check: {folder.name}: OK")
    return 1 if failed else 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
