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
from typing import Any, TypeVar, cast, overload

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities import jmespath_utils

from squelch import warmup

logger = Logger(service="squelch")
metrics = Metrics(namespace="Squelch", service="squelch")

Handler = TypeVar("Handler", bound=Callable[[dict[str, Any], Any], Any])


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() not in ("1", "true")


@overload
def observed(handler: Handler) -> Handler: ...


@overload
def observed(*, database: bool) -> Callable[[Handler], Handler]: ...


def observed(handler: Handler | None = None, *, database: bool = True) -> Handler | Callable[[Handler], Handler]:
    """Structured logs with the request id as correlation id, a trace segment when tracing is on,
    and metrics (cold starts included) flushed after every invocation; the warm-up event (squelch.warmup)
    answered here, before the handler's own code. database=False: a function that never connects (the
    console), whose warm-up opens no connection."""
    if handler is None:
        return functools.partial(_observed, database=database)
    return _observed(handler, database=database)


def _observed(handler: Handler, *, database: bool) -> Handler:
    wrapped = metrics.log_metrics(capture_cold_start_metric=not is_metrics_disabled())(handler)
    if tracing_enabled():
        from aws_lambda_powertools import Tracer

        wrapped = Tracer(service="squelch").capture_lambda_handler(wrapped)
    cold_start = True  # observed() runs once per loaded module: once per container
    init_ms = warmup.init_ms()  # the handler is ready: its module has run up to here

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
        if warmup.is_warm_up(event):
            name = getattr(context, "function_name", None) or handler.__module__
            answer = warmup.answer(name, first, init_ms if first else None, database=database, owner=handler.__module__)
            logger.info("warm-up", extra={"reason": event[warmup.KEY].get("reason"), **answer})
            return answer
        return wrapped(event, context)

    return cast(Handler, logged)
