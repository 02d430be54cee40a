"""The documents a newcomer reads: a README short enough to read, that starts with the two commands,
and links between the documents that lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "clients" / "typescript" / "README.md"]
README_LIMIT = 10 * 1024  # bytes: the rest belongs in docs/
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def anchors(markdown: str) -> set[str]:
    """The fragment each heading gets, as GitHub makes it: lower case, punctuation dropped but
    hyphens and underscores, spaces to hyphens."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", FENCE.sub("", markdown), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_the_readme_starts_with_the_two_commands_and_stays_short() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = FENCE.search(text)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(0).splitlines()[1:-1]]
    assert commands == ["make run", "make test"]
    assert len(text.encode()) <= README_LIMIT, f"README.md is {len(text.encode())} bytes; move detail to docs/"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_a_heading_that_exist(document: Path) -> None:
    broken = []
    for target in LINK.findall(FENCE.sub("", document.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # another site, or a mail address: not ours to check offline
        path, _, fragment = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(target)
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked.read_text("utf-8")):
            broken.append(target)  # the file is there, the heading is not
    assert not broken, broken


def test_every_setting_is_in_the_configuration_table() -> None:
    from squelch.settings import Settings

    table = (ROOT / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert {name.upper() for name in Settings.model_fields} - listed == set()
