"""The LLM provider: Amazon Bedrock's Converse API, forced to answer through one tool whose input
schema is the route's text model. Any failure (throttling, timeout, no or invalid answer, a number
that is not in the facts) raises ProviderFailure, and the caller falls back to the canned text.

The number guard (number_guard.py) decides which numbers its text may contain.

Imported only when AI_PROVIDER=bedrock, so the other routes never pay for boto3.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from pydantic import BaseModel, ValidationError

from squelch import snapstart
from squelch.ai.number_guard import invented_numbers, prose
from squelch.settings import get_settings

T = TypeVar("T", bound=BaseModel)
THROTTLING = {"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException"}
SYSTEM_PROMPT = (
    "You write customer-success insights for Squelch's CSM. Use only the facts you are given: every number you "
    "write must be the value of a fact (money may be shortened as $850K, $1.7M or $1.5B, never rounded), and "
    "every date, id, name and quarter label must be written as the facts give it (a date may also be written "
    "as April 15, 2026). Be specific, professional and brief; no campy villain talk. "
    "Answer only by calling the `answer` tool."
)


class ProviderFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def client() -> Any:
    timeout = get_settings().ai_timeout_seconds
    config = Config(
        connect_timeout=min(2.0, timeout), read_timeout=timeout, retries={"max_attempts": 1, "mode": "standard"}
    )
    return boto3.client("bedrock-runtime", config=config)


snapstart.forget_on_snapshot(client.cache_clear)  # it holds the snapshot's credentials


def write(task: str, facts: dict[str, Any], model: type[T], example: T, request: dict[str, str] | None = None) -> T:
    """The model's answer, written from the facts; request is the caller's own wording (an e-mail's
    context and purpose): shown to the model but not a fact, so the guard allows no number from it."""
    model_id = get_settings().bedrock_model_id
    if not model_id:
        raise ProviderFailure("bedrock_model_not_configured")
    asked = (
        f"The request, in the caller's words (not facts: take no number from it):\n{json.dumps(request)}\n\n"
        if request
        else ""
    )
    prompt = (
        f"{task}\n\nFacts (JSON):\n{json.dumps(facts, default=str)}\n\n{asked}"
        f"A plain version of the answer, for shape and tone:\n{example.model_dump_json()}"
    )
    try:
        response = client().converse(
            modelId=model_id,
            system=[{"text": SYSTEM_PROMPT}],
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            toolConfig={
                "tools": [
                    {
                        "toolSpec": {
                            "name": "answer",
                            "description": "Return the answer.",
                            "inputSchema": {"json": model.model_json_schema()},
                        }
                    }
                ],
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
    if invented_numbers(prose(written), facts):
        raise ProviderFailure("bedrock_invented_numbers")
    return written
