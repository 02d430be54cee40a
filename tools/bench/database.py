"""The benchmark's database: migrated, the demo story seeded on the pinned demo day, a workflow session."""

from __future__ import annotations

from datetime import date

import psycopg

from tools.bench.common import DEMO_DAY, SESSION


def prepare_database(url: str) -> None:
    from squelch.db import migrations
    from squelch.domain import demo

    with psycopg.connect(url, autocommit=True) as conn:
        migrations.migrate(conn)
        conn.execute("DELETE FROM demo_customers")
        demo.reset(conn, date.fromisoformat(DEMO_DAY))
        conn.execute("DELETE FROM demo_reset_log")


def add_session(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO demo_workflow_state (session_id, customer_id, workflow_type, total_steps) "
            "VALUES (%s, 'aco-001', 'strategic_planning', 5) ON CONFLICT DO NOTHING",
            [SESSION],
        )
