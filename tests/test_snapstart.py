"""SnapStart: Lambda snapshots a container after its init and starts new ones from the snapshot,
so nothing opened before the snapshot may be reused after a restore. The layer opens nothing at
import, and drops its database connection and cached AWS clients on the runtime's hooks (from
snapshot_restore_py, which Lambda's Python runtime provides; installed from PyPI here)."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
import snapshot_restore_py
from conftest import ROOT, DictConnection, invoke, load_event, one
from moto import mock_aws

from squelch import db
from squelch.db import credentials


def run_hooks(registry: list) -> None:
    """What the runtime does before a snapshot or after a restore: call every registered hook."""
    for func, args, kwargs in registry:
        func(*args, **kwargs)


def backend_pid() -> int:
    return int(one(db.connection(), "SELECT pg_backend_pid() AS pid")["pid"])


@pytest.mark.parametrize(
    "registry",
    [snapshot_restore_py._before_snapshot_registry, snapshot_restore_py._after_restore_registry],
    ids=["before-snapshot", "after-restore"],
)
def test_the_hooks_drop_the_connection_and_the_next_invocation_reconnects(story: DictConnection, registry) -> None:
    # Given a container that has served a request on its connection
    assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 200
    before = backend_pid()
    # When the runtime calls its hooks
    run_hooks(registry)
    # Then the connection is closed, and the next invocation opens a new one that works
    assert getattr(sys.modules["squelch.db.connection"]._local, "conn", None) is None
    assert invoke("CustomerGetFunction", load_event("customer_get.json"))["statusCode"] == 200
    assert backend_pid() != before


@mock_aws
def test_the_hooks_drop_cached_aws_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a Secrets Manager client cached with the credentials of the snapshot's container
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    credentials._secrets_client.cache_clear()
    first = credentials._secrets_client()
    # When the container is restored, Then the next use builds a new client with the restored credentials
    run_hooks(snapshot_restore_py._after_restore_registry)
    assert credentials._secrets_client() is not first
    assert boto3  # the client above is boto3's
    credentials._secrets_client.cache_clear()


def test_importing_every_function_opens_nothing() -> None:
    """What runs before the snapshot is the import of the handler and the layer: it must open no
    connection and build no client (a fresh interpreter, with a database URL nothing answers on)."""
    probe = """
import importlib.util, json, pathlib, sys
sys.path[:0] = ["layers/shared"]
for app in sorted(pathlib.Path("functions").glob("*/app.py")):
    spec = importlib.util.spec_from_file_location(app.parent.name, app)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
from squelch.db import credentials
import snapshot_restore_py
print(json.dumps({
    "connection": getattr(sys.modules["squelch.db.connection"]._local, "conn", None) is not None,
    "secrets_client": credentials._secrets_client.cache_info().currsize,
    "before_snapshot_hooks": len(snapshot_restore_py._before_snapshot_registry),
    "after_restore_hooks": len(snapshot_restore_py._after_restore_registry),
}))
"""
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert state["connection"] is False and state["secrets_client"] == 0
    assert state["before_snapshot_hooks"] >= 2 and state["after_restore_hooks"] >= 2
