"""Under `sam local` the layer does the JWT authorizer's part, and nowhere else.

SAM CLI skips JWT authorizers and calls a function with no claims (tests/deploy/test_sam_local.py
shows it, with SAM CLI's own code). In its containers it sets AWS_SAM_LOCAL=true, and the env-vars
file `make sam-env` writes hands over the local token key; ROUTE_AUTHORIZER is the template's choice
for the route. These tests give a function exactly that environment and event, on a real database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import stat
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import psycopg
import pytest
from conftest import ROOT, DictConnection, body_of, http_request, invoke, load_event, use_environment
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from test_console import browser, needs_chromium
from test_demo_reset import add_session, sessions
from test_demo_story import snapshot

from localdev import auth, console_sign_in, samlocal
from squelch.http import local_authorizer

__all__ = ["browser"]  # the fixture, shared with the console's tests
KEY = auth.signing_key().decode()
SOMEONE_ELSES_KEY = "someone-elses-key-of-32-bytes!!!"
RESET_BODY = json.dumps({"confirm": True})


def sam_event(name: str, token: str | None = None, **headers: str) -> dict[str, Any]:
    """A sample event as SAM CLI's start-api builds it for a JWT route: no authorizer in the request
    context, the client's headers as sent."""
    event = load_event(name)
    event["requestContext"].pop("authorizer", None)
    event["headers"] = {key: value for key, value in event["headers"].items() if key != "authorization"}
    if token is not None:
        event["headers"]["Authorization"] = f"Bearer {token}"
    event["headers"].update(headers)
    if name == "demo_reset.json":
        event["body"] = RESET_BODY
    return event


def under_sam_local(
    monkeypatch: pytest.MonkeyPatch, route_authorizer: str, sam_local: str | None = "true", key: str | None = KEY
) -> None:
    """The environment SAM CLI gives the function's container with .data/sam-local-env.json."""
    use_environment(monkeypatch, AWS_SAM_LOCAL=sam_local, SAM_LOCAL_AUTH_KEY=key, ROUTE_AUTHORIZER=route_authorizer)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": auth.ISSUER,
        "aud": auth.AUDIENCE,
        "token_use": "access",
        "sub": "presenter@squelch.local",
        "cognito:username": "presenter@squelch.local",
        "cognito:groups": ["demo"],
        "iat": now,
        "exp": now + 600,
    } | overrides


