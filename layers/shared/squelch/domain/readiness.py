"""The presenters' preflight: every route function warmed at once (the warm-up event, squelch.warmup,
WARM_INSTANCES times each), the database, the presenter's sandbox and its story, and the AI provider
checked, all in one readiness report with a verdict and what to do when it is not ready.

Who is warmed and how: in AWS, WARM_FUNCTIONS names each route function's alias (or the function when
it has none), invoked through Lambda's API (LAMBDA_ENDPOINT_URL points that at `sam local
start-lambda` under sam local); under `make run`, the local emulator registers itself here (use_warmer)
and the functions are loaded and invoked in its process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

from squelch import db, snapstart, warmup
from squelch.db import sandbox
from squelch.domain import demo
from squelch.errors import DomainError
from squelch.models.readiness import (
    AiCheck,
    DatabaseCheck,
    FunctionReadiness,
    ReadinessReport,
    SandboxCheck,
    WarmAllSummary,
    WarmedInstance,
)
from squelch.observability import logger
from squelch.settings import get_settings

# The non-HTTP event the demo-hours schedule sends the preflight: warm every function, check nothing else.
WARM_ALL_KEY = "squelch_warm_all"
MAX_CONCURRENT = 64
# How long the warm-ups may take: what API Gateway's 30 s (and the function's Timeout, 30 s) leave the report.
# A warm-up still starting then is reported (TIMED_OUT), not waited for: waiting would end the preflight itself
# (a 502, no report). Under sam local start-lambda creates one function's container at a time, a few seconds each.
WARM_UP_SECONDS = 24.0
TIMED_OUT = "warm_up_timed_out"


class Warmer(Protocol):
    def targets(self) -> dict[str, str]:
        """{name in the report: name to invoke}."""

    def invoke(self, target: str, event: dict[str, Any]) -> Any:
        """The function's answer to the event; raises WarmUpFailed when it did not answer."""


class WarmUpFailed(Exception):
    pass


_local_warmer: Warmer | None = None


def use_warmer(warmer: Warmer | None) -> None:
    """The local emulator's warmer, used when WARM_FUNCTIONS names no function (make run)."""
    global _local_warmer
    _local_warmer = warmer


def warmer() -> Warmer | None:
    settings = get_settings()
    if settings.warm_functions:
        return LambdaWarmer(settings.warm_function_names)
    return _local_warmer


