"""docs/API-CONTRACT.md stays true: every recorded example is replayed against the code."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
from conftest import ROOT

from localdev import gateway

CONTRACT = (ROOT / "docs" / "API-CONTRACT.md").read_text()
EXAMPLE = re.compile(r"<!-- example (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3})(?P<body> with body)? -->\n"
                     r"(?:```json request\n(?P<request>.*?)```\n+)?```json\n(?P<response>.*?)```", re.S)
EXAMPLES = list(EXAMPLE.finditer(CONTRACT))


def test_the_contract_has_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda m: f"{m['method']} {m['path'][:60]} {m['status']}")
def test_recorded_example_matches_a_real_answer(story: psycopg.Connection, example: re.Match[str]) -> None:
    body = (example["request"] or "").encode()
    headers = {"host": "localhost:3000", "content-type": "application/json"}
    answer = gateway.handle(gateway.HttpRequest(example["method"], example["path"], "", headers, body))
    assert answer.status == int(example["status"])
    assert json.loads(answer.body) == json.loads(example["response"])
