"""The daily refresh: a demo that is always today's.

A story is told around the day D it was seeded on; days later its renewal is closer and its ticket
spike has aged out of the two-week window, and once its renewal has come it is no longer told at all
(squelch.domain.customers.story_holds). Once a day the refresh re-seeds every sandbox whose D is not
today (before it, or ahead of it after a rehearsal with a pinned DEMO_ANCHOR_DATE) from the
checkpoint it was at, unless a presenter is at work in it (and its story is a day old at most).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import psycopg
from aws_lambda_powertools.metrics import MetricUnit

from squelch import clock, db
from squelch.db import Connection, sandbox
from squelch.domain import demo
from squelch.errors import DomainError
from squelch.observability import logger, metrics
from squelch.queries import demo as queries
from squelch.settings import get_settings

# A reset or workflow write this recent means a presenter is in the middle of a demo. Reads are not
# recorded (they run in read-only snapshots), so a presenter who only reads for half an hour at
# the refresh's hour sees the story move to today: the same story, one day on.
QUIET_PERIOD = timedelta(minutes=30)
# A busy sandbox is skipped only while its story is this many days off today's. The refresh runs daily, so a
# story further off was skipped before: a demo does not last a day, and workflow writes need no token, so
# writes around the clock (a flood) must not keep a story from being told around today for ever.
BUSY_SKIPPED_DAYS = 1
REQUESTED_BY = "daily-refresh"

Outcome = Literal["refreshed", "busy", "current"]


class StoryRefreshFailed(RuntimeError):
    """Some stale sandboxes could not be refreshed (the others were): the run fails, so it is seen."""


@dataclass
class RefreshReport:
    anchor_date: date
    refreshed: list[str] = field(default_factory=list)
    skipped_busy: list[str] = field(default_factory=list)
    removed_idle: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return asdict(self) | {"anchor_date": self.anchor_date.isoformat()}


def refresh_stale_stories() -> dict[str, Any]:
    """Remove sandboxes idle past the TTL, then re-seed every stale one around today, each in its
    own transaction so one failure stops no other. Raises StoryRefreshFailed after the run when any
    failed. Returns what was done."""
    report = RefreshReport(clock.demo_anchor())

    def survey(conn: Connection) -> tuple[list[str], list[str]]:
        queries.lock_sandbox_creation(conn)
        removed = queries.delete_idle(conn, get_settings().demo_sandbox_ttl_days)
        return removed, queries.stale_sandboxes(conn, report.anchor_date)

    with sandbox.using(sandbox.DEFAULT):  # the directory of sandboxes is not inside one
        report.removed_idle, stale = db.run(survey)
    for name in stale:
        try:
            outcome = _refresh(name, report.anchor_date)
        except (DomainError, psycopg.Error):
            logger.exception("story refresh failed", extra={"sandbox": name})
            report.failed.append(name)
            continue
        if outcome == "refreshed":
            report.refreshed.append(name)
        elif outcome == "busy":
            report.skipped_busy.append(name)

    logger.info("stale stories refreshed", extra=report.summary())
    metrics.add_metric(name="StoriesRefreshed", unit=MetricUnit.Count, value=len(report.refreshed))
    metrics.add_metric(name="StoryRefreshFailures", unit=MetricUnit.Count, value=len(report.failed))
    if report.failed:
        raise StoryRefreshFailed(f"could not refresh {', '.join(report.failed)}; the others were: {report.summary()}")
    return report.summary()


def _refresh(name: str, anchor: date) -> Outcome:
    def unit(conn: Connection) -> Outcome:
        queries.lock_story_for_reset(conn, name)
        state = queries.refresh_state(conn, name, anchor, QUIET_PERIOD)
        if state is None or not state.stale:  # deleted, or reset by a presenter, since the survey
            return "current"
        if state.busy and state.days_off <= BUSY_SKIPPED_DAYS:
            return "busy"
        # The same pack and the same names, told around today.
        display = demo.Display(state.csm_name, state.account_name)
        pack = demo.pack_named(state.story)
        result = demo.reset(conn, anchor, state.checkpoint, name, activity=False, pack=pack, display=display)
        record = queries.ResetRecord(
            REQUESTED_BY, anchor, result.duration_ms, None, name, state.checkpoint, source="daily_refresh"
        )
        reset_id = queries.log_reset(conn, record)
        logger.info(
            "story refreshed",
            extra={"sandbox": name, "checkpoint": state.checkpoint, "reset_id": reset_id, "anchor_date": str(anchor)},
        )
        return "refreshed"

    with sandbox.using(name):
        # creates_sandbox: a sandbox deleted since the survey is not an error, only nothing to do.
        return db.run(unit, creates_sandbox=True)
