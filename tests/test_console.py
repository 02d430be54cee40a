"""The presenter console: GET /console's page, its assets and security headers; the local sign-in
(OAuth 2 authorization code + PKCE, only in the local server); the custom resource that gives the
console's Cognito client its settings; and the console itself, driven in Debian's chromium by
Playwright against the local server, with a screenshot of each state in .screenshots/console/."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from conftest import DEMO_DAY, ROOT, DictConnection, body_of, http_request, invoke, load_event, use_environment

from localdev import console_sign_in, gateway, template
from localdev.template import _CloudFormationLoader

CONSOLE = ROOT / "functions" / "console_get"
SCREENSHOTS = ROOT / ".screenshots" / "console"
COGNITO = "https://squelch-0f1e.auth.eu-west-1.amazoncognito.com"
COGNITO_ENVIRONMENT = {
    "CONSOLE_AUTHORIZE_URL": f"{COGNITO}/oauth2/authorize",
    "CONSOLE_TOKEN_URL": f"{COGNITO}/oauth2/token",
    "CONSOLE_LOGOUT_URL": f"{COGNITO}/logout",
    "CONSOLE_CLIENT_ID": "4example0console0client",
    "CONSOLE_SCOPES": "openid email",
}


def console_event(query: str = "") -> dict[str, Any]:
    event = load_event("console_get.json")
    event["rawQueryString"] = query
    if query:
        event["queryStringParameters"] = {key: values[-1] for key, values in parse_qs(query).items()}
    return event


def page_of(monkeypatch: pytest.MonkeyPatch, **env: str | None) -> dict[str, Any]:
    use_environment(monkeypatch, **env)
    return invoke("ConsoleGetFunction", console_event())


def csp(response: dict[str, Any]) -> dict[str, list[str]]:
    policy = response["headers"]["Content-Security-Policy"]
    return {name: values for name, *values in (directive.split() for directive in policy.split(";"))}


# ---- the page, its assets and its headers


def test_the_page_may_talk_only_to_its_own_origin_and_the_token_endpoint(monkeypatch) -> None:
    # Given a console deployed with the user pool's hosted sign-in
    response = page_of(monkeypatch, **COGNITO_ENVIRONMENT)
    # Then its policy allows scripts and styles from its own origin only, without any exemption,
    # and requests to its own origin (the API that serves it) and Cognito's token endpoint only
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert csp(response) == {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'", COGNITO],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    headers = response["headers"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"


def test_a_relative_token_endpoint_adds_no_origin_to_the_policy(monkeypatch) -> None:
    response = page_of(monkeypatch, **console_sign_in.ENVIRONMENT)
    assert csp(response)["connect-src"] == ["'self'"]


class _Markup(HTMLParser):
    """Every tag with its attributes, and the text inside <script> and <style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.inline.append(data)


def test_the_page_has_no_inline_code_and_loads_nothing_from_other_hosts(monkeypatch) -> None:
    markup = _Markup()
    markup.feed(page_of(monkeypatch, **COGNITO_ENVIRONMENT)["body"])
    assert markup.inline == [], "inline script or style would need an exemption in the policy"
    assert not [tag for tag, _ in markup.tags if tag == "style"]
    for tag, attrs in markup.tags:
        assert not [name for name in attrs if name.startswith("on") or name == "style"], (tag, attrs)
        for name in ("src", "href", "action"):
            if attrs.get(name):
                assert not urlsplit(str(attrs[name])).netloc and not urlsplit(str(attrs[name])).scheme, attrs
    scripts = [attrs["src"] for tag, attrs in markup.tags if tag == "script"]
    assert scripts and all(str(src).startswith("console?asset=") for src in scripts)
    stylesheet = (CONSOLE / "console.css").read_text()
    assert "url(" not in stylesheet and "@import" not in stylesheet
    script = (CONSOLE / "console.js").read_text()
    assert not re.search(r"https?://", script), "the script names no host: the API is the page's own origin"
    assert "innerHTML" not in script and "eval(" not in script and "localStorage" not in script


def test_the_sign_in_settings_reach_the_page_escaped(monkeypatch) -> None:
    body = page_of(monkeypatch, **(COGNITO_ENVIRONMENT | {"CONSOLE_CLIENT_ID": 'a"b<c>'}))["body"]
    assert f'data-authorize-url="{COGNITO}/oauth2/authorize"' in body
    assert f'data-token-url="{COGNITO}/oauth2/token"' in body
    assert 'data-client-id="a&quot;b&lt;c&gt;"' in body
    assert 'data-scopes="openid email"' in body


def test_the_checkpoints_offered_are_every_storys_each_naming_its_story(monkeypatch) -> None:
    from squelch.domain import packs
    from squelch.domain.demo import CHECKPOINTS

    body = page_of(monkeypatch, **COGNITO_ENVIRONMENT)["body"]
    select = re.search(r'<select id="new-checkpoint"[^>]*>(.*?)</select>', body, re.S)
    assert select
    offered = re.findall(r'<option value="([^"]+)" data-story="([^"]+)"', select.group(1))
    assert offered == [(c, name) for name in packs.names() for c in packs.load(name).checkpoint_names]
    assert [c for c, _ in offered[: len(CHECKPOINTS)]] == list(CHECKPOINTS), "Act 1's first"
    assert len({c for c, _ in offered}) == len(offered), "a checkpoint's name says its story"


@pytest.mark.parametrize(("asset", "content_type"), [("console.js", "text/javascript"), ("console.css", "text/css")])
def test_assets_are_served_by_the_same_route_and_kept_by_version(monkeypatch, asset: str, content_type: str) -> None:
    # Given the page, which names each asset with its version
    page = page_of(monkeypatch, **COGNITO_ENVIRONMENT)["body"]
    version = re.search(rf"console\?asset={re.escape(asset)}&amp;v=(\w+)", page)
    assert version
    # When the browser fetches it at that version, it may keep it for good; at another, it must ask again
    current = invoke("ConsoleGetFunction", console_event(f"asset={asset}&v={version.group(1)}"))
    other = invoke("ConsoleGetFunction", console_event(f"asset={asset}&v=old"))
    assert current["statusCode"] == other["statusCode"] == 200
    assert current["headers"]["Content-Type"].startswith(content_type)
    assert current["body"] == (CONSOLE / asset).read_text()
    assert current["headers"]["Cache-Control"] == "public, max-age=31536000, immutable"
    assert other["headers"]["Cache-Control"] == "no-cache"
    assert current["headers"]["X-Content-Type-Options"] == "nosniff"
    assert version.group(1) == hashlib.sha256((CONSOLE / asset).read_bytes()).hexdigest()[:16]


@pytest.mark.parametrize("asset", ["app.py", "../app.py", "console.html", "x" * 40])
def test_only_the_pages_assets_are_served(story, asset: str) -> None:
    response = invoke("ConsoleGetFunction", console_event(urlencode({"asset": asset})))
    assert response["statusCode"] in (404, 422) and "import" not in response["body"]
    assert body_of(response)["error"]["code"] in ("asset_not_found", "invalid_request")


def test_without_sign_in_settings_the_page_names_no_provider(monkeypatch) -> None:
    body = page_of(monkeypatch, **dict.fromkeys(COGNITO_ENVIRONMENT))["body"]
    assert 'data-authorize-url=""' in body and 'data-token-url=""' in body and 'data-client-id=""' in body


# ---- no deployed code can sign anyone in


# The layer may verify local tokens under sam local (squelch/http/local_authorizer.py, which names the
# local server in its docs) but never import the local server's code or make a token.
SIGNING = re.compile(
    r"(?:from|import)\s+localdev|local-sign-in|issue_token|signing_key|import jwt|from jwt|jwt\.encode", re.I
)


