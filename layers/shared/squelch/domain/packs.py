"""Story packs: a story is a folder of JSON files (packs/<name>/, docs/STORY.md says what each holds), its
dates written as offsets from the demo day D. Loading a pack and placing its dates around a D is all
this module does; squelch.domain.demo seeds a sandbox from it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from squelch import periods

DEFAULT_PACK = "act1-obsidian-black"
# The files of a pack, each one concern of the story.
FILES = (
    "story",
    "account",
    "contacts",
    "operations",
    "tickets",
    "contracts",
    "plan",
    "opportunities",
    "health",
    "checkpoints",
)
# D, then days and calendar years from it, then a UTC time of day: "D+143", "D-95 23:00", "D+143-2y",
# "D-1y 21:10", "D 09:00". Days come first, then years (as PostgreSQL's date - interval '2 years': a
# 29 February becomes the 28th).
OFFSET = re.compile(r"D(?P<days>[+-]\d+(?![\dy]))?(?:(?P<years>[+-]\d+)y)?(?: (?P<time>\d\d:\d\d))?")
# The same, as packs/schema.json writes it for pack authors' editors.
OFFSET_SYNTAX = r"^D([+-][0-9]+)?([+-][0-9]+y)?( [0-9]{2}:[0-9]{2})?$"
# Placeholders a checkpoint's session data may hold: values the story computes from D.
PLACEHOLDER = re.compile(r"\$\{(active_contract_id|plan_id)\}")


class PackError(ValueError):
    """A pack that cannot be read: its file, its field and what is wrong, in words."""


@dataclass(frozen=True)
class Offset:
    days: int
    years: int
    time_of_day: time | None

    def day(self, anchor: date) -> date:
        return periods.years_later(anchor + timedelta(days=self.days), self.years)

    def instant(self, anchor: date) -> datetime:
        return datetime.combine(self.day(anchor), self.time_of_day or time(0), tzinfo=UTC)

    def __str__(self) -> str:
        text = "D" + (f"{self.days:+d}" if self.days else "") + (f"{self.years:+d}y" if self.years else "")
        return text + (f" {self.time_of_day:%H:%M}" if self.time_of_day else "")


def offset(text: str) -> Offset:
    match = OFFSET.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        hours = match["time"]
        return Offset(int(match["days"] or 0), int(match["years"] or 0), time.fromisoformat(hours) if hours else None)
    except ValueError:
        raise PackError(f"{text!r} is not an offset from D (D+143, D-95 23:00, D+143-2y)") from None


@dataclass(frozen=True)
class Pack:
    name: str
    story: dict[str, Any]
    account: dict[str, Any]
    contacts: list[dict[str, Any]]
    operations: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    contracts: dict[str, Any]
    plan: dict[str, Any]
    opportunities: list[dict[str, Any]]
    health: list[dict[str, Any]]
    checkpoints: list[dict[str, Any]]

    @property
    def customer_id(self) -> str:
        return str(self.account["customer_id"])

    @property
    def checkpoint_names(self) -> tuple[str, ...]:
        return tuple(c["name"] for c in self.checkpoints)

    @property
    def start(self) -> str:
        """The first checkpoint: the story before the presenter's first click."""
        return self.checkpoint_names[0]

    def renewal(self, anchor: date) -> date:
        return offset(self.account["renewal_date"]).day(anchor)

    def checkpoint(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.checkpoints if c["name"] == name), None)


def packs_folder() -> Traversable:
    return resources.files("squelch") / "sql" / "packs"


def names() -> tuple[str, ...]:
    """Every pack shipped, the default first."""
    found = sorted(p.name for p in packs_folder().iterdir() if p.is_dir() and (p / "story.json").is_file())
    return tuple(sorted(found, key=lambda n: n != DEFAULT_PACK))


def read_file(folder: Traversable, concern: str) -> Any:
    """One file of a pack, its numbers as written (4.2 stays 4.2, 0.30 keeps its zero)."""
    path = folder / f"{concern}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError as error:
        raise PackError(f"{concern}.json: the file is missing") from error
    except json.JSONDecodeError as error:
        raise PackError(f"{concern}.json: not JSON ({error})") from error


