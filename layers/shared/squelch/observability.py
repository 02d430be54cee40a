"""Logger, Tracer and Metrics shared by every function, and the one decorator that applies them.

POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_TRACE_DISABLED and friends
configure them from the environment (template.yaml Globals; the local server disables tracing).
The Tracer is built only when tracing is on: its X-Ray SDK pulls in botocore and costs about
0.4 s of cold start (docs/PERFORMANCE.md), which functions with tracing off should not pay.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities import jmespath_utils

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
    cold_start = True  # observed() runs once per loaded module: once per container

    @functools.wraps(handler)
    def logged(event: dict[str, Any], context: Any) -> Any:
        nonlocal cold_start
        first, cold_start = cold_start, False
        # What Powertools' inject_lambda_context(clear_state=True) adds, but into this thread's own keys:
        # inject_lambda_context writes into the formatter every thread shares, so where handlers run
        # on threads (the local server) a traceback was logged under another request's function and id.
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(
            cold_start=first,
            **build_lambda_context_model(context).__dict__,
            correlation_id=jmespath_utils.query(envelope=correlation_paths.API_GATEWAY_HTTP, data=event),
        )
        return wrapped(event, context)

    return cast(Handler, logged)
