"""Logger, Tracer and Metrics shared by every function, and the one decorator that applies them.

POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_TRACE_DISABLED and friends
configure them from the environment (template.yaml Globals; the local server disables tracing).
The Tracer is built only when tracing is on: its X-Ray SDK pulls in botocore and costs about
0.4 s of cold start (docs/PERFORMANCE.md), which functions with tracing off should not pay.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger(service="squelch")
metrics = Metrics(namespace="Squelch", service="squelch")

Handler = TypeVar("Handler", bound=Callable[[dict[str, Any], Any], Any])


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() not in ("1", "true")


def observed(handler: Handler) -> Handler:
    """Structured logs with the request id as correlation id, a trace segment when tracing is on,
    and metrics (cold starts included) flushed after every invocation."""
    wrapped = metrics.log_metrics(capture_cold_start_metric=not is_metrics_disabled())(handler)
    if tracing_enabled():
        from aws_lambda_powertools import Tracer

        wrapped = Tracer(service="squelch").capture_lambda_handler(wrapped)
    logged = logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    return cast(Handler, logged(wrapped))  # Powertools' decorators keep the signature but do not type it