def test_the_deployed_console_cannot_mint_tokens() -> None:
    # The console function and the layer it runs with name no token-minting code, no local sign-in
    deployed = [*CONSOLE.rglob("*"), *(ROOT / "layers" / "shared").rglob("*")]
    for path in deployed:
        if path.is_file() and path.suffix in (".py", ".js", ".html", ".css", ".txt", ".in"):
            assert not SIGNING.search(path.read_text(errors="replace")), path
    # PyJWT, which signs the local tokens, is not even installed with the layer
    layer_lock = (ROOT / "layers" / "shared" / "requirements.txt").read_text().lower()
    assert "pyjwt" not in layer_lock
    # No route of the template leads to a sign-in: only the local server answers those paths
    assert all(not route.path.startswith("/local-sign-in") for route, _ in template.routes())
    assert gateway.find_route("POST", console_sign_in.TOKEN_PATH) is None


def test_the_local_sign_in_is_the_local_servers_own(server: str) -> None:
    status, headers, body = http_request(
        f"{server}{console_sign_in.AUTHORIZE_PATH}?{urlencode(authorize_query(server))}"
    )
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"make demo-token" in body and b"only in the local server" in body


# ---- the local sign-in: authorization code with PKCE


def verifier_and_challenge() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_query(server: str, challenge: str = "c" * 43, **changes: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": console_sign_in.CLIENT_ID,
        "redirect_uri": f"{server}/console",
        "scope": "openid",
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **changes,
    }


