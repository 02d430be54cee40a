"""make story-check: every shipped pack passes it; a broken pack is refused with the file, what in it, and
the rule it breaks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from squelch.db import migrations
from tools import story_check

ACT1 = story_check.PACKS / "act1-obsidian-black"


def a_copy(tmp_path: Path, edit: Any = None, file: str = "", pack: Path = ACT1) -> Path:
    """The pack copied to tmp_path, with edit applied to one file's data."""
    folder = tmp_path / pack.name
    shutil.copytree(pack, folder)
    if edit is not None:
        data = json.loads((folder / file).read_text())
        edit(data)
        (folder / file).write_text(json.dumps(data, indent=1))
    return folder


@pytest.fixture(scope="module")
def check_database(database_factory: Any) -> str:
    url = database_factory()
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.migrate(conn)
    return str(url)


@pytest.mark.parametrize("pack", story_check.pack_folders([]), ids=lambda p: p.name)
def test_every_shipped_pack_passes_through_the_routes(pack: Path, check_database: str) -> None:
    # Given a shipped pack, When it is checked (schema, its data's rules on every day of a year, then every
    # route and the number guard at each checkpoint on anchor days across the year), Then nothing is wrong
    assert [str(p) for p in story_check.check(pack, check_database)] == []


def test_every_pack_folder_has_every_file_and_the_default_comes_first() -> None:
    from squelch.domain import packs

    names = packs.names()
    assert names[0] == packs.DEFAULT_PACK and len(names) == len(story_check.pack_folders([]))


def test_an_event_before_the_relationship_is_named_with_its_file_field_and_rule(tmp_path: Path) -> None:
    # Given a pack whose relationship began two years before the renewal (D+143-2y, about D-587) and whose
    # COO was last contacted D-600
    def edit(contacts: list[dict[str, Any]]) -> None:
        contacts[0]["last_contact"] = "D-600"

    folder = a_copy(tmp_path, edit, "contacts.json")
    # When it is checked
    problems = [str(p) for p in story_check.check(folder)]
    # Then the problem names the file, the contact, the field, both dates and the rule
    assert (
        "contacts.json: contact aco-marcus: last_contact D-600 is before the relationship began at D+143-2y "
        "[relationship-first]"
    ) in problems


def test_a_schema_break_is_named_by_its_path(tmp_path: Path) -> None:
    folder = a_copy(tmp_path, lambda contacts: contacts[1].pop("name"), "contacts.json")
    problems = [str(p) for p in story_check.check(folder)]
    assert problems == ["contacts.json: $[1]: 'name' is a required property [schema]"]


def test_a_date_that_is_not_an_offset_from_d_is_refused(tmp_path: Path) -> None:
    folder = a_copy(tmp_path, lambda ops: ops[0].update(date="2025-08-20"), "operations.json")
    problems = [str(p) for p in story_check.check(folder)]
    assert len(problems) == 1 and problems[0].startswith("operations.json: $[0].date: '2025-08-20' does not match")


def test_a_health_score_that_is_not_the_weighted_sum_is_refused(tmp_path: Path) -> None:
    folder = a_copy(tmp_path, lambda account: account.update(health_score=4.5), "account.json")
    assert [str(p) for p in story_check.check(folder)] == [
        "health.json: score: the weighted sum of the components is 4.2, but account.json's health_score is 4.5 "
        "[health-weighted-sum]"
    ]


def test_a_spike_without_a_normal_rate_is_refused(tmp_path: Path) -> None:
    # Given the two-week spike's tickets and none before them
    def edit(tickets: list[dict[str, Any]]) -> None:
        tickets[:] = [t for t in tickets if t["ticket_id"] in ("aco-4728", "aco-4801")]

    folder = a_copy(tmp_path, edit, "tickets.json")
    problems = [str(p) for p in story_check.check(folder)]
    assert any(p.endswith("no normal rate to compare the spike with [spike-vs-normal-rate]") for p in problems)


def test_contracts_with_a_gap_and_an_event_after_d_are_refused(tmp_path: Path) -> None:
    # Given a first term that ends 43 days before the second starts, and an operation dated D+2
    folder = a_copy(tmp_path, lambda c: c["terms"][0].update(end_date="D+100-1y"), "contracts.json")
    ops = json.loads((folder / "operations.json").read_text())
    ops[3]["date"] = "D+2"
    (folder / "operations.json").write_text(json.dumps(ops))
    # When the pack is checked, Then both are named
    problems = [str(p) for p in story_check.check(folder)]
    assert any(
        p.startswith("contracts.json: term aco-contract-")
        and p.endswith("does not start the day its predecessor ends: no gap, no overlap [contracts-follow-their-dates]")
        for p in problems
    ), problems
    assert (
        "operations.json: operation op-shadow-grid: date D+2 is after D: the story tells of no event still to come "
        "[nothing-after-D]"
    ) in problems


def test_the_command_prints_each_problem_under_its_pack_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = a_copy(tmp_path, lambda contacts: contacts[0].update(last_contact="D-600"), "contacts.json")
    assert story_check.main([str(folder), "--no-routes"]) == 1
    out = capsys.readouterr().out
    assert "act1-obsidian-black/contacts.json: contact aco-marcus: last_contact D-600 is before" in out
    assert story_check.main([str(ACT1), "--no-routes"]) == 0
    assert "story-check: act1-obsidian-black: OK" in capsys.readouterr().out


def test_a_checkpoint_named_as_another_packs_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a copy of the second pack whose first checkpoint takes Act 1's first checkpoint's name
    nocturne = story_check.PACKS / "nocturne-expansion"
    folder = a_copy(tmp_path, lambda points: points[0].update(name="act1-start"), "checkpoints.json", nocturne)
    # When it is checked, Then the clash is named, and the command fails
    assert [str(p) for p in story_check.across_packs(folder)] == [
        "checkpoints.json: checkpoint act1-start: is also a checkpoint of act1-obsidian-black: name it for this "
        "story [checkpoint-names-across-packs]"
    ]
    assert story_check.main([str(folder), "--no-routes"]) == 1
    assert "[checkpoint-names-across-packs]" in capsys.readouterr().out
