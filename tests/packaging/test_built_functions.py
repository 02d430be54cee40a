"""What `sam build` produces is what runs: every built function is imported and invoked from the
build output with its events/ samples against PostgreSQL, in a Python 3.12 (Lambda's runtime)
started with nothing on sys.path but the function's folder and the layer's python/ folder.

It runs a copy of the build whose files carry the 1980 timestamp `sam deploy` zips them with, in a
Python that may not write bytecode (Lambda's folders are read-only), and checks that no module of
the function or the layer had to be compiled: the shipped .pyc files are the ones that run.

`make check-deploy` builds for the host architecture (so the binaries load here) and runs this;
plain `make test` skips it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
import yaml
from conftest import DEMO_DAY, EVENTS, RECORD_COMPILED, ROOT, ZIP_TIMESTAMP

from localdev.template import _CloudFormationLoader
from squelch.domain import demo
from tools import rds_ca_bundle

BUILD_DIR = os.environ.get("SQUELCH_BUILD_DIR")
PYTHON = os.environ.get("SQUELCH_LAMBDA_PYTHON", "python3.12")
pytestmark = pytest.mark.skipif(not BUILD_DIR, reason="needs a sam build output: run `make check-deploy`")

RUNNER = (
    RECORD_COMPILED
    + """
sys.path[:] = [sys.argv[1], sys.argv[2]] + sys.argv[4:] + [p for p in sys.path if p.startswith(sys.base_prefix)]
import app
class Context:
    function_name, memory_limit_in_mb, function_version = sys.argv[3], 512, "$LATEST"
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:" + sys.argv[3]
    aws_request_id, log_stream_name = "packaging-test", "local"
    def get_remaining_time_in_millis(self): return 60_000
result = app.lambda_handler(json.load(sys.stdin), Context())
outside = sorted({m.__file__.split("/python/")[0] for m in list(sys.modules.values())
                  if getattr(m, "__file__", None)
                  and not m.__file__.startswith((sys.argv[1], sys.argv[2], sys.base_prefix))})
print(json.dumps({"result": result, "loaded_from_elsewhere": outside, "compiled_at_import": compiled}, default=str))
"""
)


# Lambda's runtime has boto3; this Python has none. The deploy hook's clients, as CodeDeploy and a healthy new
# version would answer it (its logic against botocore's Stubber: tests/test_pre_traffic.py).
FAKE_BOTO3 = {
    "botocore/__init__.py": "",
    "botocore/config.py": "class Config:\n    def __init__(self, **settings): self.settings = settings\n",
    "boto3/__init__.py": """
