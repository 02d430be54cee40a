"""GET /api/customers/{customer_ref} through its handler, with the sample event of events/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import DEMO_DAY, DictConnection, body_of, invoke, load_event, use_environment

FUNCTION = "CustomerGetFunction"


def get(ref: str) -> dict:
    event = load_event("customer_get.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/api/customers/{ref}"
    event["pathParameters"] = {"customer_ref": ref}
    return invoke(FUNCTION, event)


def test_profile_by_slug_is_the_storys_obsidian_black(story: DictConnection) -> None:
    # Given the story seeded on the demo day, when the sample event asks for "aco"
    response = invoke(FUNCTION, load_event("customer_get.json"))
    # Then it answers Obsidian Black's profile as the seed writes it (packs/act1-obsidian-black/, docs/STORY.md)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    body = body_of(response)
    assert {
        k: body[k]
        for k in (
            "customer_id",
            "name",
            "industry",
            "operatives",
            "facilities",
            "arr",
            "renewal_date",
            "days_to_renewal",
            "health_score",
            "opportunity_score",
            "primary_contact",
        )
    } == {
        "customer_id": "aco-001",
        "name": "Obsidian Black",
        "industry": "Global Strategic Coordination Services",
        "operatives": 450,
        "facilities": 23,
        "arr": 1500000,
        "renewal_date": "2026-04-15",
        "days_to_renewal": 143,
        "health_score": 4.2,
        "opportunity_score": 8.7,
        "primary_contact": "Marcus Castellan",
    }
    assert isinstance(body["arr"], int)
    assert body["contract"] == {
        "contract_id": "aco-contract-2025",
        "start_date": "2025-04-15",
        "end_date": "2026-04-15",
        "arr": 1500000,
        "auto_renew": False,
        "sla_uptime": 99.5,
        "status": "active",
    }


def test_profile_by_id_is_the_same(story: DictConnection) -> None:
    assert body_of(get("aco-001")) == body_of(get("aco"))


def test_days_to_renewal_is_computed_from_today(story: DictConnection, monkeypatch) -> None:
    # Given ten days have passed since the seed
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=10)).isoformat())
    # Then renewal is ten days closer
    assert body_of(get("aco"))["days_to_renewal"] == 133


@pytest.mark.parametrize("ref", ["nobody", "aco-002", "ACO", "x" * 128, "'; DROP TABLE demo_customers; --"])
def test_unknown_customer_is_a_json_404(story: DictConnection, ref: str) -> None:
    response = get(ref)
    assert response["statusCode"] == 404
    assert body_of(response) == {
        "error": {"code": "customer_not_found", "message": f"No customer has the id or slug {ref!r}.", "details": []}
    }


def test_any_customer_is_served_not_just_the_demo(story: DictConnection) -> None:
    # Given a second, non-demo customer without contacts or contract
    story.execute(
        "INSERT INTO demo_customers (customer_id, slug, name, arr, renewal_date, is_demo) "
        "VALUES ('cust-7', 'globex', 'Globex', 250000.50, %s, false)",
        [DEMO_DAY + timedelta(days=30)],
    )
    body = body_of(get("globex"))
    assert body["customer_id"] == "cust-7" and body["arr"] == 250000.5 and body["days_to_renewal"] == 30
    assert body["primary_contact"] is None and body["contract"] is None


def test_database_down_is_a_503_json_error(story: DictConnection, monkeypatch) -> None:
    use_environment(monkeypatch, DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    response = get("aco")
    assert response["statusCode"] == 503
    assert body_of(response)["error"]["code"] == "database_unavailable"


def test_migrate_function_migrates_then_seeds_only_when_absent(story, migrator) -> None:
    # Given the story is already there, when the migrate function runs
    summary = invoke("DatabaseMigrateFunction", load_event("database_migrate.json"))
    # Then nothing is pending and nothing is re-seeded
    assert summary == {"migrations_applied": [], "seeded": False, "anchor_date": DEMO_DAY.isoformat()}
    # And once the demo customer is gone, it seeds again
    story.execute("DELETE FROM demo_customers WHERE is_demo")
    assert invoke("DatabaseMigrateFunction", {})["seeded"] is True


def test_overlong_customer_reference_is_a_422(story: DictConnection) -> None:
    response = get("x" * 129)
    assert response["statusCode"] == 422
    error = body_of(response)["error"]
    assert error["code"] == "invalid_request" and error["details"][0]["loc"] == ["path", "customer_ref"]


def test_nul_byte_in_the_reference_matches_no_route(story: DictConnection) -> None:
    # PostgreSQL text cannot hold NUL; the resolver's path pattern never lets it reach a query.
    response = get("nul\x00byte")
    assert response["statusCode"] == 404 and body_of(response)["error"]["code"] == "route_not_found"


def test_a_customer_outside_the_demo_is_part_of_no_story(story: DictConnection) -> None:
    # Given a second, non-demo customer
    story.execute(
        "INSERT INTO demo_customers (customer_id, slug, name, arr, renewal_date, is_demo) "
        "VALUES ('cust-7', 'globex', 'Globex', 250000.50, %s, false)",
        [DEMO_DAY + timedelta(days=30)],
    )
    # Then its profile has no story day (the demo customer's says the day its story was seeded on)
    assert body_of(get("globex"))["story_anchor_date"] is None
    assert body_of(get("aco"))["story_anchor_date"] == DEMO_DAY.isoformat()