class _StayHere(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the redirect itself is what the test reads


def approve(server: str, challenge: str, **form: str) -> tuple[int, dict[str, str]]:
    """The presenter's click on the local sign-in page: (status, headers), without following the redirect."""
    fields = authorize_query(server, challenge) | {"username": "ana@squelch.local", "lifetime": "3600"}
    fields |= {"demo_group": "yes", "decision": "allow"} | form
    sent = urllib.request.Request(
        f"{server}{console_sign_in.AUTHORIZE_PATH}",
        data=urlencode(fields).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.build_opener(_StayHere).open(sent, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}


def exchange(server: str, code: str, verifier: str, **changes: str) -> tuple[int, dict[str, Any]]:
    fields = {
        "grant_type": "authorization_code",
        "client_id": console_sign_in.CLIENT_ID,
        "code": code,
        "redirect_uri": f"{server}/console",
        "code_verifier": verifier,
        **changes,
    }
    status, _, body = http_request(
        f"{server}{console_sign_in.TOKEN_PATH}",
        "POST",
        urlencode(fields).encode(),
        Content_Type="application/x-www-form-urlencoded",
    )
    return status, json.loads(body)


def code_from(headers: dict[str, str], server: str) -> str:
    location = urlsplit(headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{server}/console"
    answer = parse_qs(location.query)
    assert answer["state"] == ["state-123"]
    return answer["code"][0]


def test_a_code_signs_a_presenter_in_once_with_its_verifier(server: str) -> None:
    # Given a presenter who approved the sign-in with a PKCE challenge
    verifier, challenge = verifier_and_challenge()
    status, headers = approve(server, challenge)
    assert status == 303
    code = code_from(headers, server)
    # When the console exchanges the code with the verifier, it gets a token the API accepts
    status, tokens = exchange(server, code, verifier)
    assert status == 200 and tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    listed = http_request(f"{server}/api/demo/sandboxes", Authorization=f"Bearer {tokens['access_token']}")
    assert listed[0] == 200
    # And the code is spent
    assert exchange(server, code, verifier) == (
        400,
        {"error": "invalid_grant", "error_description": "The code is unknown, used or expired."},
    )


def test_a_code_is_refused_without_the_right_verifier_or_for_another_redirect(server: str) -> None:
    verifier, challenge = verifier_and_challenge()
    for changes in (
        {"code_verifier": verifier + "x"},
        {"redirect_uri": "http://evil.example/console"},
        {"client_id": "x"},
    ):
        _, headers = approve(server, challenge)
        status, answer = exchange(server, code_from(headers, server), verifier, **changes)
        assert (status, answer["error"]) == (400, "invalid_grant"), changes
    status, answer = exchange(server, "code", verifier, grant_type="password")
    assert (status, answer["error"]) == (400, "unsupported_grant_type")


@pytest.mark.parametrize(
    "changes",
    [
        {"redirect_uri": "https://evil.example/console"},
        {"redirect_uri": "http://127.0.0.1:1/console"},
        {"client_id": "someone-else"},
        {"code_challenge_method": "plain"},
        {"code_challenge": ""},
        {"response_type": "token"},
    ],
)
def test_an_authorization_request_out_of_the_rules_is_refused_on_a_page_of_its_own(server: str, changes) -> None:
    query = urlencode(authorize_query(server, **changes))
    status, headers, body = http_request(f"{server}{console_sign_in.AUTHORIZE_PATH}?{query}")
    assert status == 400 and "location" not in headers and b"Sign-in refused" in body
    status, headers = approve(server, "c" * 43, **changes)
    assert status == 400 and "location" not in headers


def test_a_sign_in_through_a_name_outside_this_machine_is_refused(server: str, monkeypatch) -> None:
    # Given the server told to answer a name of its own (LOCAL_ALLOWED_HOSTS: a laptop reached from the LAN),
    # and a sign-in started through that name for the console at that name: the very console of that Host
    monkeypatch.setenv("LOCAL_ALLOWED_HOSTS", "squelch.test,192.168.1.20")
    port = int(server.rsplit(":", 1)[1])
    for host in (f"squelch.test:{port}", f"192.168.1.20:{port}"):
        query = urlencode(authorize_query(f"http://{host}"))
        head = f"GET {console_sign_in.AUTHORIZE_PATH}?{query} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(head.encode())
            answer = http.client.HTTPResponse(connection)
            answer.begin()
            body = answer.read()
        # Then no sign-in is offered there: only a console on a loopback origin gets a code (a browser gives
        # the console's PKCE its crypto.subtle on loopback only, and a name may be anyone's to re-point)
        assert answer.status == 400 and answer.getheader("location") is None, host
        assert b"Sign-in refused" in body and b"on this machine only" in body, host


def test_cancelling_goes_back_with_access_denied(server: str) -> None:
    status, headers = approve(server, "c" * 43, decision="deny")
    assert status == 303 and parse_qs(urlsplit(headers["location"]).query) == {
        "error": ["access_denied"],
        "state": ["state-123"],
    }


def test_a_local_presenter_outside_the_demo_group_is_refused_by_the_api(server: str) -> None:
    verifier, challenge = verifier_and_challenge()
    _, headers = approve(server, challenge, demo_group="")
    _, tokens = exchange(server, code_from(headers, server), verifier)
    status, _, body = http_request(f"{server}/api/demo/sandboxes", Authorization=f"Bearer {tokens['access_token']}")
    assert status == 403 and json.loads(body)["error"]["code"] == "not_a_demo_user"


def test_a_local_presenter_may_sign_in_as_an_administrator(server: str) -> None:
    # Given another presenter's sandbox
    create_by_api(server, "bob-demo", "bob@squelch.example")
    # When a local presenter signs in ticking the administrator box (and not the demo group's)
    verifier, challenge = verifier_and_challenge()
    _, headers = approve(server, challenge, demo_group="", admin_group="yes")
    _, tokens = exchange(server, code_from(headers, server), verifier)
    # Then they may reset it, as a member of the admin group
    status, _, body = http_request(
        f"{server}/api/demo/reset",
        "POST",
        b'{"confirm": true}',
        Authorization=f"Bearer {tokens['access_token']}",
        Content_Type="application/json",
        X_Demo_Sandbox="bob-demo",
    )
    assert status == 200, body
    assert json.loads(body)["owner"] == "bob@squelch.example"


# ---- the custom resource that gives the console's Cognito client its settings


def settings_function() -> dict[str, Any]:
    """The ConsoleClientSettingsFunction's inline code, loaded as Lambda loads index.py."""
    doc = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    code = doc["Resources"]["ConsoleClientSettingsFunction"]["Properties"]["Code"]["ZipFile"]
    namespace: dict[str, Any] = {"__name__": "index"}
    exec(compile(code, "index.py", "exec"), namespace)  # noqa: S102 - the template's own code
    return namespace


class _Sent:
    def __init__(self) -> None:
        self.requests: list[Any] = []

    def __call__(self, request: Any, timeout: float) -> Any:
        self.requests.append(request)
        answer = io.BytesIO(b"")
        answer.status = 200  # type: ignore[attr-defined]
        answer.__enter__ = lambda: answer  # type: ignore[method-assign]
        return _Closing(answer)


class _Closing:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def __enter__(self) -> Any:
        return self.answer

    def __exit__(self, *exc: object) -> None:
        return None


RESPONSE_URL = (
    "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/arn%3A.../x?X-Amz-Signature=abc"
)
PROPERTIES = {
    "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:settings",
    "UserPoolId": "eu-west-1_EXAMPLE",
    "ClientId": "4example0console0client",
    "ClientName": "squelch-act1-console",
    "ConsoleUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com/console",
    "Scopes": "openid email",
    "RefreshTokenHours": "24",  # CloudFormation hands every property over as text
}


def cfn_event(request_type: str, url: str = RESPONSE_URL) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/squelch-act1/guid",
        "RequestId": "request-1",
        "LogicalResourceId": "ConsoleClientSettings",
        "ResourceType": "Custom::ConsoleClientSettings",
        "ResourceProperties": PROPERTIES,
    }


# What the template sets in the function's environment: this stack's own pool, client and console.
ENVIRONMENT = {
    "AWS_REGION": "eu-west-1",
    "USER_POOL_ID": PROPERTIES["UserPoolId"],
    "CLIENT_ID": PROPERTIES["ClientId"],
    "CLIENT_NAME": PROPERTIES["ClientName"],
    "CONSOLE_URL": PROPERTIES["ConsoleUrl"],
    "SCOPES": PROPERTIES["Scopes"],
    "REFRESH_TOKEN_HOURS": PROPERTIES["RefreshTokenHours"],
}


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, Any], Stubber, _Sent]]:
    """The custom resource's code with Cognito stubbed (botocore checks each request against the
    service's model) and the answers it PUTs to CloudFormation recorded."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    function = settings_function()
    client = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    sent = _Sent()

    class Boto3:
        @staticmethod
        def client(service: str) -> Any:
            assert service == "cognito-idp"
            return client

    function["boto3"] = Boto3
    monkeypatch.setattr(urllib.request, "urlopen", sent)  # what the code's `urllib.request.urlopen` finds
    with Stubber(client) as stubber:
        yield function, stubber, sent
    stubber.assert_no_pending_responses()


def answered(sent: _Sent) -> dict[str, Any]:
    [request] = sent.requests
    assert request.full_url == RESPONSE_URL and request.get_method() == "PUT"
    return json.loads(request.data)


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_the_client_gets_the_code_flow_with_the_consoles_url_as_callback(cognito, request_type: str) -> None:
    function, stubber, sent = cognito
    # Expected: every setting, since UpdateUserPoolClient resets what it is not given
    stubber.add_response(
        "update_user_pool_client",
        {},
        {
            "UserPoolId": "eu-west-1_EXAMPLE",
            "ClientId": "4example0console0client",
            "ClientName": "squelch-act1-console",
            "CallbackURLs": ["https://abc123.execute-api.eu-west-1.amazonaws.com/console"],
            "LogoutURLs": ["https://abc123.execute-api.eu-west-1.amazonaws.com/console"],
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "SupportedIdentityProviders": ["COGNITO"],
            "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": True,
            "AccessTokenValidity": 60,
            "IdTokenValidity": 60,
            "RefreshTokenValidity": 24,
            "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "hours"},
        },
    )
    function["handler"](cfn_event(request_type), None)
    answer = answered(sent)
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", "4example0console0client")
    assert (answer["RequestId"], answer["LogicalResourceId"]) == ("request-1", "ConsoleClientSettings")


def test_a_refused_update_fails_the_resource_with_the_reason(cognito) -> None:
    function, stubber, sent = cognito
    stubber.add_client_error("update_user_pool_client", "InvalidParameterException", "bad callback")
    function["handler"](cfn_event("Create"), None)
    answer = answered(sent)
    assert answer["Status"] == "FAILED" and "bad callback" in answer["Reason"]


def test_delete_leaves_the_client_to_cloudformation(cognito) -> None:
    function, _, sent = cognito
    function["handler"](cfn_event("Delete") | {"PhysicalResourceId": "4example0console0client"}, None)
    assert answered(sent)["Status"] == "SUCCESS"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/x",
        "http://bucket.s3.amazonaws.com/x",
        "https://s3.amazonaws.com.evil.example/x",
        # any S3 bucket but CloudFormation's response bucket of this region
        "https://attackers-bucket.s3.eu-west-1.amazonaws.com/x?X-Amz-Signature=abc",
        "https://s3.eu-west-1.amazonaws.com/attackers-bucket/x",
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        "https://cloudformation-custom-resource-response-euwest1-x.s3.eu-west-1.amazonaws.com/x",
    ],
)
def test_a_request_that_cloudformation_did_not_make_is_ignored(cognito, url: str) -> None:
    function, _, sent = cognito
    assert function["handler"](cfn_event("Create", url), None) is None
    assert sent.requests == []  # and no Cognito call: the stubber has none queued and would fail


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("UserPoolId", "eu-west-1_SOMEONEELSE"),
        ("ClientId", "another0client0of0the0pool"),
        ("ConsoleUrl", "https://attacker.example/console"),
        ("ClientName", "renamed"),
        ("Scopes", "openid aws.cognito.signin.user.admin"),
        ("RefreshTokenHours", "720"),
    ],
)
def test_only_this_stacks_pool_client_and_console_are_set(cognito, name: str, value: str) -> None:
    # Given a request (from someone allowed to invoke the function) naming another pool, client or callback
    function, _, sent = cognito
    event = cfn_event("Update") | {"ResourceProperties": PROPERTIES | {name: value}}
    # When it is handled
    function["handler"](event, None)
    # Then no client is updated (the stubber has no call queued and would fail) and the request fails, saying why
    answer = answered(sent)
    assert answer["Status"] == "FAILED"
    assert name in answer["Reason"] and value not in answer["Reason"]


def test_the_settings_applied_are_the_environments(cognito, monkeypatch) -> None:
    # Given a request whose properties agree with the function's environment except where none is given
    function, stubber, sent = cognito
    stubber.add_response(
        "update_user_pool_client",
        {},
        {
            "UserPoolId": ENVIRONMENT["USER_POOL_ID"],
            "ClientId": ENVIRONMENT["CLIENT_ID"],
            "ClientName": ENVIRONMENT["CLIENT_NAME"],
            "CallbackURLs": [ENVIRONMENT["CONSOLE_URL"]],
            "LogoutURLs": [ENVIRONMENT["CONSOLE_URL"]],
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "SupportedIdentityProviders": ["COGNITO"],
            "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": True,
            "AccessTokenValidity": 60,
            "IdTokenValidity": 60,
            "RefreshTokenValidity": 24,
            "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "hours"},
        },
    )
    event = cfn_event("Create") | {"ResourceProperties": {"ServiceToken": PROPERTIES["ServiceToken"]}}
    # When it is handled, then the client gets the environment's settings
    function["handler"](event, None)
    assert answered(sent)["Status"] == "SUCCESS"


# ---- the console in a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium); the console is not driven"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Debian's chromium, not Playwright's own download; no sandbox, since CI runs as root.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def console(server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The local server with the console signing in as under `make run`."""
    use_environment(monkeypatch, **console_sign_in.ENVIRONMENT)
    return server


@pytest.fixture
def page(browser: Any, console: str) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1180, "height": 860}, locale="en-GB", timezone_id="UTC", color_scheme="light"
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.problems = problems
    yield opened
    context.close()


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def sign_in(page: Any, console: str, lifetime: str = "43200", screenshot: str | None = None) -> None:
    from playwright.sync_api import expect

    page.goto(f"{console}/console")
    page.click("#sign-in")
    page.wait_for_url(re.compile(r"/local-sign-in/authorize\?"))
    page.select_option("#lifetime", lifetime)
    if screenshot:
        shot(page, screenshot)
    page.click("button[value=allow]")
    expect(page.locator("#signed-in")).to_be_visible()


