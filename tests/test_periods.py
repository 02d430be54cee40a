"""Years of twelve months, leap days included."""

from __future__ import annotations

from datetime import date

import pytest

from squelch.periods import twelve_months_before, year_of, years_later


@pytest.mark.parametrize(
    ("start", "today", "year"),
    [
        (date(2024, 1, 1), date(2024, 1, 1), 1),
        (date(2024, 1, 1), date(2024, 12, 31), 1),  # a 366-day year: still the first
        (date(2024, 1, 1), date(2025, 1, 1), 2),
        (date(2025, 1, 1), date(2025, 12, 31), 1),
        (date(2025, 1, 1), date(2026, 1, 1), 2),
        (date(2024, 2, 29), date(2025, 2, 27), 1),
        (date(2024, 2, 29), date(2025, 2, 28), 2),  # the anniversary of a leap day: the end of February
        (date(2024, 2, 29), date(2028, 2, 28), 4),
        (date(2024, 2, 29), date(2028, 2, 29), 5),
        (date(2023, 3, 1), date(2024, 2, 29), 1),
        (date(2023, 3, 1), date(2024, 3, 1), 2),
        (date(2020, 6, 15), date(2026, 6, 14), 6),
        (date(2020, 6, 15), date(2026, 6, 15), 7),
        (date(2025, 6, 1), date(2025, 5, 31), 1),  # before the start
    ],
)
def test_year_of_counts_calendar_years(start: date, today: date, year: int) -> None:
    assert year_of(start, today) == year


@pytest.mark.parametrize(
    ("today", "first_day"),
    [
        (date(2025, 11, 23), date(2024, 11, 24)),
        (date(2025, 3, 1), date(2024, 3, 2)),
        (date(2024, 2, 29), date(2023, 3, 1)),
        (date(2025, 2, 28), date(2024, 2, 29)),
        (date(2024, 3, 1), date(2023, 3, 2)),
        (date(2025, 1, 1), date(2024, 1, 2)),
    ],
)
def test_the_past_twelve_months_start_the_day_after_the_same_day_last_year(today: date, first_day: date) -> None:
    assert twelve_months_before(today) == first_day


def test_years_later_clamps_the_leap_day() -> None:
    assert years_later(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert years_later(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert years_later(date(2025, 2, 28), -1) == date(2024, 2, 28)
