"""docs/API-CONTRACT.md stays true: every recorded example is replayed, in order, against the code."""

from __future__ import annotations

import json
import re
from typing import Any

from conftest import ROOT, DictConnection

from localdev import auth, gateway

CONTRACT = (ROOT / "docs" / "API-CONTRACT.md").read_text()
EXAMPLE = re.compile(
    r"<!-- example (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3})(?: X-Demo-Sandbox: (?P<sandbox>\S+))? -->\n"
    r"(?:```json request\n(?P<request>.*?)```\n+)?(?:```json\n(?P<response>.*?)```|\(no body\))",
    re.S,
)
EXAMPLES = list(EXAMPLE.finditer(CONTRACT))
# Values that differ on every run; the replay checks they are there, not what they are.
VOLATILE = {"session_id", "created_at", "updated_at", "last_activity_at", "duration_ms", "reset_id"}
RECORDED_SESSION = re.compile(r"wf-[A-Za-z0-9_-]{24}")


def normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: type(v).__name__ if k in VOLATILE else normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def test_the_contract_has_an_example_for_every_documented_route() -> None:
    documented = set(re.findall(r"^### (GET|POST|PUT|DELETE) (\S+)", CONTRACT, re.M))
    assert len(documented) == 15
    assert {
        (e["method"], re.sub(r"/api/demo/sandboxes/\S+", "/api/demo/sandboxes/{name}", e["path"])) for e in EXAMPLES
    } >= {("POST", "/api/demo/reset"), ("GET", "/api/demo/sandboxes"), ("DELETE", "/api/demo/sandboxes/{name}")}
    assert len(EXAMPLES) >= 31
    assert len(EXAMPLES) == CONTRACT.count("<!-- example "), "an example the replay cannot read is never checked"


def test_recorded_examples_match_real_answers(story: DictConnection) -> None:
    session_id = None
    for example in EXAMPLES:
        label = f"{example['method']} {example['path'][:70]} {example['status']}"
        path = example["path"]
        if session_id:
            path = RECORDED_SESSION.sub(session_id, path)
        headers = {"host": "localhost:3000", "content-type": "application/json"}
        if path.startswith("/api/demo/") and example["status"] != "401":
            headers["authorization"] = f"Bearer {auth.issue_token()}"
        if example["sandbox"]:
            headers["x-demo-sandbox"] = example["sandbox"]
        body = (example["request"] or "").encode()
        answer = gateway.handle(gateway.HttpRequest(example["method"], path, "", headers, body))
        assert answer.status == int(example["status"]), (label, answer.body)
        if example["response"] is None:
            assert answer.body == b"", label
            continue
        got = json.loads(answer.body)
        assert normalized(got) == normalized(json.loads(example["response"])), label
        if answer.status == 201:
            session_id = got["session_id"]
