"""The bytecode step of `make build`: what it writes is what a read-only, 1980-dated Lambda
folder will load without compiling anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import RECORD_COMPILED, ZIP_TIMESTAMP

from tools import bytecode

IMPORTER = (
    RECORD_COMPILED
    + """
sys.path[:0] = sys.argv[1:3]
import app, greeting
print(json.dumps(compiled))
"""
)


def make_build(root: Path) -> Path:
    """A build folder shaped like `sam build`'s: a layer with python/ and a function."""
    (root / "SharedLayer" / "python").mkdir(parents=True)
    (root / "SharedLayer" / "python" / "greeting.py").write_text("def hello():\n    return 'hi'\n")
    (root / "SomeFunction").mkdir()
    (root / "SomeFunction" / "app.py").write_text("import greeting\n")
    return root


def compiled_at_import(build: Path) -> list[str]:
    for path in build.rglob("*"):
        os.utime(path, (ZIP_TIMESTAMP, ZIP_TIMESTAMP))
    out = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-c",
            IMPORTER,
            str(build / "SomeFunction"),
            str(build / "SharedLayer" / "python"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_compiled_build_loads_without_compiling_under_zip_timestamps(tmp_path: Path) -> None:
    # Given a build compiled by the bytecode step
    build = make_build(tmp_path / "build")
    assert bytecode.compile_tree(build)
    # When it is imported with every file dated 1980 and bytecode writing off, as on Lambda
    compiled = compiled_at_import(build)
    # Then nothing is compiled: the shipped bytecode runs
    assert compiled == []


def test_timestamp_bytecode_would_be_recompiled(tmp_path: Path) -> None:
    # Given ordinary (timestamp-based) bytecode, as pip or compileall write by default
    import compileall

    build = make_build(tmp_path / "build")
    assert compileall.compile_dir(str(build), quiet=1)
    # When the files arrive dated 1980, every module is compiled again: why the step uses hashes
    compiled = compiled_at_import(build)
    assert sorted(Path(p).name for p in compiled) == ["app.py", "greeting.py"]
