"""`make client-package-check`: the TypeScript client as a front end gets it. Packs clients/typescript
(`npm pack`), installs the tarball into a scratch copy of clients/typescript/consumer (`npm ci`: its
package-lock.json pins every package), compiles the example there with tsc under a plain strict
tsconfig and under `tsc --init`'s, bundles it with esbuild, and runs the compiled and the bundled
example with node against the local server on a free port and a scratch database: every route must
answer. Then runs it once without a token, and expects it to fail (the reset answers 401), so the
check is seen to catch a route that answers wrongly.

`--lock` refreshes clients/typescript/consumer/package-lock.json (`npm install` instead of `npm ci`)
and checks nothing; run it after changing that package.json or the client's dependencies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from localdev.auth import issue_token
from localdev.database import start_embedded, stop_embedded
from localdev.template import ROOT
from tools.local_server import local_server

CLIENT = ROOT / "clients" / "typescript"
CONSUMER = CLIENT / "consumer"
# The name consumer/package.json depends on (file:…), whatever the version npm pack writes into its own.
TARBALL = "squelch-act1-client.tgz"
PACKAGE = "node_modules/@squelch/act1-client"
NPM_QUIET = ["--no-audit", "--no-fund", "--loglevel=error"]


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, *, show_stdout: bool = True) -> str:
    """Run a command, print what it printed; stop the check when it fails."""
    print(f"$ {' '.join(command)}", flush=True)
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    output = ((done.stdout if show_stdout or done.returncode else "") + done.stderr).strip()
    if output:
        print(output, flush=True)
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}")
    return done.stdout


def pack(into: Path) -> Path:
    """npm pack in clients/typescript (its prepare builds dist/); print the tarball's size and files."""
    print("--- npm pack", flush=True)
    out = _run(["npm", "pack", "--json", "--pack-destination", str(into), *NPM_QUIET], CLIENT, show_stdout=False)
    (packed,) = json.loads(out[out.index("[") :])
    files = ", ".join(f"{f['path']} ({f['size']:,} B)" for f in packed["files"])
    print(f"{packed['filename']}: {packed['size']:,} bytes packed, {packed['unpackedSize']:,} unpacked; {files}")
    return into / packed["filename"]


def without_client_integrity(lock: dict[str, Any]) -> dict[str, Any]:
    """The lock without the tarball's hash: the tarball is built again on every run, so its hash
    changes with the client's source, while every package from the registry stays pinned."""
    lock["packages"][PACKAGE].pop("integrity", None)
    return lock


def consumer_project(scratch: Path, tarball: Path) -> Path:
    """A copy of clients/typescript/consumer with the tarball and the example's source in it."""
    project = scratch / "consumer"
    shutil.copytree(CONSUMER, project, ignore=shutil.ignore_patterns("node_modules", "dist", "bundle", "*.tgz"))
    shutil.copy(tarball, project / TARBALL)
    (project / "src").mkdir()
    for source in (CLIENT / "example").glob("*.ts"):
        shutil.copy(source, project / "src" / source.name)
    lock = project / "package-lock.json"
    if lock.exists():
        lock.write_text(json.dumps(without_client_integrity(json.loads(lock.read_text())), indent=2) + "\n")
    return project


def install_and_build(project: Path) -> None:
    print("--- npm ci in a scratch consumer project, then tsc (plain strict and tsc --init) and esbuild", flush=True)
    _run(["npm", "ci", *NPM_QUIET], project)
    installed = json.loads((project / PACKAGE / "package.json").read_text())
    print(f"installed {installed['name']}@{installed['version']}: exports {json.dumps(installed['exports']['.'])}")
    # TypeScript's own default tsconfig.json, as `tsc --init` writes it, with Node's types and the folders.
    tsc = str(project / "node_modules" / ".bin" / "tsc")
    _run([tsc, "--init", "--types", "node", "--rootDir", "src", "--outDir", "dist"], project)
    _run(["npm", "run", "typecheck"], project)
    _run(["npm", "run", "build"], project)
    _run(["npm", "run", "bundle"], project)


def run_against_server(project: Path, scratch: Path) -> None:
    database_url = start_embedded(scratch / "pg", "squelch")
    try:
        _run_every_route(project, database_url)
    finally:
        stop_embedded()


def _run_every_route(project: Path, database_url: str) -> None:
    with local_server(database_url) as served:
        base = served.base_url
        presenter = {**os.environ, "SQUELCH_TOKEN": issue_token()}
        print(f"--- node: the tsc output, against the local server at {base}", flush=True)
        _run(["node", "dist/run.js", base], project, presenter)
        print("--- node: the esbuild bundle (built for the browser), against the same server", flush=True)
        _run(["node", "bundle/run.js", base], project, presenter)
        print("--- node: the tsc output without a token: the reset must fail, and the run with it", flush=True)
        anonymous = {k: v for k, v in os.environ.items() if k != "SQUELCH_TOKEN"}
        done = subprocess.run(["node", "dist/run.js", base], cwd=project, env=anonymous, capture_output=True, text=True)
        if done.returncode == 0 or "FAIL  POST /api/demo/reset" not in done.stdout:
            print(done.stdout + done.stderr)
            raise SystemExit("the example passed although the reset answered 401: it cannot see a route fail")
        print(f"exit {done.returncode}, as expected: {done.stdout.strip().splitlines()[-1]}")


def refresh_lock(scratch: Path) -> None:
    project = consumer_project(scratch, pack(scratch))
    _run(["npm", "install", *NPM_QUIET], project)
    lock = without_client_integrity(json.loads((project / "package-lock.json").read_text()))
    (CONSUMER / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    print(f"wrote {(CONSUMER / 'package-lock.json').relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.client_package", description=__doc__)
    parser.add_argument("--lock", action="store_true", help="refresh consumer/package-lock.json; check nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="squelch-client-package-") as scratch_dir:
        scratch = Path(scratch_dir)
        if args.lock:
            refresh_lock(scratch)
            return 0
        project = consumer_project(scratch, pack(scratch))
        install_and_build(project)
        run_against_server(project, scratch)
    print("TypeScript client package: packed, installed from the tarball, compiled, bundled, every route answered")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
