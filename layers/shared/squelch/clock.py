"""The one clock of the application, so tests and screenshots can freeze time.

today() drives computed fields (days to renewal, the two-week ticket window); demo_anchor() is the
day D the demo story is seeded around (docs/STORY.md: every date of the story is an offset from D).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from squelch.settings import get_settings


def today() -> date:
    return get_settings().demo_today or datetime.now(UTC).date()


def demo_anchor() -> date:
    return get_settings().demo_anchor_date or today()


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of day: the edge of date-based windows over timestamps."""
    return datetime.combine(day, time(), UTC)


def end_of(day: date) -> datetime:
    """Midnight UTC after day: the exclusive end of a window that includes all of day."""
    return start_of(day + timedelta(days=1))
