"""The build sam local mounts does the authorizer's part under its emulation, and only there: the
built reset function, in Python 3.12 with nothing but its folder and the built layer, started with
the environment sam local gives its container (tests/deploy/test_sam_local.py computes it with SAM
CLI's code) and handed the event SAM CLI builds for a request: a bearer token and no claims."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import EVENTS

from localdev import auth

from .test_built_functions import BUILD_DIR, PYTHON, RUNNER, deployed_build

__all__ = ["deployed_build"]  # the fixture, shared with the packaging test
pytestmark = pytest.mark.skipif(not BUILD_DIR, reason="needs a sam build output: run `make check-deploy`")


def run_built(build: Path, function: str, event: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    env = {
        "PATH": os.environ["PATH"],
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "squelch",
        "AWS_REGION": "us-east-1",
        **environment,
    }
    layer = build / "SharedLayer" / "python"
    answer = subprocess.run(
        [PYTHON, "-I", "-S", "-B", "-c", RUNNER, str(build / function), str(layer), function],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        cwd=build,
        timeout=60,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    result: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])["result"]
    return result


def reset_request(token: str | None) -> dict[str, Any]:
    """POST /api/demo/reset as SAM CLI's local API Gateway hands it over."""
    event = json.loads((EVENTS / "demo_reset.json").read_text())
    event["requestContext"].pop("authorizer")
    event["headers"].pop("authorization")
    if token:
        event["headers"]["Authorization"] = f"Bearer {token}"
    return event


@pytest.mark.parametrize(
    ("sam_local", "token", "status"),
    [
        ("true", "make-demo-token", 200),
        ("true", None, 401),
        ("true", "expired", 401),
        (None, "make-demo-token", 401),
        ("1", "make-demo-token", 401),
    ],
    ids=["sam-local-token", "sam-local-no-token", "sam-local-expired", "outside-token", "other-value-token"],
)
def test_the_built_reset_authorizes_under_sam_local_only(
    story: psycopg.Connection,
    runtime_url: str,
    deployed_build: Path,
    sam_local: str | None,
    token: str | None,
    status: int,
) -> None:
    # Given the reset's container as sam local starts it (or, with AWS_SAM_LOCAL absent or not
    # "true", as Lambda does), with the env-vars file's database and key
    environment = {"DATABASE_URL": runtime_url, "SAM_LOCAL_AUTH_KEY": auth.signing_key().decode()}
    environment |= {"ROUTE_AUTHORIZER": "DemoJwt"} | ({"AWS_SAM_LOCAL": sam_local} if sam_local else {})
    bearer = {"make-demo-token": auth.issue_token(), "expired": auth.issue_token(ttl_seconds=-5), None: None}[token]
    # When SAM CLI's event reaches it
    result = run_built(deployed_build, "DemoResetFunction", reset_request(bearer), environment)
    # Then only under the emulation, and only with a good token, does the reset run
    assert result["statusCode"] == status, result["body"]
    if status == 200:
        assert json.loads(result["body"])["requested_by"] == "presenter@squelch.local"
    elif token == "expired":
        assert json.loads(result["body"])["error"]["code"] == "token_expired"
        assert "expired" in result["headers"]["WWW-Authenticate"]
