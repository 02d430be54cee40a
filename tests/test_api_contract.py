"""docs/API-CONTRACT.md stays true: every recorded example is replayed, in order, against the code."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable
from typing import Any

import pytest
from conftest import ROOT, DictConnection

from localdev import auth, gateway
from localdev.messages import HttpRequest

CONTRACT = (ROOT / "docs" / "API-CONTRACT.md").read_text()
# An example: the request line with any request headers (`Name: value`, no spaces in the value), its
# body, the response headers it must carry (an `http` block), then its body or "(no body)".
# A presenter's route is called with `make demo-token`'s token, or another presenter's after "as <username>".
EXAMPLE = re.compile(
    r"<!-- example (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3})(?P<headers>(?: [A-Za-z-]+: \S+)*)"
    r"(?: as (?P<user>\S+))? -->\n"
    r"(?:```json request\n(?P<request>.*?)```\n+)?(?:```http\n(?P<answer_headers>.*?)```\n+)?"
    r"(?:```json\n(?P<response>.*?)```|\(no body\))",
    re.S,
)
EXAMPLES = list(EXAMPLE.finditer(CONTRACT))
REQUEST_HEADER = re.compile(r" ([A-Za-z-]+): (\S+)")
# Tags differ on every run. In a request header, {etag} is the ETag last received for the same path
# and sandbox (as a browser's cache sends it); in a response header, {etag} must be that same tag
# and {new etag} a strong tag other than it.
LAST_TAG, NEW_TAG = "{etag}", "{new etag}"
# In a request header, {sandbox_key} is the sandbox_key of the last answer that had one (a private sandbox's).
LAST_KEY = "{sandbox_key}"
STRONG_TAG = re.compile(r'^"[A-Za-z0-9_-]+"$')
# Values that differ on every run; the replay checks they are there, not what they are.
VOLATILE = {"session_id", "created_at", "updated_at", "last_activity_at", "duration_ms", "reset_id", "sandbox_key"}
# The preflight's: when it ran, how long its connection took, and its functions (cold or warm depends on what ran
# before; tests/test_preflight.py holds them).
VOLATILE |= {"checked_at", "connect_ms", "functions"}
RECORDED_SESSION = re.compile(r"wf-[A-Za-z0-9_-]{24}")


def normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: type(v).__name__ if k in VOLATILE else normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def test_the_contract_has_an_example_for_every_documented_route() -> None:
    documented = set(re.findall(r"^### (GET|POST|PUT|DELETE) (\S+)", CONTRACT, re.M))
    assert len(documented) == 17
    assert {
        (e["method"], re.sub(r"/api/demo/sandboxes/\S+", "/api/demo/sandboxes/{name}", e["path"])) for e in EXAMPLES
    } >= {
        ("POST", "/api/demo/reset"),
        ("GET", "/api/demo/sandboxes"),
        ("DELETE", "/api/demo/sandboxes/{name}"),
        ("POST", "/api/demo/preflight"),
        ("GET", "/api/demo/stories"),
    }
    assert len(EXAMPLES) >= 31
    assert len(EXAMPLES) == CONTRACT.count("<!-- example "), "an example the replay cannot read is never checked"


def test_recorded_examples_match_real_answers(story: DictConnection) -> None:
    replay(EXAMPLES)


def replay(examples: Iterable[re.Match[str]]) -> None:
    session_id = None
    tags: dict[tuple[str, str], str] = {}  # the last ETag of each path and sandbox
    sandbox_key = None
    for example in examples:
        label = f"{example['method']} {example['path'][:70]} {example['status']}"
        path = example["path"]
        if session_id:
            path = RECORDED_SESSION.sub(session_id, path)
        headers = {"host": "localhost:3000", "content-type": "application/json"}
        if path.startswith("/api/demo/") and example["status"] != "401":
            headers["authorization"] = f"Bearer {auth.issue_token(*filter(None, [example['user']]))}"
        for name, value in REQUEST_HEADER.findall(example["headers"]):
            if LAST_KEY in value:
                assert sandbox_key is not None, f"{label}: {LAST_KEY} before any answer had a sandbox_key"
                value = value.replace(LAST_KEY, sandbox_key)
            headers[name.lower()] = value
        key = (path, headers.get("x-demo-sandbox", "default"))
        held = tags.get(key)
        for name, value in headers.items():
            if LAST_TAG in value:
                assert held is not None, f"{label}: {LAST_TAG} before any answer of {key} had an ETag"
                headers[name] = value.replace(LAST_TAG, held)
        body = (example["request"] or "").encode()
        answer = gateway.handle(HttpRequest(example["method"], path, "", headers, body))
        assert answer.status == int(example["status"]), (label, answer.body)
        expected = dict(line.split(": ", 1) for line in (example["answer_headers"] or "").splitlines() if line)
        for name, value in expected.items():
            got = answer.headers.get(name.lower())
            if value == LAST_TAG:
                assert held is not None and got == held, (label, name, got, held)
            elif value == NEW_TAG:
                assert got is not None and STRONG_TAG.match(got) and got != held, (label, name, got, held)
            else:
                assert got == value, (label, name, got)
        if "etag" in answer.headers:
            tags[key] = answer.headers["etag"]
        content = answer.body
        if answer.headers.get("content-encoding") == "gzip":
            assert expected.get("Content-Encoding") == "gzip", f"{label}: a gzip answer the example does not declare"
            content = gzip.decompress(content)
        if example["response"] is None:
            assert content == b"", label
            continue
        got = json.loads(content)
        assert normalized(got) == normalized(json.loads(example["response"])), label
        if answer.status == 201:
            session_id = got["session_id"]
        if isinstance(got, dict) and got.get("sandbox_key"):
            sandbox_key = got["sandbox_key"]


def examples_of(text: str) -> list[re.Match[str]]:
    found = list(EXAMPLE.finditer(text))
    assert len(found) == text.count("<!-- example ")
    return found


PROFILE_TWICE = """<!-- example GET /api/customers/aco 200 -->
```json
{body}
```

<!-- example GET /api/customers/aco 304 If-None-Match: {{etag}} -->
```http
{headers}
```
(no body)
"""


@pytest.mark.parametrize(
    ("headers", "right"),
    [
        ("ETag: {etag}\nCache-Control: private, no-cache", True),
        ("ETag: {new etag}", False),  # a 304 keeps the tag
        ("ETag: {etag}\nCache-Control: no-store", False),  # a header with another value
        ("ETag: {etag}\nContent-Encoding: gzip", False),  # a header the answer does not have
    ],
)
def test_the_replay_checks_the_headers_it_is_shown(story: DictConnection, headers: str, right: bool) -> None:
    # Given the recorded profile, then a revalidation whose answer headers are stated rightly or wrongly
    recorded = next(e for e in EXAMPLES if e["path"] == "/api/customers/aco" and e["status"] == "200")
    text = PROFILE_TWICE.format(body=recorded["response"].strip(), headers=headers)
    # When it is replayed
    # Then only the right statement passes
    if right:
        replay(examples_of(text))
    else:
        with pytest.raises(AssertionError):
            replay(examples_of(text))


def test_the_replay_refuses_a_tag_it_never_received(story: DictConnection) -> None:
    # Given a revalidation of a path no answer gave a tag for
    text = "<!-- example GET /api/customers/aco/contacts 304 If-None-Match: {etag} -->\n(no body)\n"
    # When it is replayed
    # Then it fails rather than send something made up
    with pytest.raises(AssertionError, match="before any answer"):
        replay(examples_of(text))