@cache
def _lambda_client() -> Any:
    import boto3  # only the preflight pays for boto3, and only in AWS or under sam local
    from botocore.config import Config

    # A cold function in a VPC can take seconds to start; a warm-up is never retried (the next preflight is).
    config = Config(connect_timeout=2, read_timeout=25, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.client("lambda", endpoint_url=get_settings().lambda_endpoint_url, config=config)


snapstart.forget_on_snapshot(_lambda_client.cache_clear)  # it holds the snapshot's credentials


class LambdaWarmer:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def targets(self) -> dict[str, str]:
        return self.names

    def invoke(self, target: str, event: dict[str, Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = _lambda_client().invoke(FunctionName=target, Payload=json.dumps(event).encode())
        except ClientError as error:
            raise WarmUpFailed(f"invoke_failed:{error.response.get('Error', {}).get('Code', 'unknown')}") from error
        except BotoCoreError as error:
            raise WarmUpFailed(f"invoke_failed:{type(error).__name__}") from error
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            kind = (json.loads(payload or b"{}") or {}).get("errorType", response["FunctionError"])
            raise WarmUpFailed(f"function_error:{kind}")
        return json.loads(payload)


def is_warm_all(event: Any) -> bool:
    """The schedule's event, recognised as the warm-up is: at the top of an event API Gateway did not send."""
    return (
        isinstance(event, Mapping)
        and isinstance(event.get(WARM_ALL_KEY), Mapping)
        and "requestContext" not in event
        and "routeKey" not in event
    )


def _warm_one(warming: Warmer, target: str, event: dict[str, Any]) -> WarmedInstance | str:
    started = time.perf_counter()
    try:
        answer = warming.invoke(target, event)
    except WarmUpFailed as failure:
        return str(failure)
    except Exception as error:  # the local emulator's load failing, say: a report, not a 500
        logger.exception("warm-up failed", extra={"target": target})
        return f"function_error:{type(error).__name__}"
    if not isinstance(answer, dict) or answer.get("warm") is not True:
        return "not_a_warm_up_answer"
    timings = answer.get("timings_ms") or {}
    return WarmedInstance(
        cold=bool(answer.get("cold")),
        init_ms=timings.get("init"),
        secret_ms=timings.get("secret"),
        connect_ms=timings.get("connect"),
        database=str(answer.get("database")),
        round_trip_ms=warmup.elapsed_ms(started),
    )


def warm_functions(reason: warmup.Reason) -> list[FunctionReadiness]:
    """Every target warmed WARM_INSTANCES times at once (concurrent invocations of one function land on
    as many instances), all functions together."""
    warming = warmer()
    if warming is None:
        return []
    targets = warming.targets()
    instances = get_settings().warm_instances
    event = warmup.event(reason)
    jobs = [(label, target) for label, target in targets.items() for _ in range(instances)]
    pool = ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT, len(jobs) or 1), thread_name_prefix="warm")
    futures = [pool.submit(_warm_one, warming, target, event) for _, target in jobs]
    done, _ = wait(futures, timeout=WARM_UP_SECONDS)
    pool.shutdown(wait=False, cancel_futures=True)  # those still starting go on, unwaited for
    results: list[WarmedInstance | str] = [future.result() if future in done else TIMED_OUT for future in futures]
    report = []
    for label in sorted(targets):
        answers = [result for (name, _), result in zip(jobs, results, strict=True) if name == label]
        warmed = [a for a in answers if isinstance(a, WarmedInstance)]
        problems = [a for a in answers if isinstance(a, str)] + [
            a.database for a in warmed if a.database not in ("ok", "not_used")
        ]
        report.append(
            FunctionReadiness(
                function=label,
                state="failed" if problems else "warm",
                was_cold=any(a.cold for a in warmed),
                instances=warmed,
                problem=problems[0] if problems else None,
            )
        )
    return report


def warm_all(reason: warmup.Reason) -> WarmAllSummary:
    """The schedule's run: every function warmed, nothing else checked."""
    started = time.perf_counter()
    functions = warm_functions(reason)
    summary = WarmAllSummary(
        warmed=sum(f.state == "warm" for f in functions),
        failed=[f.function for f in functions if f.state == "failed"],
        was_cold=[f.function for f in functions if f.was_cold],
        duration_ms=warmup.elapsed_ms(started),
    )
    logger.info("scheduled warm-up", extra=summary.model_dump())
    return summary


def _check_database() -> DatabaseCheck:
    timings = warmup.Timings(init=None, secret=None, connect=None)
    state = db.check(timings)
    return DatabaseCheck(state=state, connect_ms=timings["connect"])


def _check_sandbox(name: str, presenter: demo.Presenter, database_ok: bool) -> SandboxCheck:
    unknown = SandboxCheck(
        name=name,
        exists=None,
        checkpoint=None,
        anchor_date=None,
        story_age_days=None,
        story_state=None,
        todays_story=False,
    )
    if not database_ok:
        return unknown
    try:
        listed = demo.sandboxes(presenter).sandboxes
    except DomainError as error:
        logger.warning("preflight: sandboxes not listed", extra={"code": error.code})
        return unknown
    found = next((s for s in listed if s.name == name), None)
    if found is None:
        return unknown.model_copy(update={"exists": False})
    return SandboxCheck(
        name=name,
        exists=True,
        checkpoint=found.checkpoint,
        anchor_date=found.anchor_date,
        story_age_days=found.story_age_days,
        story_state=found.story_state,
        todays_story=found.story_state == "current",
    )


def _check_ai() -> AiCheck:
    settings = get_settings()
    if settings.ai_provider != "bedrock":
        return AiCheck(provider="canned", state="ok", model_id=None)
    if not settings.bedrock_model_id:
        return AiCheck(provider="bedrock", state="not_configured", model_id=None)
    try:
        from squelch.ai import bedrock

        bedrock.client()
    except Exception as error:  # no region, no credentials: the AI routes would fall back to canned text
        logger.warning("preflight: Bedrock client not built", extra={"reason": f"{type(error).__name__}: {error}"})
        return AiCheck(provider="bedrock", state="unavailable", model_id=settings.bedrock_model_id)
    return AiCheck(provider="bedrock", state="ok", model_id=settings.bedrock_model_id)


RESET = "Reset your sandbox (Reset in the console, or POST /api/demo/reset) so its story is today's."
DATABASE_DOWN = (
    "The database does not answer ({code}): check the database (the stack's DatabaseEndpoint, or DATABASE_URL "
    "here), then press Get ready again."
)
NO_SANDBOX = "Your sandbox {name!r} does not exist: create it with Reset in the console (or POST /api/demo/reset)."
FUNCTION_FAILED = "{function} did not warm ({problem}): press Get ready again, then read its log if it fails again."
NO_FUNCTIONS = "No function was warmed: this deployment names none to warm (WARM_FUNCTIONS)."
AI_NOT_READY = (
    "The AI provider is {state} (Bedrock, model {model}): the AI routes will answer with canned text; check "
    "BedrockModelId and the model's access in Bedrock."
)


def _actions(functions: list[FunctionReadiness], database: DatabaseCheck, box: SandboxCheck, ai: AiCheck) -> list[str]:
    actions = []
    if database.state != "ok":
        actions.append(DATABASE_DOWN.format(code=database.state))
    elif box.exists is False:
        actions.append(NO_SANDBOX.format(name=box.name))
    elif not box.todays_story:
        actions.append(RESET)
    if not functions:
        actions.append(NO_FUNCTIONS)
    actions += [
        FUNCTION_FAILED.format(function=f.function, problem=f.problem) for f in functions if f.state == "failed"
    ]
    if ai.state != "ok":
        actions.append(AI_NOT_READY.format(state=ai.state.replace("_", " "), model=ai.model_id or "none"))
    return actions


def preflight(presenter: demo.Presenter) -> ReadinessReport:
    """Warm every route function while the preflight checks the database, the request's sandbox and the
    AI provider; one report."""
    started = time.perf_counter()
    checked_at = datetime.now(UTC)
    name = sandbox.current()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="warm-all") as pool:
        warming = pool.submit(warm_functions, "preflight")
        database = _check_database()
        box = _check_sandbox(name, presenter, database.state == "ok")
        ai = _check_ai()
        functions = warming.result()
    actions = _actions(functions, database, box, ai)
    report = ReadinessReport(
        verdict="not_ready" if actions else "ready",
        actions=actions,
        checked_at=checked_at,
        duration_ms=warmup.elapsed_ms(started),
        instances_per_function=get_settings().warm_instances,
        functions=functions,
        database=database,
        sandbox=box,
        ai=ai,
    )
    logger.info(
        "preflight",
        extra={"verdict": report.verdict, "duration_ms": report.duration_ms, "sandbox": name},
    )
    return report
