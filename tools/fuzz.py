"""`make fuzz`: schemathesis against the OpenAPI document the local server serves, on a scratch
database, with the checks the reliability issue names. Exits with schemathesis's status."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from localdev.auth import issue_token
from localdev.database import start_embedded
from localdev.server import free_port
from localdev.template import ROOT

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance"
SCHEMATHESIS = ROOT / ".venv-fuzz" / "bin" / "schemathesis"


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the local server did not answer {url} within {seconds:.0f} s") from None
            time.sleep(0.2)


def main() -> int:
    examples = os.environ.get("FUZZ_EXAMPLES", "40")
    with tempfile.TemporaryDirectory(prefix="squelch-fuzz-") as scratch:
        database_url = os.environ.get("FUZZ_DATABASE_URL") or start_embedded(Path(scratch) / "pg", "squelch")
        port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port)}
        server = subprocess.Popen(
            [sys.executable, "-m", "localdev", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/api/openapi.json")
            command = [
                str(SCHEMATHESIS),
                "run",
                f"{base}/api/openapi.json",
                "--url",
                base,
                "--checks",
                CHECKS,
                "--max-examples",
                examples,
                "--seed",
                os.environ.get("FUZZ_SEED", "1126"),
                "--header",
                f"Authorization: Bearer {issue_token()}",
                "--request-timeout",
                "10",
                "--generation-allow-x00",
                "true",
            ]
            print(
                "$",
                " ".join(c if not c.startswith("Authorization") else "Authorization: Bearer ***" for c in command),
                flush=True,
            )
            return subprocess.run(command, cwd=ROOT).returncode
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    raise SystemExit(main())
