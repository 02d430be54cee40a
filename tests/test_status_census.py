"""The census that holds docs/openapi.json to every status the routes answer in the suite."""

from __future__ import annotations

from typing import Any

import status_census
from conftest import DictConnection, invoke, load_event

from tools import openapi


def test_a_status_the_document_does_not_declare_is_reported() -> None:
    # Given the document's statuses for the profile route
    route = "GET /api/customers/{customer_ref}"
    declared = openapi.declared_statuses()[route]
    assert {200, 304, 404} <= declared and 418 not in declared
    # When the census saw it answer 200 and 418
    missing = openapi.undeclared([(route, 200), (route, 418)])
    # Then only the 418 is reported, for that route
    assert missing == {route: {418}}


def test_what_the_document_has_no_operation_for_is_not_its_to_declare() -> None:
    assert openapi.undeclared([("GET /console", 200), ("GET /api/nowhere", 404)]) == {}


def test_the_census_records_every_answer_through_the_runtime(story: DictConnection) -> None:
    # Given what the census has seen so far
    before = status_census._observed[("GET /api/customers/{customer_ref}", 404)]
    # When a function answers a route through the runtime
    event = load_event("customer_get.json", rawPath="/api/customers/nobody", pathParameters={"customer_ref": "nobody"})
    event["requestContext"]["http"]["path"] = "/api/customers/nobody"
    answer: dict[str, Any] = invoke("CustomerGetFunction", event)
    # Then that route's status is counted
    assert answer["statusCode"] == 404
    assert status_census._observed[("GET /api/customers/{customer_ref}", 404)] == before + 1


def test_the_fuzzers_census_reads_the_servers_log(capsys) -> None:
    from tools import fuzz

    # Given the local server's lines for two answers the document declares
    declared = "09:00:00 GET /api/customers/aco?x=1 200 1.2ms CustomerGetFunction\n"
    declared += "09:00:01 GET /api/customers/%20 404 0.9ms CustomerGetFunction\n"
    # Then the census passes them, and fails on one it does not declare
    assert fuzz.census(declared) == 0
    assert fuzz.census(declared + "09:00:02 POST /api/demo/reset 418 3.0ms DemoResetFunction\n") == 1
    assert "UNDECLARED POST /api/demo/reset: [418]" in capsys.readouterr().out