def row(page: Any, name: str) -> Any:
    return page.locator(f'tr[data-sandbox="{name}"]')


def sandbox_checkpoint(conn: DictConnection, name: str) -> str | None:
    found = conn.execute("SELECT checkpoint FROM demo_sandboxes WHERE name = %s", [name]).fetchone()
    return found["checkpoint"] if found else None


@needs_chromium
def test_a_presenter_signs_in_creates_resets_reads_and_deletes_a_sandbox(
    page: Any, console: str, story: DictConnection
) -> None:
    from playwright.sync_api import expect

    # Given the console, signed out
    page.goto(f"{console}/console")
    expect(page.locator("#signed-out")).to_be_visible()
    expect(page.locator("#not-configured")).to_be_hidden()
    shot(page, "01-signed-out")
    # When the presenter signs in at the local sign-in
    sign_in(page, console, screenshot="02-local-sign-in")
    # Then the console is theirs, the code has left the address, and no token is stored anywhere
    expect(page.locator("#username")).to_have_text("presenter@squelch.local")
    assert urlsplit(page.url).query == ""
    assert page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]") == [0, 0, ""]
    expect(row(page, "default")).to_be_visible()
    expect(page.locator("#default-age")).to_contain_text(f"today's: it was seeded around {DEMO_DAY}")
    expect(page.locator("#api-base")).to_have_text(f"{console}/")
    shot(page, "03-signed-in")

    # When they create a sandbox from act1-mid-planning
    page.fill("#new-name", "acme-rehearsal")
    page.select_option("#new-checkpoint", "act1-mid-planning")
    page.click("#create-form button[type=submit]")
    # Then it is listed with its checkpoint and story age, and its header line is ready to copy
    expect(row(page, "acme-rehearsal").locator(".checkpoint")).to_have_text("act1-mid-planning")
    expect(row(page, "acme-rehearsal").locator(".badge")).to_have_text("today's")
    expect(page.locator("#message")).to_contain_text("Sandbox acme-rehearsal created from act1-mid-planning")
    expect(page.locator("#header-line")).to_have_text("X-Demo-Sandbox: acme-rehearsal")
    assert sandbox_checkpoint(story, "acme-rehearsal") == "act1-mid-planning"
    page.locator("button[data-copy=header-line]").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == "X-Demo-Sandbox: acme-rehearsal"
    shot(page, "04-created")

    # When they reset it to act1-start, confirming in the dialog
    row(page, "acme-rehearsal").get_by_role("button", name="Reset…").click()
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-checkpoint")).to_have_value("act1-mid-planning")
    page.select_option("#confirm-checkpoint", "act1-start")
    shot(page, "05-confirm-reset")
    page.click("#confirm-ok")
    # Then the sandbox is at act1-start
    expect(row(page, "acme-rehearsal").locator(".checkpoint")).to_have_text("act1-start")
    assert sandbox_checkpoint(story, "acme-rehearsal") == "act1-start"

    # When they read the profile through it
    row(page, "acme-rehearsal").get_by_role("button", name="Check story").click()
    # Then they see its story and how fresh it is
    facts = page.locator("#story")
    expect(facts).to_contain_text("Obsidian Black (aco-001)")
    expect(facts).to_contain_text(f"Story seeded around{DEMO_DAY}")
    expect(facts).to_contain_text("Story agetoday's")
    expect(page.locator("#story-sandbox")).to_have_text("acme-rehearsal")
    shot(page, "06-story")

    # When they start a delete and cancel it, nothing goes
    row(page, "acme-rehearsal").get_by_role("button", name="Delete…").click()
    page.click("#confirm-cancel")
    expect(row(page, "acme-rehearsal")).to_be_visible()
    assert sandbox_checkpoint(story, "acme-rehearsal") == "act1-start"
    # When they delete it, confirming
    row(page, "acme-rehearsal").get_by_role("button", name="Delete…").click()
    expect(page.locator("#confirm-text")).to_contain_text("X-Demo-Sandbox: acme-rehearsal")
    page.click("#confirm-ok")
    # Then it is gone, from the list and the database
    expect(row(page, "acme-rehearsal")).to_have_count(0)
    expect(page.locator("#message")).to_contain_text("Sandbox acme-rehearsal deleted.")
    assert sandbox_checkpoint(story, "acme-rehearsal") is None
    expect(row(page, "default").get_by_role("button", name="Delete…")).to_be_disabled()
    shot(page, "07-deleted")
    # And the page broke no rule of its policy, nor anything else
    assert page.problems == []


@needs_chromium
def test_an_expired_sign_in_is_said_in_words_and_offers_a_new_one(page: Any, console: str) -> None:
    from playwright.sync_api import expect

    # Given a presenter signed in for five seconds
    sign_in(page, console, lifetime="5")
    expect(row(page, "default")).to_be_visible()
    time.sleep(6)
    # When they act after the token expired
    page.click("#refresh")
    # Then they read why, not the API's answer, and can sign in again
    message = page.locator("#message")
    expect(message).to_contain_text("Your sign-in has expired. Sign in again to go on.")
    expect(page.locator("#message-action")).to_have_text("Sign in again")
    expect(page.locator("#signed-out")).to_be_visible()
    assert "{" not in message.inner_text() and "token_expired" not in message.inner_text()
    shot(page, "08-expired")
    page.click("#message-action")
    page.wait_for_url(re.compile(r"/local-sign-in/authorize\?"))


@needs_chromium
def test_api_gateways_expired_token_answer_reads_the_same(page: Any, console: str) -> None:
    from playwright.sync_api import expect

    sign_in(page, console)
    expect(row(page, "default")).to_be_visible()
    # Given API Gateway's JWT authorizer, which says "expired" only in WWW-Authenticate
    page.route(
        "**/api/demo/sandboxes",
        lambda route: route.fulfill(
            status=401,
            content_type="application/json",
            body='{"message":"Unauthorized"}',
            headers={
                "WWW-Authenticate": 'Bearer scope="" error="invalid_token" error_description="the token has expired"'
            },
        ),
    )
    page.click("#refresh")
    expect(page.locator("#message")).to_contain_text("Your sign-in has expired. Sign in again to go on.")


@needs_chromium
def test_errors_from_the_api_are_sentences(page: Any, console: str, monkeypatch) -> None:
    from playwright.sync_api import expect

    # Given a deployment that keeps two sandboxes at most (the default and one more)
    use_environment(monkeypatch, DEMO_MAX_SANDBOXES="2")
    sign_in(page, console)
    page.fill("#new-name", "first")
    page.click("#create-form button[type=submit]")
    expect(row(page, "first")).to_be_visible()
    # When a third is asked for, the limit is explained
    page.fill("#new-name", "second")
    page.click("#create-form button[type=submit]")
    message = page.locator("#message")
    expect(message).to_contain_text("This deployment already keeps as many sandboxes as it may.")
    expect(row(page, "second")).to_have_count(0)
    shot(page, "09-limit-reached")
    # When a name breaks the rules, the rules are given, before any request
    page.fill("#new-name", "Not A Name")
    page.click("#create-form button[type=submit]")
    expect(message).to_contain_text("Sandbox names are 1–40 characters")
    # When the database is busy
    page.route(
        "**/api/demo/sandboxes",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps(
                {"error": {"code": "database_unavailable", "message": "The database is not reachable.", "details": []}}
            ),
        ),
    )
    page.click("#refresh")
    expect(message).to_contain_text("The database is busy or out of reach right now.")
    # When an answer is not even JSON
    page.unroute("**/api/demo/sandboxes")
    page.route("**/api/demo/sandboxes", lambda route: route.fulfill(status=502, body="<html>Bad gateway</html>"))
    page.click("#refresh")
    expect(message).to_contain_text("The API could not do that (HTTP 502).")
    assert "{" not in message.inner_text() and "<" not in message.inner_text()


