"""A deployment migrated and seeded before sandboxes, with workflow sessions open, upgrades with
nothing lost: its story and sessions become the default sandbox."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest
from conftest import DEMO_DAY, ROOT, RUNTIME_LOGIN, body_of, invoke, use_environment
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from test_workflows import with_session

from squelch import db
from squelch.db import migrations, roles

BEFORE_SANDBOXES = "0004"
TABLES = [
    "demo_customers",
    "demo_contacts",
    "demo_operations",
    "demo_support_tickets",
    "demo_contracts",
    "demo_strategic_plans",
    "demo_workflow_state",
    "demo_opportunities",
    "demo_health_components",
    "demo_customer_refs",
]


def rows(conn: psycopg.Connection) -> dict[str, list[dict]]:
    return {
        table: [
            json.loads(r[0]) for r in conn.execute(f"SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1").fetchall()
        ]
        for table in TABLES
    }


def test_the_story_and_open_sessions_become_the_default_sandbox(
    empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database as the code before sandboxes left it: migrated, seeded, sessions open
    old = tmp_path / "migrations"
    old.mkdir()
    for migration in migrations.default_directory().glob("*.sql"):
        if migration.name[:4] <= BEFORE_SANDBOXES:
            shutil.copy(migration, old / migration.name)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        migrations.migrate(conn, old)
        with conn.transaction():
            conn.execute("SELECT set_config('squelch.demo_anchor', %s, true)", [DEMO_DAY.isoformat()])
            conn.execute((ROOT / "tests" / "fixtures" / "story_before_sandboxes.sql").read_text())
        conn.execute(
            "INSERT INTO demo_workflow_state (session_id, customer_id, workflow_type, total_steps, current_step, data) "
            "VALUES ('wf-before-upgrade-planning', 'aco-001', 'strategic_planning', 5, 2, "
            '\'{"step_1": {"seen": "contract"}, "step_2": {"seen": "people"}}\'), '
            "('wf-before-upgrade-risks', 'aco-001', 'risk_detection', 4, 1, '{}')"
        )
        before = rows(conn)
        # When the new migrations run
        applied = migrations.migrate(conn)
        roles.provision_login(conn, RUNTIME_LOGIN, None)
        after = rows(conn)
        sandbox = conn.cursor(row_factory=dict_row).execute("SELECT * FROM demo_sandboxes").fetchall()
    # Then every row is still there, as it was, in the default sandbox (a customer's relationship
    # starting the day its record was made, as migration 0006 takes it)
    assert applied and applied[0].startswith("0005")

    def upgraded(table: str, row: dict) -> dict:
        since = {"customer_since": row["created_at"][:10]} if table == "demo_customers" else {}
        return row | {"sandbox": "default"} | since

    assert after == {table: [upgraded(table, row) for row in table_rows] for table, table_rows in before.items()}
    assert [(s["name"], s["checkpoint"], s["anchor_date"]) for s in sandbox] == [("default", "act1-start", DEMO_DAY)]
    # And the API serves the sessions to a client without the header, and resumes the open one
    use_environment(
        monkeypatch,
        DATABASE_URL=make_conninfo(empty_database, user=RUNTIME_LOGIN),
        DEMO_TODAY=DEMO_DAY.isoformat(),
        DEMO_ANCHOR_DATE=DEMO_DAY.isoformat(),
    )
    try:
        saved = invoke(
            "WorkflowContextGetFunction", with_session("workflow_context_get.json", "wf-before-upgrade-planning")
        )
        assert saved["statusCode"] == 200 and body_of(saved)["data"]["step_2"] == {"seen": "people"}
        event = json.loads(json.dumps(with_session("workflow_step_save.json", "wf-before-upgrade-planning")))
        event["body"] = json.dumps({"step": 3, "data": {"seen": "risks"}})
        assert body_of(invoke("WorkflowStepSaveFunction", event))["current_step"] == 3
    finally:
        db.close()
