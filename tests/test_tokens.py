"""Which tokens the signed-in routes take: access tokens of the stack's own clients, checked by the
function as well as by API Gateway's JWT authorizer.

The authorizer accepts any token of the issuer whose `aud` (or, without one, `client_id`) is among
its audience, the stack's client ids. A Cognito ID token carries the client id in `aud`, so it passes
the authorizer; the function refuses it (`token_use` is "id"), and refuses a token of any client not
in JWT_AUDIENCES, should the authorizer's audience ever be wider than the stack's clients."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from conftest import DictConnection, body_of, http_request, invoke, load_event, use_environment
from test_demo_reset import add_session, post_reset, sessions

from localdev import auth
from squelch.http import auth as layer_auth

COGNITO = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_EXAMPLE"
STACK_CLIENTS = "general-client-id,console-client-id"


def gateway_event(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The sample event of a route as API Gateway hands it over once its authorizer accepted a token
    with this payload: the token in the Authorization header, its claims flattened in the context."""
    event = load_event(name)
    claims = {"sub": "u-1", "iat": 1795683600, "exp": 1795690800, "iss": COGNITO} | payload
    event.setdefault("headers", {})["authorization"] = "Bearer " + jwt.encode(
        claims, "verified-by-the-gateway-32-bytes"
    )
    event["requestContext"]["authorizer"] = {"jwt": {"claims": auth.as_gateway_claims(claims), "scopes": None}}
    return event


def access_token(client: str = "console-client-id", **claims: Any) -> dict[str, Any]:
    """A Cognito access token's claims: the client in client_id, no aud."""
    return {"token_use": "access", "client_id": client, "username": "presenter", "cognito:groups": ["demo"]} | claims


def id_token(client: str = "console-client-id", **claims: Any) -> dict[str, Any]:
    """A Cognito ID token's claims: the client in aud."""
    return {"token_use": "id", "aud": client, "cognito:username": "presenter", "cognito:groups": ["demo"]} | claims