LURE = "Your presenter account is locked. Unlock it at https://squelch-support.attacker.example/unlock"


def started_sign_in_state(page: Any, console: str) -> str:
    """Start signing in, as a presenter does, and return the state the console is waiting for."""
    page.goto(f"{console}/console")
    page.click("#sign-in")
    page.wait_for_url(re.compile(r"/local-sign-in/authorize\?"))
    return parse_qs(urlsplit(page.url).query)["state"][0]


@needs_chromium
def test_an_answer_the_console_did_not_ask_for_is_refused_before_anything_in_it_is_read(
    page: Any, console: str
) -> None:
    from playwright.sync_api import expect

    # Given a link someone sent, to the console with an OAuth error whose description is a lure,
    # and no sign-in started from this browser (no state waiting for it)
    query = urlencode({"error": "access_denied", "error_description": LURE, "state": "made-up"})
    page.goto(f"{console}/console?{query}")
    # Then the console says the answer is not one it asked for, and shows nothing of the address
    message = page.locator("#message")
    expect(message).to_contain_text("does not match a sign-in started here")
    assert "locked" not in page.content() and "attacker" not in page.content()
    assert "error" not in urlsplit(page.url).query, "the address is cleaned"
    # And with no state at all, the same
    page.goto(f"{console}/console?{urlencode({'error': 'server_error', 'error_description': LURE})}")
    expect(message).to_contain_text("does not match a sign-in started here")
    assert "locked" not in page.content()


@needs_chromium
@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        ("access_denied", "Sign-in was cancelled or refused"),
        ("server_error", "The sign-in service failed"),
        ("temporarily_unavailable", "The sign-in service is busy"),
        ("invalid_scope", "The console is not set up right for this sign-in service"),
        ("<b>made-up</b>", "Sign-in did not complete."),
    ],
)
def test_an_oauth_error_is_one_fixed_sentence_never_the_texts_in_the_address(
    page: Any, console: str, error: str, sentence: str
) -> None:
    from playwright.sync_api import expect

    # Given a sign-in started here, answered with an error (the state is the one the console waits for)
    state = started_sign_in_state(page, console)
    page.goto(f"{console}/console?{urlencode({'error': error, 'error_description': LURE, 'state': state})}")
    # Then the console says what that error code means, in its own words only
    message = page.locator("#message-text")
    expect(message).to_contain_text(sentence)
    shown = message.inner_text()
    assert "locked" not in shown and "attacker" not in shown and "made-up" not in shown
    assert LURE not in page.content()


@needs_chromium
def test_a_presenter_is_shown_whose_each_sandbox_is_and_the_key_of_their_own(
    page: Any, console: str, story: DictConnection
) -> None:
    from playwright.sync_api import expect

    # Given another presenter's private sandbox
    create_by_api(console, "bob-demo", "bob@squelch.example", private=True)
    # When this presenter signs in and creates one (private unless they untick it)
    sign_in(page, console)
    expect(page.locator("#new-private")).to_be_checked()
    page.fill("#new-name", "acme")
    page.click("#create-form button[type=submit]")
    expect(page.locator("#message")).to_contain_text("It is private: the front end sends its key too")
    # Then theirs is marked as theirs, with its key to copy beside its header line
    expect(row(page, "acme").locator(".owner")).to_have_text("yours · private: workflow writes need its key")
    key = one_value(story, "SELECT sandbox_key FROM demo_sandboxes WHERE name = 'acme'")
    expect(page.locator("#key-line")).to_have_text(f"X-Demo-Sandbox-Key: {key}")
    page.locator("button[data-copy=key-line]").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == f"X-Demo-Sandbox-Key: {key}"
    shot(page, "11-private-sandbox")
    # And the other presenter's names its owner, its key is not shown, and it cannot be reset or deleted here
    expect(row(page, "bob-demo").locator(".owner")).to_have_text(
        "owner: bob@squelch.example · private: workflow writes need its key"
    )
    row(page, "bob-demo").get_by_role("button", name="Use").click()
    expect(page.locator("#key-line-box")).to_be_hidden()
    expect(page.locator("#key-hidden")).to_be_visible()
    assert bob_key(story) not in page.content()
    expect(row(page, "bob-demo").get_by_role("button", name="Reset…")).to_be_disabled()
    expect(row(page, "bob-demo").get_by_role("button", name="Delete…")).to_be_disabled()
    # And the default one is everyone's to reset
    expect(row(page, "default").locator(".owner")).to_have_text("shared: every presenter may reset it")
    expect(row(page, "default").get_by_role("button", name="Reset…")).to_be_enabled()
    # When they try to take the other's name from the create form, the console says whose it is, and asks nothing
    page.fill("#new-name", "bob-demo")
    page.click("#create-form button[type=submit]")
    expect(page.locator("#message")).to_contain_text("That sandbox belongs to another presenter")
    expect(page.locator("#confirm")).to_be_hidden()
    # And when the API refuses a reset for that reason (the list was out of date), it says so in the same words
    page.route(
        "**/api/demo/reset",
        lambda route: route.fulfill(
            status=403,
            content_type="application/json",
            body=json.dumps(
                {
                    "error": {
                        "code": "sandbox_owned_by_another",
                        "message": "Sandbox 'acme' belongs to x.",
                        "details": [],
                    }
                }
            ),
        ),
    )
    row(page, "acme").get_by_role("button", name="Reset…").click()
    page.click("#confirm-ok")
    expect(page.locator("#message")).to_contain_text(
        "That sandbox belongs to another presenter: only they, or an administrator, may reset or delete it."
    )
    page.unroute("**/api/demo/reset")
    # When they make theirs public in the reset dialog, its key goes
    row(page, "acme").get_by_role("button", name="Reset…").click()
    expect(page.locator("#confirm-private")).to_be_checked()
    page.uncheck("#confirm-private")
    page.click("#confirm-ok")
    expect(row(page, "acme").locator(".owner")).to_have_text("yours · public")
    expect(page.locator("#key-line-box")).to_be_hidden()
    assert one_value(story, "SELECT sandbox_key FROM demo_sandboxes WHERE name = 'acme'") is None
    # (the browser reports the 403 the test made up; nothing else went wrong)
    assert [problem for problem in page.problems if "status of 403" not in problem] == []


def one_value(conn: DictConnection, query: str) -> Any:
    found = conn.execute(query).fetchone()
    assert found is not None, query
    return next(iter(found.values()))


def bob_key(conn: DictConnection) -> str:
    return str(one_value(conn, "SELECT sandbox_key FROM demo_sandboxes WHERE name = 'bob-demo'"))


@needs_chromium
def test_creating_a_name_that_exists_warns_before_it_resets(page: Any, console: str, story: DictConnection) -> None:
    from playwright.sync_api import expect

    sign_in(page, console)
    page.fill("#new-name", "acme")
    page.select_option("#new-checkpoint", "act1-planned")
    page.click("#create-form button[type=submit]")
    expect(row(page, "acme").locator(".checkpoint")).to_have_text("act1-planned")
    # When another sandbox is "created" with the same name, the presenter is told it exists
    page.fill("#new-name", "acme")
    page.select_option("#new-checkpoint", "act1-start")
    page.click("#create-form button[type=submit]")
    expect(page.locator("#confirm-title")).to_have_text("“acme” already exists")
    expect(page.locator("#confirm-text")).to_contain_text("It is at act1-planned")
    shot(page, "10-name-taken")
    # And cancelling leaves it as it was
    page.click("#confirm-cancel")
    assert sandbox_checkpoint(story, "acme") == "act1-planned"
    # While confirming resets it
    page.click("#create-form button[type=submit]")
    page.click("#confirm-ok")
    expect(row(page, "acme").locator(".checkpoint")).to_have_text("act1-start")
    expect(page.locator("#message")).to_contain_text("Sandbox acme reset from act1-start")
    assert sandbox_checkpoint(story, "acme") == "act1-start"


