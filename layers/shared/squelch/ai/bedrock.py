"""The LLM provider: Amazon Bedrock's Converse API, forced to answer through one tool whose input
schema is the route's text model. Any failure (throttling, timeout, no or invalid answer, a number
that is not in the facts) raises ProviderFailure, and the caller falls back to the canned text.

Imported only when AI_PROVIDER=bedrock, so the other routes never pay for boto3.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from pydantic import BaseModel, ValidationError

from squelch.settings import get_settings

T = TypeVar("T", bound=BaseModel)
THROTTLING = {"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException"}
SYSTEM_PROMPT = (
    "You write customer-success insights for Squelch's CSM. Use only the facts you are given: every number, "
    "name and date you write must appear in them. Be specific, professional and brief; no campy villain talk. "
    "Answer only by calling the `answer` tool."
)
# Window words the canned text uses too ("past 12 months", "two weeks"), not facts of the account.
ALWAYS_ALLOWED = {Decimal(n) for n in (1, 2, 12, 14, 365)}
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


class ProviderFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def client() -> Any:
    timeout = get_settings().ai_timeout_seconds
    config = Config(connect_timeout=min(2.0, timeout), read_timeout=timeout,
                    retries={"max_attempts": 1, "mode": "standard"})
    return boto3.client("bedrock-runtime", config=config)


def write(task: str, facts: dict[str, Any], model: type[T], example: T) -> T:
    model_id = get_settings().bedrock_model_id
    if not model_id:
        raise ProviderFailure("bedrock_model_not_configured")
    prompt = (f"{task}\n\nFacts (JSON):\n{json.dumps(facts, default=str)}\n\n"
              f"A plain version of the answer, for shape and tone:\n{example.model_dump_json()}")
    try:
        response = client().converse(
            modelId=model_id,
            system=[{"text": SYSTEM_PROMPT}],
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            toolConfig={
                "tools": [{"toolSpec": {"name": "answer", "description": "Return the answer.",
                                        "inputSchema": {"json": model.model_json_schema()}}}],
                "toolChoice": {"tool": {"name": "answer"}},
            },
            inferenceConfig={"maxTokens": 1500, "temperature": 0.2},
        )
    except (ReadTimeoutError, ConnectTimeoutError) as error:
        raise ProviderFailure("bedrock_timeout") from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "unknown")
        raise ProviderFailure("bedrock_throttled" if code in THROTTLING else f"bedrock_error:{code}") from error
    except BotoCoreError as error:
        raise ProviderFailure("bedrock_unreachable") from error
    blocks = (((response or {}).get("output") or {}).get("message") or {}).get("content") or []
    answer = next((b["toolUse"].get("input") for b in blocks if isinstance(b, dict) and "toolUse" in b), None)
    if answer is None:
        raise ProviderFailure("bedrock_no_answer")
    try:
        written = model.model_validate(answer)
    except ValidationError as error:
        raise ProviderFailure("bedrock_invalid_answer") from error
    if invented_numbers(written.model_dump_json(), facts):
        raise ProviderFailure("bedrock_invented_numbers")
    return written


def _numbers(text: str) -> set[Decimal]:
    found = set()
    for token in NUMBER.findall(text):
        try:
            found.add(Decimal(token.replace(",", "")).normalize())
        except InvalidOperation:
            continue
    return found


def invented_numbers(text: str, facts: dict[str, Any]) -> set[Decimal]:
    """Numbers in text that are neither in the facts nor a $K/$M shortening of one of them."""
    known = _numbers(json.dumps(facts, default=str))
    shortened = {(n / scale).quantize(Decimal("0.01")).normalize() for n in known for scale in (1000, 1_000_000)}
    return _numbers(text) - known - shortened - ALWAYS_ALLOWED
