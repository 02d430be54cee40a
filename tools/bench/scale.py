"""A database that has grown: many other customers and tickets generated in SQL, and the plans of the
main access paths over it."""

from __future__ import annotations

import time

import psycopg

from tools.bench.common import DEMO_DAY, OTHER_CUSTOMERS, OTHER_TICKETS

# The first customers go in with one INSERT while the statistics say the story alone, as they do
# after any ANALYZE of a young database: each customer's references (migration 0005's trigger) are
# checked against demo_customers by their foreign key with a plan made for that size, a scan of the
# table that grows with the INSERT, so this step's time grows with the square of its rows. The rest
# go in after an ANALYZE, and take a time in proportion to their number.
FIRST_CUSTOMERS = 10_000


def fill_other_customers(url: str) -> dict[str, float]:
    """OTHER_CUSTOMERS non-demo customers and OTHER_TICKETS tickets spread over them and a year, in
    the default sandbox (the one clients without the header see), as the owner; seconds per step."""
    customers = """
        INSERT INTO demo_customers (customer_id, slug, name, arr, renewal_date, health_score, is_demo, created_at)
        SELECT 'cust-' || n, 'cust-' || n, 'Customer ' || n, 10000 + n, DATE '{day}' + (n % 365),
               (n % 100) / 10.0, false, now() - (n % 700) * interval '1 day'
        FROM generate_series({first}, {last}) n"""
    steps = {
        "ANALYZE demo_customers (the story alone)": "ANALYZE demo_customers",
        "first customers": customers.format(day=DEMO_DAY, first=1, last=FIRST_CUSTOMERS),
        "ANALYZE demo_customers": "ANALYZE demo_customers",
        "other customers": customers.format(day=DEMO_DAY, first=FIRST_CUSTOMERS + 1, last=OTHER_CUSTOMERS),
        "contacts": f"""
            INSERT INTO demo_contacts (contact_id, customer_id, name, is_primary)
            SELECT 'contact-' || n, 'cust-' || n, 'Person ' || n, true
            FROM generate_series(1, {OTHER_CUSTOMERS}) n""",
        "tickets": f"""
            INSERT INTO demo_support_tickets (ticket_id, customer_id, subject, category, priority,
                                              resolution_time_hours, sentiment, created_at)
            SELECT 'tkt-' || n, 'cust-' || (1 + n % {OTHER_CUSTOMERS}), 'Ticket ' || n, 'bug',
                   (ARRAY['critical','high','medium','low'])[1 + n % 4], NULL,
                   (ARRAY['frustrated','neutral','satisfied'])[1 + n % 3],
                   TIMESTAMPTZ '{DEMO_DAY}' - (n % 365) * interval '1 day'
            FROM generate_series(1, {OTHER_TICKETS}) n""",
        # A database that has been running a while: statistics current and the visibility map set,
        # so autovacuum does not start on the new rows in the middle of the measurements.
        "VACUUM ANALYZE": "VACUUM ANALYZE",
    }
    seconds: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT set_config('squelch.sandbox', 'default', false)")  # the rows' sandbox column
        for step, statement in steps.items():
            started = time.perf_counter()
            conn.execute(statement)
            seconds[step] = time.perf_counter() - started
    seconds["total"] = sum(seconds.values())
    return seconds


def explain_plans(url: str) -> str:
    """As the login `url` names (the API functions', so with the row-level security filter), in the
    default sandbox."""
    from squelch.queries import customers, tickets

    day = f"TIMESTAMPTZ '{DEMO_DAY}'"
    queries = {
        "profile by slug": customers.PROFILE.replace("%(ref)s", "'aco'"),
        "tickets in the window": tickets.IN_PERIOD.replace("%(customer_id)s", "'aco-001'")
        .replace("%(start)s", f"{day} - interval '14 days'")
        .replace("%(end)s", f"{day} + interval '1 day'"),
        "reset: demo customers": (
            "SELECT customer_id FROM demo_customers WHERE is_demo AND sandbox = current_setting('squelch.sandbox')"
        ),
        "contacts of a customer": "SELECT * FROM demo_contacts WHERE customer_id = 'aco-001'",
    }
    out = []
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT set_config('squelch.sandbox', 'default', true)")
        for name, query in queries.items():
            plan = conn.execute("EXPLAIN (COSTS OFF) " + query).fetchall()
            out.append(f"-- {name}\n" + "\n".join(row[0] for row in plan))
    return "\n\n".join(out)