@needs_chromium
def test_a_default_story_that_is_not_todays_is_flagged(page: Any, console: str, monkeypatch) -> None:
    from playwright.sync_api import expect

    # Given the default story seeded three days before today
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=3)).isoformat())
    sign_in(page, console)
    # Then the console warns, and says how old it is
    expect(page.locator("#freshness")).to_have_class(re.compile("stale"))
    expect(page.locator("#default-age")).to_contain_text(
        f"Warning: the default story is not today's. It is 3 days old (seeded around {DEMO_DAY})"
    )
    expect(row(page, "default").locator(".badge")).to_have_text("3 days old")
    shot(page, "11-stale-default")


@needs_chromium
def test_get_ready_warms_the_functions_and_shows_the_report(page: Any, console: str, monkeypatch) -> None:
    from playwright.sync_api import expect

    # Given a presenter signed in, the default story today's
    sign_in(page, console)
    expect(page.locator("#ready-last")).to_have_text("Functions not warmed from this console yet.")
    # When they press Get ready
    page.click("#get-ready")
    # Then the console says it is ready, lists every function cold or warm, and when they were warmed
    warmed = sum(1 for name, function in template.load().items() if function.routes and name != "DemoPreflightFunction")
    expect(page.locator("#readiness")).to_have_class(re.compile("ready"))
    expect(page.locator("#ready-verdict")).to_contain_text(f"Ready: all {warmed} functions are warm")
    expect(page.locator("#ready-functions li")).to_have_count(warmed)
    expect(page.locator("#ready-last")).to_have_text(
        re.compile(r"^Functions last warmed (now|\d+ seconds? ago) \(\d\d:\d\d:\d\d\)\.$")
    )
    expect(page.locator("#ready-story-warning")).to_be_hidden()
    shot(page, "12-ready")
    # And when the story is not today's, a second press warns and says what to do
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=2)).isoformat())
    page.click("#get-ready")
    expect(page.locator("#readiness")).to_have_class(re.compile("not-ready"))
    expect(page.locator("#ready-story-warning")).to_contain_text(
        f"Warning: the story in default is not today's. It is 2 days old (seeded around {DEMO_DAY})"
    )
    expect(page.locator("#ready-todo li")).to_have_text(["Reset default so its story is today's."])
    shot(page, "13-not-ready")


@needs_chromium
def test_a_default_story_out_of_range_says_it_is_not_told(page: Any, console: str, monkeypatch) -> None:
    from playwright.sync_api import expect

    # Given the default story seeded 150 days before today: its renewal (D+143) has passed
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=150)).isoformat())
    sign_in(page, console)
    # Then the console says the story is out of range and is not told until it is reset
    expect(page.locator("#freshness")).to_have_class(re.compile("stale"))
    expect(page.locator("#default-age")).to_contain_text(
        "Warning: the default story is out of range: it is 150 days old (seeded around "
        f"{DEMO_DAY}), past the year its dates hold for, so the API does not tell it (409 story_out_of_range)."
    )
    expect(row(page, "default").locator(".badge")).to_have_text("150 days old: out of range")
    shot(page, "11-out-of-range-default")


@needs_chromium
def test_without_a_configured_provider_the_console_says_so(page: Any, console: str, monkeypatch) -> None:
    from playwright.sync_api import expect

    use_environment(monkeypatch, **dict.fromkeys(console_sign_in.ENVIRONMENT))
    page.goto(f"{console}/console")
    expect(page.locator("#not-configured")).to_be_visible()
    expect(page.locator("#sign-in")).to_be_hidden()


def test_screenshots_stay_out_of_git() -> None:
    # .ci/run fails when a run leaves files git would see
    shot_file = (SCREENSHOTS / "01-signed-out.png").relative_to(ROOT)
    assert subprocess.run(["git", "check-ignore", "-q", str(shot_file)], cwd=ROOT, check=False).returncode == 0


# ---- the console from a 320 px phone to a desk: every state fits, every control answers a tap

# Phones and a tablet, held in a hand (touch, mobile emulation); then a desk at the table's narrowest
# width (64rem), and a laptop's.
TOUCH_WIDTHS = (320, 390, 768)
HEIGHTS = {320: 568, 390: 844, 768: 1024, 1024: 768, 1280: 800}  # iPhone SE, iPhone 14, iPad; desks
WIDTHS = tuple(HEIGHTS)
# WCAG 2.2 AA (2.5.8) asks 24 CSS px of any target; under a finger the console gives its buttons and
# fields the 44 px that Apple's and Android's guidelines ask.
SMALLEST_TARGET, FINGER = 24, 44
# The longest names the API takes (40 characters): one with dashes, one without anywhere to break.
LONG_NAMES = ("acme-corp-quarterly-business-review-2025", "obsidianblackrenewalrehearsalwithmarcus1")
LONG_PRESENTER = "ana.presenter-with-a-long-address@squelch-demo-rehearsals.example.com"

# What the browser knows of the page as a presenter sees it: the widths, every control they may reach
# (inside the open dialog only, when one is: the rest is inert), every clipped box, and every text's
# colour over the backgrounds painted under it.
LAYOUT = """() => {
  const modal = document.querySelector("dialog[open]");
  const scope = modal || document.body;
  const shown = (el) => el.getClientRects().length > 0 && el.checkVisibility({ visibilityProperty: true });
  const hidden = (el) => Boolean(el.closest(".sr-only"));
  const name = (el) => {
    const text = (el.value || el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} “${text}”`;
  };
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height };
  };
  const controls = [];
  for (const el of scope.querySelectorAll("button, input:not([type=hidden]), select, textarea, a[href]")) {
    if (!shown(el) || hidden(el)) continue;
    el.scrollIntoView({ block: "center", inline: "nearest" });
    const r = box(el);
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const holder = el.parentElement.closest(".card, dialog, header, #message, tr");
    controls.push({
      name: name(el), box: r, type: el.type || "", hit: hit ? name(hit) : null,
      receives: Boolean(hit && (hit === el || el.contains(hit) || (hit.control === el))),
      holder: holder ? { name: name(holder), box: box(holder) } : null,
    });
  }
  window.scrollTo(0, 0);
  const outside = [], clipped = [], texts = [];
  for (const el of scope.querySelectorAll("*")) {
    if (!shown(el) || hidden(el)) continue;
    const r = box(el);
    if (r.width > 0 && (r.left < -0.5 || r.right > window.innerWidth + 0.5)) outside.push({ name: name(el), box: r });
    const style = getComputedStyle(el);
    const clips = style.overflowX !== "visible" || el.matches("input, select, textarea");
    if (clips && r.width > 1 && el.scrollWidth > el.clientWidth + 1) {
      clipped.push({ name: name(el), scroll: el.scrollWidth, client: el.clientWidth });
    }
    const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!ownText && !el.matches("input:not([type=checkbox]), select")) continue;
    if (el.closest(":disabled")) continue; // WCAG exempts inactive controls from contrast
    const layers = [];
    let painter = null;
    for (let node = el; node; node = node.parentElement) {
      const background = getComputedStyle(node).backgroundColor;
      if (/^rgba\\(.*,\\s*0\\)$/.test(background) || background === "transparent") continue;
      layers.push(background);
      painter = painter || { name: name(node), box: box(node), own: node === el };
      if (!background.startsWith("rgba")) break;
    }
    texts.push({
      name: name(el), color: style.color, layers, box: r, painter,
      size: parseFloat(style.fontSize), weight: parseInt(style.fontWeight, 10),
    });
    if (el.placeholder && !el.value) {
      const hint = getComputedStyle(el, "::placeholder");
      texts.push({ ...texts.at(-1), name: `the placeholder of ${name(el)}`, color: hint.color });
    }
  }
  return {
    innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
    controls, outside, clipped, texts,
  };
}"""


def rgb(color: str) -> tuple[float, float, float, float]:
    """A computed CSS colour, rgb() or rgba(), as (red, green, blue, alpha)."""
    found = re.fullmatch(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)", color.strip())
    assert found, f"not a computed colour: {color}"
    red, green, blue, alpha = found.groups()
    return float(red), float(green), float(blue), float(alpha) if alpha is not None else 1.0


