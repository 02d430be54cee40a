"""Tickets of the past two weeks and the spike they make.

The window is the 14 days before today and today itself (a ticket 14 days old is in, 15 out).
The normal rate is the number of tickets in the twelve weeks before the window, divided by six
(tickets per two weeks), one decimal. The spike multiplier is the window's count over that rate
as shown, one decimal, and null when the baseline is empty (no rate to compare with).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from squelch import clock
from squelch.db import Connection
from squelch.domain.customers import read_for_customer
from squelch.models.common import from_row
from squelch.models.tickets import Ticket, TicketList, TicketSummary
from squelch.queries import tickets as queries

WINDOW_DAYS = 14
BASELINE_PERIODS = 6  # two-week periods: twelve weeks


def _one_decimal(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def spike(conn: Connection, customer_id: str, today: date) -> TicketList:
    """The window's tickets and the spike summary, read on conn."""
    window_start = today - timedelta(days=WINDOW_DAYS)
    baseline_start = window_start - timedelta(days=WINDOW_DAYS * BASELINE_PERIODS)
    window = queries.in_period(conn, customer_id, clock.start_of(window_start), clock.end_of(today))
    baseline = queries.count_in_period(conn, customer_id, clock.start_of(baseline_start), clock.start_of(window_start))
    # The multiplier divides by the rate as shown, so a reader can redo the sum: 5 / 1.5 = 3.3.
    normal_rate = _one_decimal(Decimal(baseline) / BASELINE_PERIODS)
    summary = TicketSummary(
        total_tickets_2_weeks=len(window),
        normal_rate=float(normal_rate),
        spike_multiplier=float(_one_decimal(len(window) / normal_rate)) if normal_rate else None,
        frustrated_count=sum(1 for t in window if t.sentiment == "frustrated"),
        window_start=window_start,
        window_end=today,
        baseline_start=baseline_start,
        baseline_end=window_start - timedelta(days=1),
    )
    return TicketList(
        tickets=[
            from_row(
                Ticket, t, created_at=t.filed_at.astimezone(UTC).date(), resolved=t.resolution_time_hours is not None
            )
            for t in window
        ],
        summary=summary,
    )


def of_customer(ref: str) -> TicketList:
    today = clock.today()
    return read_for_customer(ref, lambda conn, customer: spike(conn, customer.customer_id, today))
