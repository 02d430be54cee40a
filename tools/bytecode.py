"""Compile a `sam build` output to bytecode that Lambda will actually use.

`sam build` ships no .pyc files, and Lambda's code and layer folders are read-only, so without
this every cold start compiles every module it imports and throws the result away. The bytecode
is hash-based (PEP 552): `sam deploy` zips every file with a 1980 timestamp, which would make
ordinary timestamp-based .pyc files stale on arrival. Run it with the runtime's Python
(`$(PY312) -m tools.bytecode .aws-sam/build`): bytecode is specific to a Python minor version.
"""

from __future__ import annotations

import compileall
import py_compile
import sys
from pathlib import Path


def compile_tree(folder: Path) -> bool:
    """Hash-checked bytecode beside every .py under folder; False when a file does not compile."""
    return compileall.compile_dir(
        str(folder), quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
    )


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: python3.12 -m tools.bytecode BUILD_DIR")
    sys.exit(0 if compile_tree(Path(sys.argv[1])) else 1)