import io, json
APPSPEC = {"Resources": [{"CustomerGetFunction": {"Type": "AWS::Lambda::Function", "Properties": {
    "Name": "squelch-CustomerGetFunction", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]}
class CodeDeploy:
    def get_deployment(self, deploymentId):
        return {"deploymentInfo": {"revision": {"appSpecContent": {"content": json.dumps(APPSPEC)}}}}
    def put_lifecycle_event_hook_execution_status(self, **reported):
        assert reported["status"] == "Succeeded", reported
class Lambda:
    def invoke(self, FunctionName, Qualifier, Payload):
        assert (FunctionName, Qualifier, json.loads(Payload)) == (
            "squelch-CustomerGetFunction", "2", {"squelch_warmup": {"reason": "pre_traffic"}})
        answer = {"warm": True, "function": FunctionName, "cold": True, "timings_ms": {}, "database": "ok"}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}
def client(name, config=None):
    return {"codedeploy": CodeDeploy, "lambda": Lambda}[name]()
""",
}


def fake_boto3(folder: Path) -> Path:
    for name, text in FAKE_BOTO3.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def built_functions() -> list[tuple[str, str]]:
    """(logical id, folder under functions/) of every function in the build."""
    if not BUILD_DIR:
        return []
    template = yaml.load(((ROOT / BUILD_DIR) / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    source = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    return [
        (logical_id, Path(source["Resources"][logical_id]["Properties"]["CodeUri"]).name)
        for logical_id, resource in template["Resources"].items()
        if isinstance(resource, dict) and resource["Type"] == "AWS::Serverless::Function"
    ]


@pytest.fixture(scope="session")
def deployed_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build as Lambda unpacks it: same files, every one dated 1980."""
    copy = tmp_path_factory.mktemp("lambda") / "build"
    shutil.copytree(ROOT / str(BUILD_DIR), copy, symlinks=False)
    for path in copy.rglob("*"):
        os.utime(path, (ZIP_TIMESTAMP, ZIP_TIMESTAMP), follow_symlinks=False)
    return copy


@pytest.mark.parametrize(("function", "folder"), built_functions())
def test_built_function_runs_its_sample_event(
    story: psycopg.Connection,
    app_database: str,
    runtime_url: str,
    deployed_build: Path,
    function: str,
    folder: str,
    tmp_path: Path,
) -> None:
    story.execute(
        "INSERT INTO demo_workflow_state (session_id, customer_id, workflow_type, total_steps, current_step) "
        "VALUES ('wf-example-session-0001', 'aco-001', 'strategic_planning', 5, 1)"
    )
    demo.reset(story, DEMO_DAY, name="acme-rehearsal")  # the sandbox events/sandbox_delete.json deletes
    build = deployed_build
    # The migrate function connects as the schema's owner, every other function as the runtime login.
    database = app_database if function == "DatabaseMigrateFunction" else runtime_url
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": database,
        "DEMO_ANCHOR_DATE": "2025-11-23",
        "DEMO_TODAY": "2025-11-23",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "squelch",
        "AWS_REGION": "us-east-1",
    }
    answer = subprocess.run(
        [
            PYTHON,
            "-I",
            "-S",
            "-B",
            "-c",
            RUNNER,
            str(build / function),
            str(build / "SharedLayer" / "python"),
            function,
            *([str(fake_boto3(tmp_path))] if function == "DeployPreTrafficFunction" else []),
        ],
        input=(EVENTS / f"{folder}.json").read_text(),
        capture_output=True,
        text=True,
        env=env,
        cwd=build,
        timeout=60,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    output = json.loads(answer.stdout.strip().splitlines()[-1])
    elsewhere = output["loaded_from_elsewhere"]
    if function == "DeployPreTrafficFunction":  # only the stand-in for the runtime's boto3
        elsewhere = [path for path in elsewhere if not path.startswith(str(tmp_path))]
    assert elsewhere == []
    assert output["compiled_at_import"] == [], "modules compiled at import: the build's bytecode was not used"
    result = output["result"]
    if function == "DeployPreTrafficFunction":
        assert result == "Succeeded"
    elif "statusCode" in result:
        assert result["statusCode"] in (200, 201, 204), result["body"]
    else:
        assert result["anchor_date"] == "2025-11-23"


def test_every_function_was_built_and_has_an_event() -> None:
    functions = built_functions()
    source = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    declared = {
        k for k, v in source["Resources"].items() if isinstance(v, dict) and v["Type"] == "AWS::Serverless::Function"
    }
    assert {logical_id for logical_id, _ in functions} == declared
    assert all((EVENTS / f"{folder}.json").exists() for _, folder in functions)


def test_the_layer_carries_the_rds_ca_bundle_the_code_finds() -> None:
    # Given the built layer, as Lambda unpacks it under /opt/python
    python = ROOT / str(BUILD_DIR) / "SharedLayer" / "python"
    # When its TLS module is asked where the RDS bundle is, in the build's own Python
    found = subprocess.run(
        [
            PYTHON,
            "-I",
            "-S",
            "-B",
            "-c",
            "import sys; sys.path[:0] = [sys.argv[1]]; from squelch.db import tls; print(tls.RDS_CA_BUNDLE)",
            str(python),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Then it is inside the layer, and it is the pinned bundle
    assert Path(found) == python / "squelch" / "db" / "certs" / "global-bundle.pem"
    assert rds_ca_bundle.sha256(Path(found).read_bytes()) == rds_ca_bundle.BUNDLE_SHA256