@pytest.fixture
def stack_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's environment in a stack with its own user pool (template.yaml's JWT_AUDIENCES)."""
    use_environment(monkeypatch, JWT_AUDIENCES=STACK_CLIENTS)


PRESENTER_ROUTES = {
    "DemoResetFunction": "demo_reset.json",
    "SandboxesListFunction": "sandboxes_list.json",
    "StoriesListFunction": "stories_list.json",
    "SandboxDeleteFunction": "sandbox_delete.json",
}


@pytest.mark.parametrize("function", PRESENTER_ROUTES)
def test_an_id_token_is_refused_with_a_code_that_says_so(story: DictConnection, stack_clients, function: str) -> None:
    # Given a presenter's ID token of the stack's console client, which the authorizer let through (its
    # aud is the client)
    add_session(story)
    event = gateway_event(PRESENTER_ROUTES[function], id_token())
    # When it is sent to a presenter route
    response = invoke(function, event)
    # Then it is refused, saying which token to send, and nothing changed
    assert response["statusCode"] == 401, response["body"]
    error = body_of(response)["error"]
    assert error["code"] == "access_token_required"
    assert "access token" in error["message"]
    assert sessions(story) == 1


@pytest.mark.parametrize("function", PRESENTER_ROUTES)
def test_a_token_of_another_client_is_refused(story: DictConnection, stack_clients, function: str) -> None:
    # Given a genuine access token of the same pool, for a client that is not one of the stack's
    add_session(story)
    for payload in (access_token("someone-elses-client"), access_token(aud="someone-elses-client")):
        # When it is sent to a presenter route
        response = invoke(function, gateway_event(PRESENTER_ROUTES[function], payload))
        # Then it is refused, and nothing changed
        assert response["statusCode"] == 401, response["body"]
        assert body_of(response)["error"]["code"] == "token_for_another_client"
    assert sessions(story) == 1


@pytest.mark.parametrize("client", STACK_CLIENTS.split(","))
def test_access_tokens_of_the_stacks_clients_are_accepted(story: DictConnection, stack_clients, client: str) -> None:
    response = invoke("SandboxesListFunction", gateway_event("sandboxes_list.json", access_token(client)))
    assert response["statusCode"] == 200, response["body"]
    response = invoke("DemoResetFunction", gateway_event("demo_reset.json", access_token(client)))
    assert response["statusCode"] == 200, response["body"]
    assert body_of(response)["requested_by"] == "presenter", "an access token names its user in `username`"


@pytest.mark.parametrize(
    "payload",
    [
        access_token(token_use="refresh"),
        access_token(token_use=None),
        {k: v for k, v in access_token().items() if k != "token_use"},
        access_token(token_use=["access"]),
        access_token(client_id=None),
        {k: v for k, v in access_token().items() if k != "client_id"},
        access_token(aud=[]),
        access_token(aud=["someone-elses-client"]),
        access_token(client_id="general-client-id,console-client-id"),
    ],
    ids=[
        "refresh",
        "token-use-null",
        "no-token-use",
        "token-use-list",
        "client-null",
        "no-client",
        "empty-aud",
        "aud-of-another",
        "client-naming-both",
    ],
)
def test_a_cognito_token_that_is_not_an_access_token_of_the_stack_is_refused(
    story: DictConnection, stack_clients, payload: dict[str, Any]
) -> None:
    response = invoke("SandboxesListFunction", gateway_event("sandboxes_list.json", payload))
    assert response["statusCode"] == 401, response["body"]
    assert body_of(response)["error"]["code"] in ("access_token_required", "token_for_another_client")


def test_with_sign_in_required_every_route_checks_the_token(story: DictConnection, stack_clients) -> None:
    # Given RequireSignIn=true, where the authorizer guards the reads too
    for name, function in (("customer_get.json", "CustomerGetFunction"), ("health_get.json", "HealthGetFunction")):
        # When an ID token reaches a read, then it is refused; an access token of the stack is served
        refused = invoke(function, gateway_event(name, id_token()))
        assert refused["statusCode"] == 401 and body_of(refused)["error"]["code"] == "access_token_required"
        assert invoke(function, gateway_event(name, access_token()))["statusCode"] == 200
    # And a route without an authorizer (no claims: RequireSignIn=false) looks at no token at all
    assert (
        invoke("CustomerGetFunction", load_event("customer_get.json", headers={"authorization": "x"}))["statusCode"]
        == 200
    )


def test_another_identity_providers_tokens_need_only_the_audience(story: DictConnection, monkeypatch) -> None:
    # Given a stack on another provider (JwtIssuer, JwtAudience), whose access tokens carry no token_use
    use_environment(monkeypatch, JWT_AUDIENCES="https://api.squelch.example")
    other = {"iss": "https://login.example.com/", "cognito:groups": ["demo"], "username": "p"}
    accepted = gateway_event("sandboxes_list.json", other | {"aud": ["https://api.squelch.example", "userinfo"]})
    assert invoke("SandboxesListFunction", accepted)["statusCode"] == 200
    # Then one for another audience, or one that says it is an ID token, is refused
    for payload in ({"aud": "console-client"}, {"aud": "https://api.squelch.example", "token_use": "id"}):
        refused = invoke("SandboxesListFunction", gateway_event("sandboxes_list.json", other | payload))
        assert refused["statusCode"] == 401, payload


# ---- the local tokens and the sample events follow


def test_make_demo_token_prints_an_access_token_of_the_local_client() -> None:
    payload = jwt.decode(auth.issue_token(), options={"verify_signature": False})
    assert payload["token_use"] == "access"
    assert payload["client_id"] == auth.AUDIENCE
    assert payload["username"] == "presenter@squelch.local"


def test_an_id_token_is_refused_by_the_local_server_too(server: str, story: DictConnection) -> None:
    # Given a token of the local key that says it is an ID token
    add_session(story)
    token = auth.issue_token(token_use="id")
    # When it asks for a reset, and for the sandboxes
    status, _, body = post_reset(server, token)
    listed = http_request(f"{server}/api/demo/sandboxes", Authorization=f"Bearer {token}")
    # Then both are refused with the code that says which token to send
    assert (status, json.loads(body)["error"]["code"]) == (401, "access_token_required")
    assert (listed[0], json.loads(listed[2])["error"]["code"]) == (401, "access_token_required")
    assert sessions(story) == 1
    # And the token `make demo-token` prints is taken
    assert post_reset(server, auth.issue_token())[0] == 200


@pytest.mark.parametrize("name", PRESENTER_ROUTES.values())
def test_the_sample_events_carry_an_access_token_of_the_local_client(name: str) -> None:
    event = load_event(name)
    payload = layer_auth.token_payload(event["headers"]["authorization"])
    assert payload is not None and payload["token_use"] == "access" and "aud" not in payload
    assert payload["client_id"] == auth.AUDIENCE
    assert event["requestContext"]["authorizer"]["jwt"]["claims"] == auth.as_gateway_claims(payload)
