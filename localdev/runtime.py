"""Invokes a function's handler the way the Lambda runtime does, in this process.

The layer's package is importable (localdev/__init__.py) as under /opt/python. Each function has a
small pool of instances, as Lambda starts an execution environment for each concurrent request: an
instance is its own load of the function's app.py (they all share the name app.py), initialised once
like a container, and handles one invocation at a time (its module-level resolver keeps per-request
state). A request that finds every instance busy waits for one, so concurrent requests to one
function run side by side, as in AWS, up to the pool's size.
"""

from __future__ import annotations

import importlib.util
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from localdev import template
from localdev.template import Function
from squelch import warmup

# Instances per function: enough for the requests a presenter's console, a front end and a test run
# at once; each holds its own database connection while it works (one per worker thread).
INSTANCES_PER_FUNCTION = 4


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


class _Instances:
    """One function's instances: the idle ones, reused most recent first (as warm containers are),
    and a new one loaded when all are busy and the pool is not full."""

    def __init__(self, function: Function) -> None:
        self.function = function
        self.idle: list[ModuleType] = []
        self.loaded = 0
        self.changed = threading.Condition()

    def first(self) -> ModuleType:
        """The module of an instance, for what every instance has alike (the route's resolver, to describe it)."""
        with self.instance() as module:
            return module

    @contextmanager
    def instance(self) -> Iterator[ModuleType]:
        with self.changed:
            while not self.idle and self.loaded >= INSTANCES_PER_FUNCTION:
                self.changed.wait()
            module = self.idle.pop() if self.idle else None
            if module is None:
                self.loaded += 1
        if module is None:
            try:  # outside the pool's lock: a cold start does not hold up the warm instances
                module = _load(self.function, self.loaded)
            except BaseException:
                with self.changed:
                    self.loaded -= 1
                    self.changed.notify()
                raise
        try:
            yield module
        finally:
            with self.changed:
                self.idle.append(module)
                self.changed.notify()


_pools: dict[str, _Instances] = {}
_registry_lock = threading.Lock()


def _load(function: Function, number: int) -> ModuleType:
    path = function.code_dir / f"{function.module}.py"
    spec = importlib.util.spec_from_file_location(f"functions.{function.logical_id}.instance{number}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    warmup.begin_init()  # this instance's init starts now, not with the process (squelch.warmup.init_ms)
    spec.loader.exec_module(module)
    return module


def _instances(function: Function) -> _Instances:
    with _registry_lock:
        if function.logical_id not in _pools:
            _pools[function.logical_id] = _Instances(function)
        return _pools[function.logical_id]


def load_module(function: Function) -> ModuleType:
    """The function's module as one of its instances loaded it (loading the first if none is)."""
    return _instances(function).first()


def unload_all() -> None:
    """Forget every loaded function, as if each had new containers: the next invocation loads it again."""
    with _registry_lock:
        _pools.clear()


PREFLIGHT = "DemoPreflightFunction"


class LocalWarmer:
    """The preflight's warmer here (squelch.domain.readiness): every route function of template.yaml but
    the preflight, loaded and invoked in this process as its requests are."""

    def targets(self) -> dict[str, str]:
        return {name: name for name, function in template.load().items() if function.routes and name != PREFLIGHT}

    def invoke(self, target: str, event: dict[str, Any]) -> Any:
        return invoke(template.load()[target], event)


_warmer_lock = threading.Lock()
_warmer_registered = False


def _register_warmer() -> None:
    """Hand the preflight this process's warmer, once, on the first invocation: not at import, since the
    layer's logger takes its level from the environment the commands set before they invoke anything."""
    global _warmer_registered
    with _warmer_lock:
        if not _warmer_registered:
            from squelch.domain import readiness

            readiness.use_warmer(LocalWarmer())
            _warmer_registered = True


def invoke(function: Function, event: dict[str, Any]) -> Any:
    _register_warmer()
    with _instances(function).instance() as module:
        return getattr(module, function.handler)(event, LambdaContext(function.logical_id))