def signed(payload: dict[str, Any], key: str = KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


# ---- the reset under sam local, with `make demo-token`


def test_make_demo_token_resets_under_sam_local(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the reset's container as sam local starts it, and a token from `make demo-token`
    under_sam_local(monkeypatch, "DemoJwt")
    token = subprocess.run(
        [sys.executable, "-m", "localdev", "token"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    add_session(story)
    # When the request SAM CLI passes on (no claims, the bearer token in its header) reaches the function
    response = invoke("DemoResetFunction", sam_event("demo_reset.json", token))
    # Then the function did the authorizer's part itself, and the reset ran as that presenter
    assert response["statusCode"] == 200, response["body"]
    assert body_of(response)["requested_by"] == "presenter@squelch.local"
    assert sessions(story) == 0


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (lambda: None, "unauthenticated"),
        (lambda: "not-a-jwt", "unauthenticated"),
        (lambda: signed(claims(), SOMEONE_ELSES_KEY), "unauthenticated"),
        (lambda: signed(claims(aud="another-app")), "unauthenticated"),
        (lambda: signed(claims(iss="https://evil.example")), "unauthenticated"),
        (lambda: jwt.encode(claims(), "", algorithm="none"), "unauthenticated"),
        (lambda: signed(claims(), KEY, "HS512"), "unauthenticated"),
        (lambda: signed(claims(exp=now() - 5, iat=now() - 60)), "token_expired"),
        (lambda: signed(claims(exp=now() - 5), SOMEONE_ELSES_KEY), "unauthenticated"),
    ],
    ids=["none", "garbage", "forged", "audience", "issuer", "alg-none", "hs512", "expired", "expired-forgery"],
)
def test_sam_local_refuses_what_the_local_server_refuses(
    server: str, story: DictConnection, monkeypatch: pytest.MonkeyPatch, make_token: Callable[[], str | None], code: str
) -> None:
    # Given a token the authorizer would refuse (made now: one made at collection expires in a long run),
    # and a session that a reset would remove
    token = make_token()
    under_sam_local(monkeypatch, "DemoJwt")
    add_session(story)
    before = snapshot(story)
    # When it is sent to the function under sam local, and to the local server (`make run`)
    response = invoke("DemoResetFunction", sam_event("demo_reset.json", token))
    headers = {"Content_Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    status, server_headers, server_body = http_request(
        f"{server}/api/demo/reset", "POST", RESET_BODY.encode(), **headers
    )
    # Then both answer the same 401, saying why in the body and (expired) in WWW-Authenticate, and nothing changed
    assert response["statusCode"] == status == 401
    assert body_of(response) == json.loads(server_body) and body_of(response)["error"]["code"] == code
    assert response["headers"].get("WWW-Authenticate") == server_headers.get("www-authenticate")
    assert snapshot(story) == before


def test_the_groups_rule_is_the_functions_own_under_sam_local(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    under_sam_local(monkeypatch, "DemoJwt")
    token = auth.issue_token("viewer@squelch.local", ("viewers", "not demo"))
    response = invoke("DemoResetFunction", sam_event("demo_reset.json", token))
    assert response["statusCode"] == 403 and body_of(response)["error"]["code"] == "not_a_demo_user"


def test_an_event_with_claims_is_one_api_gateway_already_verified(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given `sam local invoke DemoResetFunction -e events/demo_reset.json`: API Gateway's event, claims included
    under_sam_local(monkeypatch, "DemoJwt")
    # When / Then the function takes it as in AWS
    response = invoke("DemoResetFunction", load_event("demo_reset.json"))
    assert response["statusCode"] == 200 and body_of(response)["requested_by"] == "presenter@squelch.example"


@pytest.mark.parametrize("key", [None, "", "short-key"])
def test_without_the_local_key_sam_local_says_how_to_hand_it_over(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, key: str | None
) -> None:
    # Given sam local started with events/local-env.json itself, or a truncated key
    under_sam_local(monkeypatch, "DemoJwt", key=key)
    add_session(story)
    # When a presenter's token comes, however good
    response = invoke("DemoResetFunction", sam_event("demo_reset.json", auth.issue_token()))
    # Then it is refused, with the command that fixes it
    assert response["statusCode"] == 401 and "make sam-env" in body_of(response)["error"]["message"]
    assert sessions(story) == 1


# ---- RequireSignIn under sam local: every route is the template's ROUTE_AUTHORIZER


@pytest.mark.parametrize(
    ("function", "event"),
    [
        ("CustomerGetFunction", "customer_get.json"),
        ("TicketsListFunction", "tickets_list.json"),
        ("WorkflowStartFunction", "workflow_start.json"),
        ("RiskAnalysisCreateFunction", "risk_analysis_create.json"),
    ],
)
def test_with_require_sign_in_every_route_needs_the_token_under_sam_local(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, function: str, event: str
) -> None:
    # Given RequireSignIn=true, which the template turns into DemoJwt for every route and its function
    under_sam_local(monkeypatch, "DemoJwt")
    # When the route is called without a token, with a forged one, and with `make demo-token`'s
    anonymous = invoke(function, sam_event(event))
    forged = invoke(function, sam_event(event, signed(claims(), SOMEONE_ELSES_KEY)))
    signed_in = invoke(function, sam_event(event, auth.issue_token()))
    # Then only the signed-in call is answered
    assert anonymous["statusCode"] == forged["statusCode"] == 401
    assert signed_in["statusCode"] in (200, 201), signed_in["body"]


def test_an_open_route_stays_open_under_sam_local(story: DictConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given RequireSignIn=false: the route's authorizer is NONE, and API Gateway looks at no token
    under_sam_local(monkeypatch, "NONE")
    # When it is called without a token or with a forged one / Then it answers either way
    assert invoke("CustomerGetFunction", sam_event("customer_get.json"))["statusCode"] == 200
    forged = sam_event("customer_get.json", signed(claims(), SOMEONE_ELSES_KEY))
    assert invoke("CustomerGetFunction", forged)["statusCode"] == 200


# ---- outside SAM CLI's emulation, nothing changes


@pytest.mark.parametrize("sam_local", [None, "", "1", "True", "TRUE", "yes", "false", " true", "true\n"])
def test_outside_sam_local_a_token_without_the_authorizers_claims_is_refused(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch, sam_local: str | None
) -> None:
    # Given a function not under SAM CLI's emulation (AWS_SAM_LOCAL absent, or anything but "true"),
    # even with the local key and DemoJwt in its environment
    under_sam_local(monkeypatch, "DemoJwt", sam_local=sam_local)
    add_session(story)
    before = snapshot(story)
    # When bearer tokens arrive with no claims from API Gateway's authorizer: genuine local ones, a
    # forgery, and one claiming everything
    tokens = [
        auth.issue_token(),
        signed(claims(), SOMEONE_ELSES_KEY),
        signed(claims(sub="admin", **{"cognito:groups": ["demo", "admins"]}), KEY),
    ]
    answers = [invoke("DemoResetFunction", sam_event("demo_reset.json", token)) for token in tokens]
    # Then each is refused, whatever it contains, and nothing changes
    assert [(a["statusCode"], body_of(a)["error"]["code"]) for a in answers] == [(401, "unauthenticated")] * 3
    assert snapshot(story) == before


def test_outside_sam_local_an_open_route_is_untouched_by_route_authorizer(
    story: DictConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given AWS, where API Gateway alone decides who reaches a route (here RequireSignIn=true's DemoJwt)
    under_sam_local(monkeypatch, "DemoJwt", sam_local=None, key=None)
    # When the event it passed on carries no token at all / Then the function answers, as before
    assert invoke("CustomerGetFunction", sam_event("customer_get.json"))["statusCode"] == 200


def test_outside_sam_local_the_event_reaches_the_function_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    use_environment(monkeypatch, AWS_SAM_LOCAL=None, SAM_LOCAL_AUTH_KEY=KEY, ROUTE_AUTHORIZER="DemoJwt")
    event = sam_event("demo_reset.json", auth.issue_token())
    assert local_authorizer.authorize(event) is event


# ---- the verifier: PyJWT's rules for the local server, never more lenient


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: Any, payload: Any, key: str = KEY) -> str:
    """A token built byte by byte, for what PyJWT would not write."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def tampered(token: str) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{_b64(json.dumps(claims(sub='someone-else')).encode())}.{signature}"


def now() -> int:
    return int(time.time())


SAME_AS_PYJWT: dict[str, Callable[[], str]] = {
    "good": lambda: signed(claims()),
    "make-demo-token": lambda: auth.issue_token(),
    "audience-in-a-list": lambda: signed(claims(aud=["other", auth.AUDIENCE])),
    "audience-not-in-list": lambda: signed(claims(aud=["other"])),
    "empty-audience": lambda: signed(claims(aud=[])),
    "another-issuer": lambda: signed(claims(iss="squelch-local-2")),
    "forged": lambda: signed(claims(), SOMEONE_ELSES_KEY),
    "tampered-payload": lambda: tampered(signed(claims())),
    "alg-none": lambda: jwt.encode(claims(), "", algorithm="none"),
    "alg-none-with-signature": lambda: hand_made({"alg": "none"}, claims()),
    "hs384": lambda: signed(claims(), KEY, "HS384"),
    "alg-lowercase": lambda: hand_made({"alg": "hs256"}, claims()),
    "no-alg": lambda: hand_made({"typ": "JWT"}, claims()),
    "header-not-object": lambda: hand_made(["HS256"], claims()),
    "payload-not-object": lambda: hand_made({"alg": "HS256"}, ["claims"]),
    "expired": lambda: signed(claims(exp=now() - 1)),
    "expired-long-ago": lambda: signed(claims(exp=1, iat=0)),
    "expires-in-a-float-second": lambda: signed(claims(exp=time.time() + 0.5)),
    "not-yet-issued": lambda: signed(claims(iat=now() + 3600)),
    "not-before-future": lambda: signed(claims(nbf=now() + 3600)),
    "not-before-past": lambda: signed(claims(nbf=now() - 10)),
    "issued-in-future-and-expired": lambda: signed(claims(iat=now() + 3600, exp=now() - 5)),
    "no-exp": lambda: signed({k: v for k, v in claims().items() if k != "exp"}),
    "no-sub": lambda: signed({k: v for k, v in claims().items() if k != "sub"}),
    "no-iss": lambda: signed({k: v for k, v in claims().items() if k != "iss"}),
    "no-aud": lambda: signed({k: v for k, v in claims().items() if k != "aud"}),
    "null-sub": lambda: signed(claims(sub=None)),
    "numeric-sub": lambda: signed(claims(sub=42)),
    "numeric-jti": lambda: signed(claims(jti=7)),
    "issuer-not-a-string": lambda: hand_made({"alg": "HS256"}, claims(iss=["squelch-local"])),
    "two-parts": lambda: ".".join(signed(claims()).split(".")[:2]),
    "four-parts": lambda: signed(claims()) + ".x",
    "empty": lambda: "",
    "padding-in-signature": lambda: signed(claims()) + "==",
}
# Where PyJWT takes what a JWT should not hold (numeric dates as strings or booleans), ours refuses.
STRICTER_THAN_PYJWT: dict[str, Callable[[], str]] = {
    "exp-as-string": lambda: signed(claims(exp=str(now() + 600))),
    "iat-as-string": lambda: signed(claims(iat=str(now()))),
    "iat-true": lambda: signed(claims(iat=True)),
}


def outcome(check: Callable[[], Any], expired: type[Exception], invalid: tuple[type[Exception], ...]) -> str:
    try:
        check()
    except expired:
        return "expired"
    except invalid:
        return "invalid"
    return "valid"


def ours(token: str) -> str:
    return outcome(
        lambda: local_authorizer.verify(f"Bearer {token}", KEY.encode()),
        local_authorizer.ExpiredToken,
        (local_authorizer.InvalidToken,),
    )


def pyjwts(token: str) -> str:
    return outcome(
        lambda: jwt.decode(
            token,
            KEY,
            algorithms=["HS256"],
            audience=auth.AUDIENCE,
            issuer=auth.ISSUER,
            options={"require": ["exp", "iss", "aud", "sub"]},
        ),
        jwt.ExpiredSignatureError,
        (jwt.PyJWTError,),
    )


@pytest.mark.parametrize("case", SAME_AS_PYJWT)
def test_the_verifier_decides_as_pyjwt(case: str) -> None:
    token = SAME_AS_PYJWT[case]()
    assert ours(token) == pyjwts(token)


@pytest.mark.parametrize("case", STRICTER_THAN_PYJWT)
def test_the_verifier_is_never_more_lenient_than_pyjwt(case: str) -> None:
    token = STRICTER_THAN_PYJWT[case]()
    assert (pyjwts(token), ours(token)) == ("valid", "invalid")


def test_the_verifier_returns_the_tokens_claims() -> None:
    token = auth.issue_token("someone@squelch.local", ("demo", "my demo"))
    verified = local_authorizer.verify(f"bearer  {token} ", KEY.encode())
    assert verified == jwt.decode(token, KEY, algorithms=["HS256"], audience=auth.AUDIENCE)
    assert local_authorizer.as_gateway_claims(verified)["cognito:groups"] == "[demo my demo]"


@pytest.mark.parametrize("authorization", [None, "", "Basic abc", f"Token {signed(claims())}", "Bearer"])
def test_only_a_bearer_token_is_read(authorization: str | None) -> None:
    with pytest.raises(local_authorizer.InvalidToken):
        local_authorizer.verify(authorization, KEY.encode())


# ---- the env-vars file and the database relay


def test_the_env_vars_file_holds_the_local_key_and_the_database(tmp_path: Path) -> None:
    # Given events/local-env.json, the file's source
    source = json.loads(samlocal.SOURCE.read_text())
    # When `make sam-env` writes it, once as it is and once for your own database
    default = samlocal.write_env_file(path=tmp_path / "default.json")
    own_url = "postgresql://me@host.docker.internal:5432/mine"
    own = samlocal.write_env_file(own_url, tmp_path / "own.json")
    # Then both carry the key `make demo-token` signs with, readable by their owner only, and the database
    assert json.loads(default.read_text()) == source | {
        "Parameters": source["Parameters"] | {"SAM_LOCAL_AUTH_KEY": KEY}
    }
    for written in (default, own):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    # And with your own database every function uses it (the migrate function too, unless told the
    # owner's URL: `make migrate` migrates it from here), with the console's local sign-in unchanged
    values = json.loads(own.read_text())
    assert values["Parameters"] == source["Parameters"] | {"DATABASE_URL": own_url, "SAM_LOCAL_AUTH_KEY": KEY}
    assert "DATABASE_URL" not in values[samlocal.MIGRATE_FUNCTION]
    assert values[samlocal.CONSOLE_FUNCTION] == source[samlocal.CONSOLE_FUNCTION]
    owner_url = "postgresql://owner@host.docker.internal:5432/mine"
    with_owner = samlocal.write_env_file(own_url, tmp_path / "owner.json", migrate_database_url=owner_url)
    assert json.loads(with_owner.read_text())[samlocal.MIGRATE_FUNCTION]["DATABASE_URL"] == owner_url
    # And the committed source holds no key
    assert not source["Parameters"].get("SAM_LOCAL_AUTH_KEY")


def test_make_sam_db_writes_the_relay_and_the_sign_in_it_serves(tmp_path: Path) -> None:
    # When `make sam-db` writes the file for a relay on port 5533 to the embedded server, and the sign-in on 3302
    embedded = "postgresql://postgres@/squelch?host=/tmp/pg&port=5432&sslmode=disable"
    written = samlocal.write_relay_env_file(5533, embedded, 3302, tmp_path / "env.json", lambda_port=3303)
    values = json.loads(written.read_text())
    # Then the API's functions reach the relay as their login, the migrate function as the owner,
    # without a runtime secret (the template's exists in AWS only; `make sam-db` made the login)
    assert values["Parameters"]["DATABASE_URL"] == (
        "postgresql://squelch_app@host.docker.internal:5533/squelch?sslmode=disable"
    )
    assert values[samlocal.MIGRATE_FUNCTION] == {
        "DATABASE_URL": "postgresql://postgres@host.docker.internal:5533/squelch?sslmode=disable",
        "DB_SECRET_ARN": "",
        "DB_RUNTIME_SECRET_ARN": "",
    }
    # And the console sends presenters to the local sign-in on 127.0.0.1:3302, the browser's side
    assert values[samlocal.CONSOLE_FUNCTION] == {
        "CONSOLE_AUTHORIZE_URL": f"http://127.0.0.1:3302{console_sign_in.AUTHORIZE_PATH}",
        "CONSOLE_TOKEN_URL": f"http://127.0.0.1:3302{console_sign_in.TOKEN_PATH}",
        "CONSOLE_LOGOUT_URL": "",
        "CONSOLE_CLIENT_ID": console_sign_in.CLIENT_ID,
        "CONSOLE_SCOPES": console_sign_in.ENVIRONMENT["CONSOLE_SCOPES"],
    }
    # And the preflight's warm-ups reach `sam local start-lambda` on the port given (SAM_LAMBDA_PORT),
    # as its container reaches this machine
    assert values[samlocal.PREFLIGHT_FUNCTION]["LAMBDA_ENDPOINT_URL"] == "http://host.docker.internal:3303"


def test_make_sam_env_points_the_preflight_at_the_start_lambda_port_given(tmp_path: Path) -> None:
    source = json.loads(samlocal.SOURCE.read_text())
    written = samlocal.write_env_file(path=tmp_path / "env.json", lambda_port=3313)
    preflight = json.loads(written.read_text())[samlocal.PREFLIGHT_FUNCTION]
    assert preflight == source[samlocal.PREFLIGHT_FUNCTION] | {
        "LAMBDA_ENDPOINT_URL": "http://host.docker.internal:3313"
    }


def test_the_committed_file_is_make_sam_dbs_on_its_default_ports() -> None:
    source = json.loads(samlocal.SOURCE.read_text())
    assert source["Parameters"]["DATABASE_URL"] == samlocal.container_url(samlocal.RELAY_PORT)
    assert source[samlocal.MIGRATE_FUNCTION]["DATABASE_URL"] == samlocal.container_url(samlocal.RELAY_PORT, "postgres")
    assert source[samlocal.CONSOLE_FUNCTION] == samlocal.console_environment(samlocal.SIGN_IN_PORT)
    assert source[samlocal.PREFLIGHT_FUNCTION]["LAMBDA_ENDPOINT_URL"] == samlocal.lambda_endpoint(samlocal.LAMBDA_PORT)


def test_under_sam_local_the_preflight_warms_every_route_function_it_warms_in_aws() -> None:
    # Given the functions the committed file names for the preflight's container (by logical id: sam local
    # start-lambda knows no aliases) and the route functions make run's preflight warms
    from localdev.template import routes

    named = json.loads(samlocal.SOURCE.read_text())[samlocal.PREFLIGHT_FUNCTION]["WARM_FUNCTIONS"].split(",")
    route_functions = {function.logical_id for _, function in routes()} - {samlocal.PREFLIGHT_FUNCTION}
    # Then they are the same, each once: Get ready under sam local reports on every route function
    assert sorted(named) == sorted(route_functions)


def test_the_migrate_function_migrates_with_its_part_of_the_file(
    story: DictConnection, app_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given the migrate function's container as sam local starts it with the file `make sam-db`
    # writes (here the test database's owner stands for the relay's)
    values = json.loads(samlocal.write_env_file(path=tmp_path / "env.json").read_text())
    environment = values["Parameters"] | values[samlocal.MIGRATE_FUNCTION]
    assert conninfo_to_dict(environment["DATABASE_URL"])["user"] == "postgres"
    use_environment(monkeypatch, **(environment | {"DATABASE_URL": app_database}))
    # When it is invoked (`sam local invoke DatabaseMigrateFunction -e events/database_migrate.json`)
    summary = invoke("DatabaseMigrateFunction", load_event("database_migrate.json"))
    # Then it migrates as the owner, nothing pending, and asks no secret store for a login
    assert summary["migrations_applied"] == [] and summary["seeded"] is False
    assert "runtime_login" not in summary


# ---- the console's sign-in under sam local: `make sam-db` serves it on a port of its own


CONSOLE_UNDER_SAM = "http://127.0.0.1:3001/console"


@pytest.fixture
def sign_in_server() -> Iterator[str]:
    served = samlocal.SignInServer("127.0.0.1", 0)
    threading.Thread(target=served.serve_forever, daemon=True).start()
    yield served.origin
    served.shutdown()
    served.server_close()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorization(console: str, challenge: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": console_sign_in.CLIENT_ID,
        "redirect_uri": console,
        "scope": "openid",
        "state": "state-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def approve(sign_in: str, console: str, challenge: str) -> tuple[int, dict[str, str]]:
    form = authorization(console, challenge) | {"username": "ana@squelch.local", "lifetime": "3600"}
    form |= {"demo_group": "yes", "decision": "allow"}
    sent = urllib.request.Request(f"{sign_in}{console_sign_in.AUTHORIZE_PATH}", urlencode(form).encode(), method="POST")
    try:
        with urllib.request.build_opener(_NoRedirects).open(sent, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as refused:
        return refused.code, {k.lower(): v for k, v in refused.headers.items()}


def test_sam_locals_console_signs_in_at_make_sam_dbs_sign_in(sign_in_server: str, server: str) -> None:
    # Given the console sam local serves on another port of this machine, and a presenter's PKCE pair
    verifier, challenge = pkce()
    query = urlencode(authorization(CONSOLE_UNDER_SAM, challenge))
    # When the console sends them to the sign-in, and they approve
    status, headers, page = http_request(f"{sign_in_server}{console_sign_in.AUTHORIZE_PATH}?{query}")
    assert status == 200 and headers["content-type"].startswith("text/html") and b"make sam-db" in page
    # (its form's answer goes on to that console, which the page's policy must name: Chromium holds
    # a form's redirect to form-action)
    assert "form-action 'self' http://127.0.0.1:3001;" in headers["content-security-policy"]
    status, headers = approve(sign_in_server, CONSOLE_UNDER_SAM, challenge)
    # Then they go back to that console with a code
    location = urlsplit(headers["location"])
    assert status == 303 and location._replace(query="").geturl() == CONSOLE_UNDER_SAM
    code = parse_qs(location.query)["code"][0]
    # When the console's page, from its own origin, exchanges the code
    fields = {
        "grant_type": "authorization_code",
        "client_id": console_sign_in.CLIENT_ID,
        "code": code,
        "redirect_uri": CONSOLE_UNDER_SAM,
        "code_verifier": verifier,
    }
    status, headers, body = http_request(
        f"{sign_in_server}{console_sign_in.TOKEN_PATH}",
        "POST",
        urlencode(fields).encode(),
        Content_Type="application/x-www-form-urlencoded",
        Origin="http://127.0.0.1:3001",
    )
    # Then the page may read the answer (CORS for its origin), a token the API takes
    assert status == 200, body
    assert headers["access-control-allow-origin"] == "http://127.0.0.1:3001" and headers["vary"] == "Origin"
    token = json.loads(body)["access_token"]
    assert http_request(f"{server}/api/demo/sandboxes", Authorization=f"Bearer {token}")[0] == 200


@pytest.mark.parametrize(
    "console",
    [
        "http://evil.example:3001/console",
        "https://127.0.0.1:3001/console",
        "http://127.0.0.1:3001/other",
        "http://127.0.0.1:3001/console?next=evil",
        "http://ana@127.0.0.1:3001/console",
        "http://127.0.0.1.evil.example:3001/console",
        "http://127.0.0.1:99999/console",
    ],
)
def test_the_sign_in_sends_codes_to_a_console_on_this_machine_only(sign_in_server: str, console: str) -> None:
    # Given a sign-in request whose console is not one on this machine (any port, as RFC 8252 has it)
    query = urlencode(authorization(console, "c" * 43))
    # When it is opened or approved / Then it is refused on a page of its own, no code sent anywhere
    status, headers, body = http_request(f"{sign_in_server}{console_sign_in.AUTHORIZE_PATH}?{query}")
    assert status == 400 and "location" not in headers and b"Sign-in refused" in body
    status, headers = approve(sign_in_server, console, "c" * 43)
    assert status == 400 and "location" not in headers


@pytest.mark.parametrize("console", ["http://localhost:3001/console", "http://[::1]:3300/console"])
def test_any_loopback_console_may_sign_in(sign_in_server: str, console: str) -> None:
    status, headers = approve(sign_in_server, console, "c" * 43)
    assert status == 303 and headers["location"].startswith(f"{console}?code=")


@pytest.mark.parametrize("origin", ["http://evil.example", "https://127.0.0.1:3001", "null"])
def test_only_a_console_on_this_machine_may_read_a_token_answer(sign_in_server: str, origin: str) -> None:
    status, headers, _ = http_request(
        f"{sign_in_server}{console_sign_in.TOKEN_PATH}",
        "POST",
        b"grant_type=authorization_code&code=x",
        Content_Type="application/x-www-form-urlencoded",
        Origin=origin,
    )
    assert status == 400 and "access-control-allow-origin" not in headers


def test_the_sign_in_page_has_its_stylesheet_and_nothing_else(sign_in_server: str) -> None:
    status, headers, body = http_request(f"{sign_in_server}/console?asset=console.css")
    assert status == 200 and headers["content-type"] == "text/css; charset=utf-8"
    assert body == (ROOT / "functions" / "console_get" / "console.css").read_bytes()
    for path in ("/console", "/api/demo/sandboxes", "/console?asset=console.js"):
        assert http_request(f"{sign_in_server}{path}")[0] == 404, path


def test_the_console_page_under_sam_local_may_reach_its_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the console's container as sam local starts it with the committed file
    use_environment(monkeypatch, **json.loads(samlocal.SOURCE.read_text())[samlocal.CONSOLE_FUNCTION])
    # When its page is asked for
    response = invoke("ConsoleGetFunction", load_event("console_get.json"))
    # Then it sends presenters to the local sign-in, and its policy lets it fetch the token there
    assert f'data-authorize-url="http://127.0.0.1:3002{console_sign_in.AUTHORIZE_PATH}"' in response["body"]
    assert f'data-client-id="{console_sign_in.CLIENT_ID}"' in response["body"]
    policy = dict(
        directive.split(maxsplit=1) for directive in response["headers"]["Content-Security-Policy"].split("; ")
    )
    assert policy["connect-src"] == "'self' http://127.0.0.1:3002"


@needs_chromium
def test_a_presenter_signs_in_to_sam_locals_console_in_a_browser(
    browser: Any, server: str, sign_in_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    # Given the console served on one origin (the local server stands in for sam local's) and
    # configured as under sam local, for the sign-in `make sam-db` serves on another
    port = int(urlsplit(sign_in_server).port or 0)
    use_environment(monkeypatch, **samlocal.console_environment(port))
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    # When a presenter signs in there
    page.goto(f"{server}/console")
    page.click("#sign-in")
    page.wait_for_url(f"{sign_in_server}{console_sign_in.AUTHORIZE_PATH}?*")
    page.click("button[value=allow]")
    # Then they are signed in and see the sandboxes, and the browser refused nothing on the way
    expect(page.locator("#signed-in")).to_be_visible()
    expect(page.locator('tr[data-sandbox="default"]')).to_be_visible()
    assert problems == []
    context.close()


def test_samconfig_points_sam_local_at_the_file_make_sam_env_writes() -> None:
    local = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]
    for command in ("local_start_api", "local_invoke"):
        assert ROOT / local[command]["parameters"]["env_vars"] == samlocal.ENV_FILE


@pytest.fixture
def unix_echo(tmp_path: Path) -> Iterator[str]:
    """A server on a Unix socket that answers each chunk with its upper-case, and closes when the client has."""
    path = str(tmp_path / "echo.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(1024):
                    conn.sendall(data.upper())

    threading.Thread(target=serve, daemon=True).start()
    yield path
    listener.close()


@pytest.fixture
def relay_to() -> Iterator[Callable[[str], int]]:
    relays: list[samlocal.Relay] = []

    def start(target: str) -> int:
        relay = samlocal.Relay("127.0.0.1", 0, target)
        threading.Thread(target=relay.serve_forever, daemon=True).start()
        relays.append(relay)
        return relay.server_address[1]

    yield start
    for relay in relays:
        relay.shutdown()
        relay.server_close()


def test_the_relay_pipes_both_ways_until_the_client_is_done(unix_echo: str, relay_to: Callable[[str], int]) -> None:
    port = relay_to(unix_echo)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"select 1")
        assert client.recv(1024) == b"SELECT 1"
        client.shutdown(socket.SHUT_WR)
        assert client.recv(1024) == b""  # the server saw the end and closed; so does the relay


def test_the_relay_reaches_the_embedded_database(admin_url: str, relay_to: Callable[[str], int]) -> None:
    if not str(conninfo_to_dict(admin_url).get("host", "")).startswith("/"):
        pytest.skip("the relay serves a server on a Unix socket (the embedded one); this run's is on TCP")
    port = relay_to(samlocal.socket_path(admin_url))
    url = make_conninfo(admin_url, host="127.0.0.1", port=port, sslmode="disable")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)


def test_the_relay_serves_only_a_server_on_a_unix_socket() -> None:
    with pytest.raises(ValueError, match="Unix socket"):
        samlocal.socket_path("postgresql://postgres@127.0.0.1:5432/test")
    assert samlocal.socket_path("postgresql://postgres@/squelch?host=/run/pg&port=5433") == "/run/pg/.s.PGSQL.5433"


def test_claims_reach_the_function_flattened_as_api_gateway_passes_them() -> None:
    # Given a verified token's claims: a string, a boolean, a list of groups and a number
    claims = {"sub": "u-1", "email_verified": True, "cognito:groups": ["demo", "ops"], "iat": 1_700_000_000}
    # When the local authorizer hands them to the function, Then each is text as an HTTP API's JWT
    # authorizer writes it: JSON's lower-case booleans, arrays as "[a b]"
    assert local_authorizer.as_gateway_claims(claims) == {
        "sub": "u-1",
        "email_verified": "true",
        "cognito:groups": "[demo ops]",
        "iat": "1700000000",
    }


@pytest.mark.parametrize(
    ("url", "reached"),
    [
        ("postgresql://o:p@127.0.0.1:5432/squelch?sslmode=disable", "host.docker.internal"),
        ("postgresql://o:p@localhost/squelch", "host.docker.internal"),
        ("postgresql://o:p@db.example.com:5432/squelch", "db.example.com"),
    ],
)
def test_your_own_database_is_named_as_containers_reach_it(url: str, reached: str) -> None:
    from psycopg.conninfo import conninfo_to_dict

    from localdev import samlocal

    # Given the URL of a server, as this machine reaches it
    seen = conninfo_to_dict(samlocal.as_containers_reach_it(url))
    # Then containers reach one on this machine at host.docker.internal, any other as it is, with the rest kept
    assert seen["host"] == reached
    assert {k: v for k, v in seen.items() if k != "host"} == {
        k: v for k, v in conninfo_to_dict(url).items() if k != "host"
    }