def read(folder: Traversable, name: str) -> Pack:
    return Pack(name, **{concern: read_file(folder, concern) for concern in FILES})


@cache
def load(name: str) -> Pack:
    """A shipped pack, read once per process."""
    if name not in names():
        raise KeyError(name)
    return read(packs_folder() / name, name)


@dataclass(frozen=True)
class Placed:
    """A pack's rows with their dates placed around one D, as the tables take them."""

    customer: dict[str, Any]
    contacts: list[dict[str, Any]]
    operations: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    contracts: list[dict[str, Any]]
    plan: dict[str, Any]
    opportunities: list[dict[str, Any]]
    health: list[dict[str, Any]]


# Which fields of each concern are days and which are instants.
DAYS = {
    "account": ("renewal_date", "csm_assigned_on", "customer_since"),
    "contacts": ("last_contact",),
    "operations": ("date",),
    "contracts": ("start_date", "end_date"),
}
INSTANTS = ("created_at", "updated_at")


def _placed_row(row: dict[str, Any], concern: str, anchor: date, customer_id: str | None) -> dict[str, Any]:
    placed = dict(row)
    for field in DAYS.get(concern, ()):
        if placed.get(field) is not None:
            placed[field] = offset(placed[field]).day(anchor)
    for field in INSTANTS:
        if placed.get(field) is not None:
            placed[field] = offset(placed[field]).instant(anchor)
    if customer_id is not None:
        placed["customer_id"] = customer_id
    return placed


def contract_terms(pack: Pack, anchor: date) -> list[dict[str, Any]]:
    """The contracts, each named for the year it starts in and recorded at its start (midnight UTC)."""
    c, terms = pack.contracts, []
    for term in pack.contracts["terms"]:
        row = _placed_row(term, "contracts", anchor, pack.customer_id)
        start: date = row["start_date"]
        terms.append(
            {
                **row,
                "contract_id": f"{c['id_prefix']}{start.year}",
                "arr": c["arr"],
                "auto_renew": c["auto_renew"],
                "sla_uptime": c["sla_uptime"],
                "created_at": datetime.combine(start, time(0), tzinfo=UTC),
            }
        )
    return terms


def place(pack: Pack, anchor: date) -> Placed:
    cid = pack.customer_id
    return Placed(
        customer=_placed_row(pack.account, "account", anchor, None),
        contacts=[_placed_row(r, "contacts", anchor, cid) for r in pack.contacts],
        operations=[_placed_row(r, "operations", anchor, cid) for r in pack.operations],
        tickets=[_placed_row(r, "tickets", anchor, cid) for r in pack.tickets],
        contracts=contract_terms(pack, anchor),
        plan=_placed_row(pack.plan, "plan", anchor, cid),
        opportunities=[_placed_row(r, "opportunities", anchor, cid) for r in pack.opportunities],
        health=[_placed_row(r, "health", anchor, cid) for r in pack.health],
    )


def active_contract_id(placed: Placed) -> str | None:
    return next((str(c["contract_id"]) for c in placed.contracts if c["status"] == "active"), None)


def _filled(value: Any, values: dict[str, str | None]) -> Any:
    if isinstance(value, dict):
        return {k: _filled(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, values) for v in value]
    if isinstance(value, str) and (match := PLACEHOLDER.fullmatch(value)):
        return values[match[1]]
    return value


def checkpoint_sessions(checkpoint: dict[str, Any], placed: Placed, anchor: date) -> list[dict[str, Any]]:
    """A checkpoint's sessions placed around D, their placeholders filled from the story."""
    values = {"active_contract_id": active_contract_id(placed), "plan_id": str(placed.plan["plan_id"])}
    return [
        {**_placed_row(s, "sessions", anchor, None), "data": _filled(s["data"], values)} for s in checkpoint["sessions"]
    ]
