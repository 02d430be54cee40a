"""The CloudFormation custom-resource protocol, for the migrate function run on every deploy.

CloudFormation waits for a PUT to the request's presigned ResponseURL: SUCCESS with data, or
FAILED with a reason it shows in the stack events. Delete does nothing: the database outlives the stack.

The function answers only a ResponseURL that CloudFormation could have made: an HTTPS URL of
CloudFormation's own response bucket in the function's region (`cloudformation-custom-resource-response-`
and the region without its dashes, as AWS's guide to VPC endpoints for CloudFormation names it),
virtual-hosted or path style. A request naming any other bucket or host is logged and left
unanswered, so an invocation by someone else cannot make the function send data elsewhere. Stack
events show a generic reason; the error itself is in the function's log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from squelch.observability import logger
from squelch.settings import get_settings

PHYSICAL_RESOURCE_ID = "squelch-database-migrations"
RESPONSE_BUCKET = "cloudformation-custom-resource-response-{region}"


def is_request(event: dict[str, Any]) -> bool:
    return "RequestType" in event and "ResponseURL" in event


def is_response_url(url: str) -> bool:
    """Whether url is where CloudFormation collects answers in this function's region: HTTPS on the
    default port, no user info, its response bucket on an S3 endpoint of the region (or the global one),
    regional, legacy (s3-region), dual-stack or FIPS, in the region's partition."""
    region = get_settings().aws_region
    parts = urlsplit(url)
    if not region or parts.scheme != "https" or parts.port not in (None, 443):
        return False
    if parts.username is not None or parts.password is not None:
        return False
    bucket = re.escape(RESPONSE_BUCKET.format(region=region.replace("-", "")))
    domain = r"amazonaws\.com\.cn" if region.startswith("cn-") else r"amazonaws\.com"
    endpoint = rf"s3(?:-fips)?(?:\.dualstack)?(?:[.-]{re.escape(region)})?\.{domain}"
    host = parts.hostname or ""
    return bool(
        re.fullmatch(rf"{bucket}\.{endpoint}", host)
        or (re.fullmatch(endpoint, host) and re.match(rf"/{bucket}/", parts.path))
    )


def handle(event: dict[str, Any], context: Any, work: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    if not is_response_url(str(event.get("ResponseURL"))):
        logger.error(
            "custom resource request refused: its ResponseURL is not CloudFormation's response bucket",
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

    request = urllib.request.Request(  # noqa: S310 - handle() accepts only CloudFormation's HTTPS response URL
        url, data=payload, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(payload))}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - as above
        return int(answer.status)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)
