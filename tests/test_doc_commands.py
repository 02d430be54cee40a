"""Every shell block of README.md, docs/*.md and the TypeScript client's README runs, exactly as written,
in a copy of this checkout (so `make run` there has its own database and leaves yours alone), unless it
says in a comment above it how else it is run (tools/doc_blocks.py).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.doc_blocks import BACKGROUND, BLOCK, NOT_HERE, ROOT, WHEN_INSTALLED, Block, blocks, missing_program

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "clients" / "typescript" / "README.md"]
CI_SCRIPT = ROOT / ".ci" / "run"
# A block that names a database server (`postgresql://user@host:port/...`) needs it to answer.
DATABASE_SERVER = re.compile(r"postgresql://[^@'\"\s]*@([\w.]+:\d+)")
BLOCK_SECONDS = 600  # a block that installs (the first `make run` of a copy) takes half a minute


ALL_BLOCKS = [block for document in DOCUMENTS for block in blocks(document)]


def ci_lines() -> set[str]:
    return {line.strip() for line in CI_SCRIPT.read_text().splitlines()}


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda b: b.label)
def test_every_block_is_run_here_or_by_ci_or_says_why_not(block: Block) -> None:
    if block.mark is None:
        return
    if background := BACKGROUND.fullmatch(block.mark):
        assert background.group("url").startswith("http://"), block.label
        rest = block.commands()[1:]
        assert set(rest) <= ci_lines(), f"{block.label}: {set(rest) - ci_lines()} are not lines of .ci/run"
    elif block.mark == "by .ci/run":
        missing = set(block.commands()) - ci_lines()
        assert not missing, f"{block.label}: {missing} are not lines of .ci/run, as written"
    elif WHEN_INSTALLED.fullmatch(block.mark) is None:
        assert NOT_HERE.fullmatch(block.mark), f"{block.label}: unknown mark {block.mark!r}"


def test_a_block_for_a_program_this_machine_lacks_is_set_aside_not_failed() -> None:
    # Given blocks that need a program, one this machine has and one it has not, and an unmarked block
    needs_sh = Block(ROOT, 1, "when sh is installed", "make x\n")
    needs_nothing_here = Block(ROOT, 2, "when no-such-program-here is installed", "make y\n")
    unmarked = Block(ROOT, 3, None, "make z\n")
    # Then only the block whose program is missing names it
    assert missing_program(needs_sh) is None
    assert missing_program(needs_nothing_here) == "no-such-program-here"
    assert missing_program(unmarked) is None


def test_the_marks_are_read_where_they_stand() -> None:
    # Given a document whose second block is marked and whose first is not
    text = (
        "x\n```sh\necho one\n```\n<!-- run: not here, needs an AWS account -->\n```sh\naws s3 ls \\\n  --x # y\n```\n"
    )
    found = [(m.group("mark"), m.group("body")) for m in BLOCK.finditer(text)]
    indented = "- item\n\n  <!-- run: not here, needs an AWS account -->\n  ```sh\n  aws s3 ls\n  ```\n"
    assert [m.group("mark") for m in BLOCK.finditer(indented)] == ["not here, needs an AWS account"]
    # Then each block keeps its own mark, and a continued line is one command
    assert found == [(None, "echo one\n"), ("not here, needs an AWS account", "aws s3 ls \\\n  --x # y\n")]
    assert Block(ROOT, 1, None, found[1][1]).commands() == ["aws s3 ls --x"]


def scratch_copy(destination: Path) -> Path:
    """This checkout's files as they are now (committed or not, but not ignored ones), with its
    virtual environment linked, so a make target there installs nothing it has installed here."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, target = ROOT / name, destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():  # the layer's sql/ links to db/
            target.symlink_to(source.readlink())
        elif source.is_file():
            shutil.copy2(source, target)  # the dates too: make compares them with its stamps
    if (ROOT / ".venv").is_dir():
        (destination / ".venv").symlink_to(ROOT / ".venv")
    # A checkout, as the reader's is: commands may ask git where the top of it is.
    subprocess.run(["git", "init", "-q", str(destination)], check=True)
    return destination


def _port_taken(url: str) -> bool:
    """Whether something listens where url (or a bare host:port) points."""
    host, _, port = (url.split("/")[2] if "//" in url else url).partition(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port or 80))) == 0


def _wait_for(url: str, server: subprocess.Popen[bytes], seconds: float = BLOCK_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server stopped (exit {server.returncode}) before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds:.0f} s")


def _run_here(block: Block) -> bool:
    return block.mark is None or WHEN_INSTALLED.fullmatch(block.mark) is not None


RUNNABLE = [d for d in DOCUMENTS if any(_run_here(b) or BACKGROUND.fullmatch(b.mark or "") for b in blocks(d))]


@pytest.fixture
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Outside pytest's basetemp, which a concurrent pytest session may rotate away under a server.
    folder = Path(tempfile.mkdtemp(prefix="squelch-docs-"))
    yield scratch_copy(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("document", RUNNABLE, ids=lambda d: str(d.relative_to(ROOT)))
def test_the_documents_commands_run_as_written(document: Path, copy: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT", "MAKEFLAGS", "MAKELEVEL")}
    servers: list[subprocess.Popen[bytes]] = []
    set_aside: list[str] = []
    try:
        for block in blocks(document):
            if block.mark is not None and (background := BACKGROUND.fullmatch(block.mark)):
                url = background.group("url")
                if _port_taken(url):
                    pytest.skip(f"{url} is taken here (a `make run` of yours?); {block.label} names it")
                first = block.commands()[0]
                servers.append(
                    subprocess.Popen(
                        ["bash", "-c", f"exec {first}"],
                        cwd=copy,
                        env=environment,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
                _wait_for(url, servers[-1])
            elif program := missing_program(block):
                set_aside.append(f"{block.label} needs {program}, which is not installed here")
            elif _run_here(block):
                if closed := [url for url in DATABASE_SERVER.findall(block.body) if not _port_taken(url)]:
                    pytest.skip(f"{block.label} names a PostgreSQL that does not answer here: {closed[0]}")
                done = subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", block.body],
                    cwd=copy,
                    env=environment,
                    capture_output=True,
                    text=True,
                    timeout=BLOCK_SECONDS,
                )
                assert done.returncode == 0, f"{block.label} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        if set_aside:  # every other block ran and passed; these did not run, which a skip says
            pytest.skip("; ".join(set_aside))
    finally:
        for server in servers:
            if server.poll() is not None:
                continue
            os.killpg(server.pid, signal.SIGINT)  # Ctrl-C, as the person at the terminal would
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                raise
