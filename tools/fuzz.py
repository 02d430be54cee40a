"""`make fuzz`: schemathesis against the OpenAPI document the local server serves, on a scratch
database, with the checks the reliability issue names. Exits with schemathesis's status."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

from localdev import gateway
from localdev.auth import issue_token
from localdev.database import start_embedded
from localdev.template import ROOT
from tools import openapi
from tools.local_server import local_server

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance"
SCHEMATHESIS = ROOT / ".venv-fuzz" / "bin" / "schemathesis"


def main() -> int:
    examples = os.environ.get("FUZZ_EXAMPLES", "40")
    with tempfile.TemporaryDirectory(prefix="squelch-fuzz-") as scratch:
        database_url = os.environ.get("FUZZ_DATABASE_URL") or start_embedded(Path(scratch) / "pg", "squelch")
        server_log = Path(scratch) / "server.log"
        with local_server(database_url, log=server_log) as served:
            base = served.base_url
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
            status = subprocess.run(command, cwd=ROOT).returncode
        return status or census(server_log.read_text(errors="replace"))


# The local server's line per request: "HH:MM:SS METHOD /path?query STATUS 1.2ms Function".
REQUEST_LINE = re.compile(r"^\S+ ([A-Z]+) (\S+) (\d{3}) [\d.]+ms (\S+)$", re.MULTILINE)


def census(log: str) -> int:
    """The statuses each route answered the fuzzer, from the server's log: printed per route, and
    1 when one of them is not in docs/openapi.json (schemathesis's status_code_conformance checks
    each answer against the served document; this checks the committed one, as the tests do)."""
    seen: Counter[tuple[str, int]] = Counter()
    for method, target, status, _function in REQUEST_LINE.findall(log):
        found = gateway.find_route(method, unquote(target.partition("?")[0]))
        if found is not None:
            seen[(f"{found[0].method} {found[0].path}", int(status))] += 1
    by_route: dict[str, list[str]] = {}
    for (key, answered), count in sorted(seen.items()):
        by_route.setdefault(key, []).append(f"{answered}x{count}")
    print("--- statuses the fuzzer met, per route")
    for key, counts in by_route.items():
        print(f"{key:50} {' '.join(counts)}")
    missing = openapi.undeclared(seen)
    for key, statuses in missing.items():
        print(f"UNDECLARED {key}: {sorted(statuses)} not in docs/openapi.json")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
