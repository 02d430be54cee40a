"""What every route shares, through the local server: the error shape, CORS, wrong methods,
oversized bodies; and the OpenAPI document and API reference it serves."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile

import pytest
from conftest import ROOT, DictConnection, http_request, invoke, load_event
from openapi_spec_validator import validate

from localdev import template
from tools import openapi


def assert_error(status_and_body: tuple, status: int, code: str) -> None:
    got_status, headers, body = status_and_body
    assert got_status == status, body
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"] and isinstance(error["details"], list)
    assert b"Traceback" not in body


LOCAL_ORIGIN = "http://localhost:5173"


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/api/customers/aco", "GET", 200),
        ("/api/customers/nobody", "GET", 404),
        ("/api/nothing", "GET", 404),
        ("/api/customers/aco", "DELETE", 405),
    ],
)
def test_allowed_origin_is_echoed_on_every_answer(server: str, path: str, method: str, status: int) -> None:
    got, headers, _ = http_request(server + path, method, Origin=LOCAL_ORIGIN)
    assert got == status
    assert headers["access-control-allow-origin"] == LOCAL_ORIGIN
    assert "Origin" in headers["vary"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost:1@evil.example",
        "null",
        "http://localhost:5173.evil.example",
        "http://localhost:5174",
    ],
)
def test_other_origins_get_no_cors_grant(server: str, origin: str) -> None:
    _, headers, _ = http_request(f"{server}/api/customers/aco", Origin=origin)
    assert "access-control-allow-origin" not in headers


def test_preflight_is_answered_from_the_templates_cors_configuration(server: str) -> None:
    status, headers, body = http_request(
        f"{server}/api/customers/aco/health",
        "OPTIONS",
        Origin=LOCAL_ORIGIN,
        Access_Control_Request_Method="GET",
        Access_Control_Request_Headers="content-type",
    )
    cors = template.cors_configuration()
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == LOCAL_ORIGIN
    assert headers["access-control-allow-methods"] == ",".join(cors.methods)
    assert headers["access-control-allow-headers"] == ",".join(cors.headers)
    assert headers["access-control-max-age"] == str(cors.max_age)


def test_allowed_origins_override_the_templates_default(server: str, monkeypatch) -> None:
    # The local counterpart of deploying with CorsAllowOrigins=...
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://demo.squelch.example, https://staging.squelch.example")
    for origin, granted in (
        ("https://demo.squelch.example", True),
        ("https://staging.squelch.example", True),
        (LOCAL_ORIGIN, False),
        ("https://demo.squelch.example.evil.example", False),
    ):
        _, headers, _ = http_request(f"{server}/api/customers/aco", Origin=origin)
        assert (headers.get("access-control-allow-origin") == origin) == granted, origin


def test_functions_send_no_cors_headers_api_gateway_would_ignore(story) -> None:
    from conftest import invoke, load_event

    response = invoke("CustomerGetFunction", load_event("customer_get.json"))
    assert not [h for h in response["headers"] if h.lower().startswith("access-control")]


def test_wrong_method_is_a_405_with_allow(server: str) -> None:
    response = http_request(f"{server}/api/customers/aco", "POST", b"{}", Content_Type="application/json")
    assert_error(response, 405, "method_not_allowed")
    assert response[1]["allow"] == "GET"


def test_unknown_route_is_a_404(server: str) -> None:
    assert_error(http_request(f"{server}/api/customers/aco/secrets"), 404, "route_not_found")


def test_body_over_256_kib_is_a_413(server: str) -> None:
    body = b'{"pad": "' + b"x" * (256 * 1024) + b'"}'
    assert_error(
        http_request(f"{server}/api/customers/aco", "GET", body, Content_Type="application/json"),
        413,
        "payload_too_large",
    )


def test_overlong_reference_is_a_422_with_details(server: str) -> None:
    status, _, body = http_request(f"{server}/api/customers/{'x' * 200}/health")
    assert_error((status, {"content-type": "application/json"}, body), 422, "invalid_request")
    assert json.loads(body)["error"]["details"][0]["loc"] == ["path", "customer_ref"]


def test_committed_openapi_document_is_current() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == openapi.render(), "docs/openapi.json is stale: run `make openapi` and commit it"


def test_openapi_document_is_valid_and_covers_every_route() -> None:
    document = openapi.build()
    validate(document)
    # The JSON API is under /api/; the console's page (GET /console) is HTML and not part of it.
    declared = {
        (r.path, r.method.lower()) for f in template.load().values() for r in f.routes if r.path.startswith("/api/")
    }
    assert len(declared) == len(list(template.routes())) - 1
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == declared
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status >= "400":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, method, status)


def test_local_server_serves_the_document_and_the_reference(server: str) -> None:
    status, headers, body = http_request(f"{server}/api/openapi.json")
    assert status == 200 and json.loads(body) == openapi.build()
    status, headers, page = http_request(f"{server}/api/docs")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"cdn" not in page.lower() and b"https://" not in page
    for asset in ("swagger-ui-bundle.min.js", "swagger-ui.min.css"):
        status, _, content = http_request(f"{server}/api/docs/{asset}")
        assert status == 200 and len(content) > 10_000


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_api_reference_renders_in_headless_chromium(server: str) -> None:
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                f"{server}/api/docs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    # Swagger UI has fetched the document and drawn one block per operation.
    assert "Squelch Act 1 demo API" in dom
    operations = sum(len(item) for item in openapi.build()["paths"].values())
    assert dom.count('class="opblock opblock-') == operations
    assert "/api/customers/{customer_ref}/health" in dom.replace("\u200b", "")


def test_a_preflight_for_the_sandbox_header_is_allowed(server: str) -> None:
    status, headers, _ = http_request(
        f"{server}/api/demo/sandboxes/acme",
        "OPTIONS",
        Origin=LOCAL_ORIGIN,
        Access_Control_Request_Method="DELETE",
        Access_Control_Request_Headers="x-demo-sandbox,authorization",
    )
    assert status == 204 and headers["access-control-allow-origin"] == LOCAL_ORIGIN
    assert "X-Demo-Sandbox" in headers["access-control-allow-headers"].split(",")
    assert "DELETE" in headers["access-control-allow-methods"].split(",")


def test_a_body_that_is_not_utf8_is_a_400_malformed_body(server: str) -> None:
    # Given a JSON request whose body is not UTF-8 text, When it is sent, Then it is a 400 saying so
    body = b'{"customer_id": "\xff\xfe", "workflow_type": "strategic_planning"}'
    answer = http_request(f"{server}/api/workflows/start", "POST", body, Content_Type="application/json")
    assert_error(answer, 400, "malformed_body")


def test_a_422_names_the_missing_field_not_the_body_around_it(server: str) -> None:
    # Given a request body without one of its required fields
    body = json.dumps({"customer_id": "aco-001"}).encode()
    # When it is sent
    answer = http_request(f"{server}/api/workflows/start", "POST", body, Content_Type="application/json")
    # Then the 422's details and message name the field by itself, as a client's form would
    assert_error(answer, 422, "invalid_request")
    error = json.loads(answer[2])["error"]
    assert [(d["loc"], d["type"]) for d in error["details"]] == [(["workflow_type"], "missing")]
    assert error["message"].startswith("Invalid request: workflow_type: ")


def test_an_event_for_a_route_the_function_does_not_serve_is_a_404_in_the_error_shape(story: DictConnection) -> None:
    # Given a function handed an event for a path it has no route for (API Gateway routes by path; a
    # mis-wired integration would do this)
    event = load_event("customer_get.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/nothing/here"
    # When it handles it, Then it answers 404 route_not_found, naming the method and path
    response = invoke("CustomerGetFunction", event)
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"] == {
        "code": "route_not_found",
        "message": "No route GET /api/nothing/here.",
        "details": [],
    }


@pytest.mark.parametrize(
    "body", ["[" * 100_000 + "]" * 100_000, '{"customer_id": 1' + "0" * 5000 + "}"], ids=["deep", "huge-integer"]
)
def test_json_the_parser_cannot_take_is_a_400_malformed_json(story: DictConnection, body: str) -> None:
    # Given a body nested deeper than Python's parser goes, or an integer longer than it converts
    event = load_event("workflow_start.json")
    event["body"] = body
    # When it is posted, Then it is malformed JSON (400), not a crash (500)
    response = invoke("WorkflowStartFunction", event)
    assert response["statusCode"] == 400 and json.loads(response["body"])["error"]["code"] == "malformed_json"


def test_each_resolver_sees_its_own_request_while_others_resolve_on_other_threads(story: DictConnection) -> None:
    # Given two route functions' resolvers (the local server runs functions on threads; Powertools keeps
    # the current event in a class attribute every resolver shares), one of them paused inside its route
    import threading

    from squelch.http import create_api

    reached, go_on = threading.Event(), threading.Event()
    slow, quick = create_api(), create_api()

    @slow.get("/api/slow")
    def slow_route() -> dict:
        reached.set()
        assert go_on.wait(10)
        return {"request": slow.current_event.request_context.request_id, "path": slow.current_event.path}

    @quick.get("/api/quick")
    def quick_route() -> dict:
        return {"request": quick.current_event.request_context.request_id}

    def event(path: str, request_id: str) -> dict:
        base = load_event("customer_get.json")
        base["rawPath"] = base["requestContext"]["http"]["path"] = path
        base["requestContext"] = {**base["requestContext"], "requestId": request_id}
        return base

    answers: list[dict] = []
    thread = threading.Thread(target=lambda: answers.append(slow.resolve(event("/api/slow", "slow-one"), None)))
    thread.start()
    assert reached.wait(10)
    # When the other resolves a request meanwhile
    assert json.loads(quick.resolve(event("/api/quick", "quick-one"), None)["body"]) == {"request": "quick-one"}
    go_on.set()
    thread.join()
    # Then the paused route still sees its own request, not the other's
    assert json.loads(answers[0]["body"]) == {"request": "slow-one", "path": "/api/slow"}
