"""Invokes a function's handler the way the Lambda runtime does, in this process.

The layer's package is importable (localdev/__init__.py) as under /opt/python; each function's app.py
is loaded as its own module (they all share the name app.py) and initialised once, like a
container. A lock per function gives one invocation at a time per "container", as Lambda does:
the module-level resolver keeps per-request state.
"""

from __future__ import annotations

import importlib.util
import threading
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from localdev.template import Function

_modules: dict[str, ModuleType] = {}
_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


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


def load_module(function: Function) -> ModuleType:
    with _registry_lock:
        if function.logical_id not in _modules:
            path = function.code_dir / f"{function.module}.py"
            spec = importlib.util.spec_from_file_location(f"functions.{function.logical_id}", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _modules[function.logical_id] = module
            _locks[function.logical_id] = threading.Lock()
        return _modules[function.logical_id]


def unload_all() -> None:
    """Forget every loaded function, as if each had a new container: the next invocation loads it again."""
    with _registry_lock:
        _modules.clear()
        _locks.clear()


def invoke(function: Function, event: dict[str, Any]) -> Any:
    handler = getattr(load_module(function), function.handler)
    with _locks[function.logical_id]:
        return handler(event, LambdaContext(function.logical_id))
