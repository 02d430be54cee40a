"""The CloudFormation custom-resource protocol, for the migrate function run on every deploy.

CloudFormation waits for a PUT to the request's presigned ResponseURL: SUCCESS with data, or
FAILED with a reason it shows in the stack events. Delete does nothing: the database outlives the stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from squelch.observability import logger

PHYSICAL_RESOURCE_ID = "squelch-database-migrations"
REASON_LIMIT = 400


def is_request(event: dict[str, Any]) -> bool:
    return "RequestType" in event and "ResponseURL" in event


def handle(event: dict[str, Any], context: Any, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    if event["RequestType"] == "Delete":
        return respond(event, context, "SUCCESS", reason="Nothing to do: the database outlives the stack.")
    try:
        data = work()
    except Exception as error:
        logger.exception("custom resource failed")
        return respond(event, context, "FAILED", reason=f"{type(error).__name__}: {error}"[:REASON_LIMIT])
    return respond(event, context, "SUCCESS", data={key: _text(value) for key, value in data.items()})


def respond(event: dict[str, Any], context: Any, status: str, data: dict[str, str] | None = None,
            reason: str | None = None) -> dict[str, Any]:
    body = {
        "Status": status,
        "Reason": reason or f"See CloudWatch log stream {getattr(context, 'log_stream_name', '-')}",
        "PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_RESOURCE_ID),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": data or {},
    }
    import urllib.request  # only CloudFormation requests need it; keep it off the cold-start path

    payload = json.dumps(body).encode()
    request = urllib.request.Request(event["ResponseURL"], data=payload, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(payload))})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - CloudFormation's presigned URL
        logger.info("custom resource answered", extra={"status": status, "http_status": answer.status})
    return body


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)