def over(top: tuple[float, float, float, float], under: tuple[float, float, float]) -> tuple[float, float, float]:
    red, green, blue, alpha = top
    return (
        red * alpha + under[0] * (1 - alpha),
        green * alpha + under[1] * (1 - alpha),
        blue * alpha + under[2] * (1 - alpha),
    )


def luminance(color: tuple[float, float, float]) -> float:
    """WCAG 2's relative luminance of an sRGB colour."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in color)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(ink: tuple[float, float, float], paper: tuple[float, float, float]) -> float:
    light, dark = sorted((luminance(ink), luminance(paper)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_computation_agrees_with_wcag() -> None:
    # Black on white is 21:1, a colour on itself 1:1, and #767676 on white the lightest grey at 4.5:1
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast((90, 90, 90), (90, 90, 90)) == pytest.approx(1)
    assert contrast((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert contrast((119, 119, 119), (255, 255, 255)) < 4.5
    # Half-transparent black over white is a mid grey
    assert over((0, 0, 0, 0.5), (255, 255, 255)) == (127.5, 127.5, 127.5)


def readable(text: dict[str, Any]) -> tuple[float, float]:
    """(contrast of the text over what is painted under it, the ratio WCAG AA asks of its size)."""
    paper: tuple[float, float, float] = (255, 255, 255)  # the canvas, under every background
    for layer in reversed(text["layers"]):
        paper = over(rgb(layer), paper)
    ink = over(rgb(text["color"]), paper)
    large = text["size"] >= 24 or (text["size"] >= 18.66 and text["weight"] >= 700)
    return contrast(ink, paper), 3.0 if large else 4.5


def inside(box: dict[str, float], frame: dict[str, float]) -> bool:
    return (
        box["left"] >= frame["left"] - 0.5
        and box["right"] <= frame["right"] + 0.5
        and box["top"] >= frame["top"] - 0.5
        and box["bottom"] <= frame["bottom"] + 0.5
    )


class Visit:
    """A presenter on a screen of one width: in a hand (touch, mobile emulation) or on a desk (mouse).
    Each state they reach is measured; what does not fit is written down, so that one run says
    everything that is wrong, and the widths are kept in .screenshots/console/ beside the shots."""

    def __init__(self, page: Any, width: int) -> None:
        self.page, self.width = page, width
        self.touch = width in TOUCH_WIDTHS
        self.problems: list[str] = []
        self.widths: dict[str, int] = {}

    def fits(self, state: str, *, controls: bool = True) -> None:
        layout = self.page.evaluate(LAYOUT)
        self.widths[state] = layout["scrollWidth"]
        # A modal dialog is drawn over the window, not the page: shown as the presenter sees it.
        modal = self.page.locator("dialog[open]").count() > 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        picture(self.page, SCREENSHOTS / f"{self.width}-{state.replace(' ', '-')}.png", whole=not modal)
        said = self.problems.append
        where = f"{self.width} px, {state}:"
        if layout["innerWidth"] != self.width or layout["scrollWidth"] > layout["innerWidth"]:
            said(f"{where} the page is {layout['scrollWidth']} px wide in a {layout['innerWidth']} px window")
        for element in layout["outside"][:5]:
            said(f"{where} {element['name']} reaches {element['box']['left']:.0f}..{element['box']['right']:.0f} px")
        for element in layout["clipped"]:
            said(f"{where} {element['name']} is cut off ({element['scroll']} px in a {element['client']} px box)")
        assert bool(layout["controls"]) == controls, f"{where} controls: {layout['controls']}"
        for control in layout["controls"]:
            box, tall = control["box"], control["type"] != "checkbox" and self.touch
            least = FINGER if tall else SMALLEST_TARGET
            if box["left"] < -0.5 or box["right"] > self.width + 0.5:
                said(f"{where} {control['name']} is outside the window ({box['left']:.0f}..{box['right']:.0f} px)")
            if control["holder"] and not inside(box, control["holder"]["box"]):
                said(f"{where} {control['name']} spills out of {control['holder']['name']}")
            if not control["receives"]:
                said(f"{where} a tap on {control['name']} lands on {control['hit']}")
            if box["height"] < least - 0.5 or box["width"] < SMALLEST_TARGET - 0.5:
                said(f"{where} {control['name']} is {box['width']:.0f}×{box['height']:.0f} px, under {least} px")
        for text in layout["texts"]:
            ratio, needed = readable(text)
            if ratio < needed:
                said(f"{where} {text['name']} is {text['color']} on {text['layers']}: {ratio:.2f}:1, under {needed}:1")
            painter = text["painter"]
            if painter and not painter["own"] and not inside(text["box"], painter["box"]):
                said(f"{where} {text['name']} leaves the background of {painter['name']} it was coloured for")

    def press(self, target: Any, state: str) -> None:
        """A tap on a phone, a click on a desk; one that cannot land is written down, and the click is
        then dispatched anyway, so the visit goes on to the next state."""
        from playwright.sync_api import Error

        locator = self.page.locator(target) if isinstance(target, str) else target
        try:
            if self.touch:
                locator.tap(timeout=3000)
            else:
                locator.click(timeout=3000)
        except Error as error:
            self.said(f"{self.width} px, {state}: {target} cannot be tapped: {str(error).splitlines()[0]}")
            locator.dispatch_event("click")

    def said(self, problem: str) -> None:
        self.problems.append(problem)

    def found_nothing_wrong(self) -> None:
        assert not self.problems, "\n".join(["", *self.problems])

    def keep_widths(self) -> None:
        """Adds this visit's page widths to those of the other visits at this width."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        kept = SCREENSHOTS / f"widths-{self.width}.json"
        earlier = json.loads(kept.read_text()) if kept.exists() else {}
        kept.write_text(json.dumps(earlier | self.widths, indent=1) + "\n")


def picture(page: Any, path: Path, *, whole: bool = True) -> None:
    """A screenshot as the device shows the page. The whole page is taken in a window made exactly as
    tall as the page (Chromium's full-page capture leaves the touch emulation, pointer: coarse, behind
    and would show a tablet's buttons at a mouse's size; and no empty ground is left below)."""
    window = page.viewport_size
    if whole:
        height = page.evaluate("() => Math.ceil(document.body.getBoundingClientRect().height)")
        page.set_viewport_size({"width": window["width"], "height": height})
    page.screenshot(path=str(path))
    page.set_viewport_size(window)


