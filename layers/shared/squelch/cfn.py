"""The CloudFormation custom-resource protocol, for the migrate function run on every deploy.

CloudFormation waits for a PUT to the request's presigned ResponseURL: SUCCESS with data, or
FAILED with a reason it shows in the stack events. Delete does nothing: the database outlives the stack.

The function answers only a ResponseURL that CloudFormation could have made: an HTTPS URL on an
Amazon S3 host. A request naming any other host is logged and left unanswered, so an invocation
by someone else cannot make the function send data elsewhere. Stack events show a generic reason;
the error itself is in the function's log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from squelch.observability import logger

PHYSICAL_RESOURCE_ID = "squelch-database-migrations"
# Virtual-hosted and path-style S3 endpoints, regional, legacy, dual-stack and FIPS, in every partition.
S3_HOST = re.compile(r"^(?:[a-z0-9.-]+\.)?s3(?:-fips)?(?:[.-]dualstack)?(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$")


def is_request(event: dict[str, Any]) -> bool:
    return "RequestType" in event and "ResponseURL" in event


def is_response_url(url: str) -> bool:
    """Whether url is a place CloudFormation collects answers: HTTPS on an S3 host, default port."""
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.port in (None, 443)
        and not parts.username
        and bool(parts.hostname and S3_HOST.fullmatch(parts.hostname))
    )


def handle(event: dict[str, Any], context: Any, work: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    if not is_response_url(str(event.get("ResponseURL"))):
        logger.error(
            "custom resource request refused: its ResponseURL is not an S3 presigned URL",
            extra={"response_host": urlsplit(str(event.get("ResponseURL"))).hostname},
        )
        return None
    if event["RequestType"] == "Delete":
        return respond(event, context, "SUCCESS", reason="Nothing to do: the database outlives the stack.")
    try:
        data = work()
    except Exception:
        logger.exception("custom resource failed")
        return respond(
            event,
            context,
            "FAILED",
            reason=(
                f"Preparing the database failed; the error is in CloudWatch log stream "
                f"{getattr(context, 'log_stream_name', '-')} (request {event.get('RequestId', '-')})."
            ),
        )
    return respond(event, context, "SUCCESS", data={key: _text(value) for key, value in data.items()})


def respond(
    event: dict[str, Any], context: Any, status: str, data: dict[str, str] | None = None, reason: str | None = None
) -> dict[str, Any]:
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
    answered = send(event["ResponseURL"], json.dumps(body).encode())
    logger.info("custom resource answered", extra={"status": status, "http_status": answered})
    return body


def send(url: str, payload: bytes) -> int:
    """PUT payload to the presigned URL; the HTTP status."""
    import urllib.request  # only CloudFormation requests need it; keep it off the cold-start path

    request = urllib.request.Request(  # noqa: S310 - handle() accepts only an HTTPS S3 presigned URL
        url, data=payload, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(payload))}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - as above
        return int(answer.status)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)
