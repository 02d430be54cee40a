"""The shell blocks of the project's documents, and how each says it is run.

A block may say so in an HTML comment on the line above its fence:

- `<!-- run: in the background until <url> answers -->`: its first command serves (`make run`); the
  blocks after it in the same document run while it does.
- `<!-- run: by .ci/run -->`: each command is a line of `.ci/run`, which CI runs.
- `<!-- run: when <program> is installed -->`: run as written where the program is on PATH (CI installs
  it); elsewhere the test says which block it set aside, and why, in a skip.
- `<!-- run: not here, <reason> -->`: it needs what the test suite has not (an AWS account, Docker);
  the reason says which command runs it instead, if one does (`make sam-local-check`).

A block without a comment is run by the test suite as written (tests/test_doc_commands.py).
"""

from __future__ import annotations

import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A fence may be indented (a block inside a list item); its body is then indented as much.
BLOCK = re.compile(
    r"(?:^ *<!-- run: (?P<mark>.+?) -->\n)?^(?P<indent> *)```sh\n(?P<body>.*?)^(?P=indent)```", re.MULTILINE | re.DOTALL
)
BACKGROUND = re.compile(r"in the background until (?P<url>\S+) answers")
WHEN_INSTALLED = re.compile(r"when (?P<program>\S+) is installed")
NOT_HERE = re.compile(r"not here, (?P<reason>\S.{10,})")


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    mark: str | None
    body: str

    @property
    def label(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    def commands(self) -> list[str]:
        """Its command lines as a shell reads them: comments and blank lines dropped, a line that ends
        in a backslash joined to the next."""
        joined = re.sub(r"\s*\\\n\s*", " ", self.body)
        lines = [line.split(" #")[0].strip() for line in joined.splitlines()]
        return [line for line in lines if line and not line.startswith("#")]


def blocks(document: Path, text: str | None = None) -> list[Block]:
    text = document.read_text(encoding="utf-8") if text is None else text
    return [
        Block(document, text.count("\n", 0, found.start("body")), found.group("mark"), textwrap.dedent(found["body"]))
        for found in BLOCK.finditer(text)
    ]


def missing_program(block: Block) -> str | None:
    """The program a block's mark says it needs, when this machine has not got it."""
    needs = WHEN_INSTALLED.fullmatch(block.mark or "")
    if needs is None or shutil.which(needs["program"]):
        return None
    return needs["program"]
