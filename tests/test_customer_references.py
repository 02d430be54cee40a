"""A customer reference (id or slug) names exactly one customer: the schema refuses a customer
whose id is another's slug, or whose slug is another's id, so no route can pick a different
customer for the same reference than another route does."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from conftest import DictConnection, body_of, invoke, load_event

ROUTES = [
    "customer_get.json",
    "contacts_list.json",
    "operations_list.json",
    "health_get.json",
    "tickets_list.json",
    "opportunities_list.json",
]


def add_customer(conn: DictConnection, customer_id: str, slug: str, name: str) -> None:
    conn.execute(
        "INSERT INTO demo_customers (customer_id, slug, name, arr) VALUES (%s, %s, %s, 1000)", [customer_id, slug, name]
    )


@pytest.mark.parametrize(
    ("customer_id", "slug"),
    [("aco", "someone-else"), ("someone-else", "aco-001")],
    ids=["id-is-a-slug", "slug-is-an-id"],
)
def test_a_reference_already_naming_a_customer_is_refused(story: DictConnection, customer_id: str, slug: str) -> None:
    with pytest.raises(psycopg.errors.UniqueViolation, match="demo_customer_refs_one_customer_per_ref"):
        add_customer(story, customer_id, slug, "Impostor")


def test_changing_a_slug_to_another_customers_id_is_refused(story: DictConnection) -> None:
    add_customer(story, "beta-001", "beta", "Beta Corp")
    with pytest.raises(psycopg.errors.UniqueViolation):
        story.execute("UPDATE demo_customers SET slug = 'aco-001' WHERE customer_id = 'beta-001'")


def test_a_slug_equal_to_its_own_id_and_a_renamed_slug_resolve(story: DictConnection) -> None:
    add_customer(story, "gamma", "gamma", "Gamma Ltd")
    story.execute("UPDATE demo_customers SET slug = 'gamma-ltd' WHERE customer_id = 'gamma'")
    for ref in ("gamma", "gamma-ltd"):
        event = load_event("customer_get.json", rawPath=f"/api/customers/{ref}", pathParameters={"customer_ref": ref})
        assert body_of(invoke("CustomerGetFunction", event))["name"] == "Gamma Ltd"
    # And the old slug is free again
    add_customer(story, "delta-001", "gamma-old", "Delta")


@pytest.mark.parametrize("event_file", ROUTES)
def test_every_route_resolves_a_reference_to_the_same_customer(story: DictConnection, event_file: str) -> None:
    add_customer(story, "beta-001", "beta", "Beta Corp")
    for ref, customer_id in (("aco", "aco-001"), ("beta", "beta-001"), ("beta-001", "beta-001")):
        event = load_event(event_file)
        event["rawPath"] = event["rawPath"].replace("/aco", f"/{ref}", 1)
        event["pathParameters"] = {"customer_ref": ref}
        response = invoke(event_file.removesuffix(".json").title().replace("_", "") + "Function", event)
        assert response["statusCode"] == 200, response["body"]
        body = body_of(response)
        found: Any = body.get("customer_id") or next(iter(body.values()), [{}])
        if isinstance(found, list):  # list routes: their rows carry no customer, so an empty list must be beta's
            assert (found == []) == (customer_id == "beta-001"), (ref, event_file)
        else:
            assert found == customer_id, (ref, event_file)