def screen(browser: Any, console: str, width: int) -> Any:
    """A browser context of that width: a phone's or tablet's, with touch and mobile emulation, or a desk's."""
    hand = width in TOUCH_WIDTHS
    context = browser.new_context(
        viewport={"width": width, "height": HEIGHTS[width]},
        is_mobile=hand,
        has_touch=hand,
        locale="en-GB",
        timezone_id="UTC",
        color_scheme="light",
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def visit(request: pytest.FixtureRequest, browser: Any, console: str) -> Iterator[Visit]:
    context = screen(browser, console, request.param)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    visiting = Visit(opened, request.param)
    yield visiting
    visiting.keep_widths()
    context.close()
    assert errors == []


def create_by_api(server: str, name: str, presenter: str = "presenter@squelch.local", private: bool = False) -> None:
    from localdev import auth

    status, _, body = http_request(
        f"{server}/api/demo/reset",
        "POST",
        json.dumps({"confirm": True, "private": private}).encode(),
        Authorization=f"Bearer {auth.issue_token(presenter)}",
        Content_Type="application/json",
        X_Demo_Sandbox=name,
    )
    assert status == 200, body


@needs_chromium
def test_the_local_sign_in_pages_fit_and_answer_taps(visit: Visit, console: str) -> None:
    from playwright.sync_api import expect

    page = visit.page
    # Given the local sign-in page, as the console sends a presenter there
    page.goto(f"{console}{console_sign_in.AUTHORIZE_PATH}?{urlencode(authorize_query(console))}")
    expect(page.locator("#username")).to_be_visible()
    visit.fits("local sign-in")
    # And the page that refuses a request out of the rules
    page.goto(f"{console}{console_sign_in.AUTHORIZE_PATH}?{urlencode(authorize_query(console, client_id='x'))}")
    expect(page.locator("main")).to_contain_text("Unknown client")
    visit.fits("sign-in refused", controls=False)
    visit.found_nothing_wrong()


@needs_chromium
def test_every_state_of_the_console_fits_and_answers_taps(
    visit: Visit, console: str, story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    page = visit.page
    # Given sandboxes with the longest names there may be, and a default story three days old (its warning)
    assert all(len(name) == 40 for name in LONG_NAMES)
    for name in LONG_NAMES:
        create_by_api(console, name, LONG_PRESENTER, private=True)
    use_environment(monkeypatch, DEMO_TODAY=(DEMO_DAY + timedelta(days=3)).isoformat())

    # A deployment without sign-in settings says so
    use_environment(monkeypatch, **dict.fromkeys(console_sign_in.ENVIRONMENT))
    page.goto(f"{console}/console")
    expect(page.locator("#not-configured")).to_be_visible()
    visit.fits("not configured", controls=False)
    use_environment(monkeypatch, **console_sign_in.ENVIRONMENT)

    # Signed out, then at the local sign-in with a long presenter name
    page.goto(f"{console}/console")
    expect(page.locator("#signed-out")).to_be_visible()
    visit.fits("signed out")
    visit.press("#sign-in", "signed out")
    page.wait_for_url(re.compile(r"/local-sign-in/authorize\?"))
    page.fill("#username", LONG_PRESENTER)
    visit.press("button[value=allow]", "local sign-in")

    # The list, with the stale default's warning
    expect(page.locator("#username")).to_have_text(LONG_PRESENTER)
    expect(page.locator("#sandbox-rows tr")).to_have_count(3)
    expect(page.locator("#freshness")).to_have_class(re.compile("stale"))
    visit.fits("list")

    # Get ready: the report, with the stale story's warning
    visit.press("#get-ready", "list")
    expect(page.locator("#ready-story-warning")).to_contain_text("is not today's")
    visit.fits("readiness report")
    page.click("#ready-details summary")
    expect(page.locator("#ready-functions li").first).to_be_visible()
    visit.fits("readiness functions")

    # Create, then Copy its header line
    page.fill("#new-name", "phone-rehearsal")
    visit.press("#create-form button[type=submit]", "list")
    expect(page.locator("#message")).to_contain_text("Sandbox phone-rehearsal created")
    expect(page.locator("#message")).to_be_in_viewport()  # said where the presenter looks, not a page away
    visit.fits("created")
    visit.press("button[data-copy=header-line]", "created")
    assert page.evaluate("() => navigator.clipboard.readText()") == "X-Demo-Sandbox: phone-rehearsal"
    visit.press(row(page, LONG_NAMES[1]).get_by_role("button", name="Use"), "created")
    assert page.eval_on_selector("#header-line", "line => line.value") == f"X-Demo-Sandbox: {LONG_NAMES[1]}"
    visit.fits("long header line")

    # Reset, in its dialog
    visit.press(row(page, LONG_NAMES[1]).get_by_role("button", name="Reset…"), "list")
    expect(page.locator("#confirm")).to_be_visible()
    visit.fits("reset dialog")
    page.select_option("#confirm-checkpoint", "act1-planned")
    visit.press("#confirm-ok", "reset dialog")
    expect(row(page, LONG_NAMES[1]).locator(".checkpoint")).to_have_text("act1-planned")
    assert sandbox_checkpoint(story, LONG_NAMES[1]) == "act1-planned"

    # The story card
    visit.press(row(page, LONG_NAMES[1]).get_by_role("button", name="Check story"), "list")
    expect(page.locator("#story")).to_contain_text("Obsidian Black (aco-001)")
    expect(page.locator("#story")).to_be_in_viewport()
    visit.fits("story card")

    # Delete, in its dialog
    visit.press(row(page, LONG_NAMES[0]).get_by_role("button", name="Delete…"), "story card")
    expect(page.locator("#confirm-title")).to_have_text(f"Delete {LONG_NAMES[0]}?")
    visit.fits("delete dialog")
    visit.press("#confirm-ok", "delete dialog")
    expect(row(page, LONG_NAMES[0])).to_have_count(0)
    assert sandbox_checkpoint(story, LONG_NAMES[0]) is None

    # A name that exists, in its dialog
    page.fill("#new-name", LONG_NAMES[1])
    visit.press("#create-form button[type=submit]", "list")
    expect(page.locator("#confirm-title")).to_have_text(f"“{LONG_NAMES[1]}” already exists")
    visit.fits("name-taken dialog")
    visit.press("#confirm-cancel", "name-taken dialog")
    expect(page.locator("#confirm")).to_be_hidden()

    # Error messages: a name out of the rules, the sandbox limit
    page.fill("#new-name", "Not A Name")
    visit.press("#create-form button[type=submit]", "list")
    expect(page.locator("#message")).to_contain_text("Sandbox names are 1–40 characters")
    expect(page.locator("#message")).to_be_in_viewport()
    visit.fits("invalid name")
    use_environment(monkeypatch, DEMO_MAX_SANDBOXES="3")
    page.fill("#new-name", "one-too-many")
    visit.press("#create-form button[type=submit]", "list")
    expect(page.locator("#message")).to_contain_text("This deployment already keeps as many sandboxes as it may.")
    visit.fits("limit reached")

    # Sign out, from the header
    visit.press("#sign-out", "list")
    expect(page.locator("#signed-out")).to_be_visible()
    visit.fits("signed out again")

    # An expired sign-in, and signing in again from its message
    visit.press("#sign-in", "signed out")
    visit.press("button[value=allow]", "local sign-in")
    expect(page.locator("#sandbox-rows tr")).to_have_count(3)
    page.route(
        "**/api/demo/sandboxes",
        lambda route: route.fulfill(
            status=401,
            content_type="application/json",
            body=json.dumps({"error": {"code": "token_expired", "message": "The token has expired.", "details": []}}),
        ),
    )
    visit.press("#refresh", "list")
    expect(page.locator("#message")).to_contain_text("Your sign-in has expired.")
    visit.fits("expired sign-in")
    visit.press("#message-action", "expired sign-in")
    page.wait_for_url(re.compile(r"/local-sign-in/authorize\?"))

    visit.found_nothing_wrong()


# The screenshots docs/CONSOLE.md shows; they are written there only when asked (see CONSOLE.md), since
# every run's would differ from the committed ones in their clock times.
DOCS_SCREENSHOTS = ROOT / "docs" if os.environ.get("CONSOLE_SCREENSHOTS") == "docs" else SCREENSHOTS


@needs_chromium
@pytest.mark.parametrize("width", [390, 1280], ids=lambda width: f"{width}px")
def test_the_docs_screenshots_show_a_sandbox_and_its_story(browser: Any, console: str, story: Any, width: int) -> None:
    from playwright.sync_api import expect

    context = screen(browser, console, width)
    page = context.new_page()
    # Given a presenter who signed in, created a sandbox from act1-mid-planning and read its story
    sign_in(page, console)
    page.fill("#new-name", "acme-rehearsal")
    page.select_option("#new-checkpoint", "act1-mid-planning")
    page.click("#create-form button[type=submit]")
    expect(page.locator("#message")).to_contain_text("Sandbox acme-rehearsal created from act1-mid-planning")
    row(page, "acme-rehearsal").get_by_role("button", name="Check story").click()
    expect(page.locator("#story")).to_contain_text("Obsidian Black (aco-001)")
    page.evaluate("() => window.scrollTo(0, 0)")
    # Then the page is pictured whole, as the phone or the laptop shows it
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    picture(page, DOCS_SCREENSHOTS / f"console-{width}.png")
    context.close()
