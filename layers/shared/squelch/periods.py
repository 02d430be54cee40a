"""Calendar periods as people count them: a year is twelve months, not 365 days.

A twelve-month period from 29 February ends on the last day of February the next year, as
calendars (and dateutil) clamp the day to the month's length.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date


def years_later(day: date, years: int) -> date:
    """The same calendar day `years` later (or earlier), clamped to the month's last day."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, monthrange(year, day.month)[1]))


def twelve_months_before(today: date) -> date:
    """The first day of "the past 12 months": the day after the same day a year earlier."""
    return date.fromordinal(years_later(today, -1).toordinal() + 1)


def year_of(start: date, today: date) -> int:
    """Which twelve-month period since start today falls in: 1 until the first anniversary, then 2, ...
    (1 before start, too)."""
    if today < start:
        return 1
    elapsed = today.year - start.year
    return elapsed + (1 if today >= years_later(start, elapsed) else 0)
