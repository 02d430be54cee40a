"""The number guard: which numbers a text may state, given the facts it was written from.

A text may state a number only if it equals a numeric value of the facts, in any written form
(850000, 850,000, $850K, 65%, "eighty-seven"); money with K/M/B is read to its full value and must
be equal, not rounded. A fact string that holds a number (an id, a date, a quarter label) may be
cited whole, a date also in prose, but its digits do not become allowed numbers on their own.
Bedrock's answers are refused when the guard finds an invented number; the tests run it over every
canned text too, so our own text obeys the rule it enforces on the model's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

from squelch.ai.wording import SCALE_WORDS, SMALL_NUMBER_WORDS, TENS_WORDS


def prose(text: BaseModel) -> str:
    """Every string of a written answer, one per line: what the guard reads (its JSON would glue an
    escaped newline's n to the next word)."""
    return "\n".join(_strings(text.model_dump()))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ][\d:.+\-Z]*)?")
SIGN = "[-\u2212\u2013]"  # hyphen-minus, the minus sign, and the en dash some writers use for it
MULTIPLIERS = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000, "bn": 1_000_000_000, **SCALE_WORDS}
WORD_VALUES = {**{word: n for n, word in enumerate(SMALL_NUMBER_WORDS)}, **TENS_WORDS, **SCALE_WORDS}
NUMBER_WORD = "|".join(sorted(WORD_VALUES, key=len, reverse=True))
SCALE = "|".join(SCALE_WORDS)
# One figure: 850000, 1,234,567, 3.3, $850K, $1.5B, 1.7 million, eighty-seven, two hundred and five,
# with a sign (-3, −3, minus three) and a percent sign or word. "3,4" is two figures: a comma only
# separates thousands when three digits follow it.
FIGURE = re.compile(
    rf"(?P<sign>(?<![\w\-\u2212\u2013]){SIGN}|\b(?:minus|negative)\s+)?"
    rf"(?:\$(?P<sign_after_currency>{SIGN})?)?"
    rf"(?:(?P<digits>(?:\d{{1,3}}(?:,\d{{3}}(?!\d))+|\d+)(?:\.\d+)?)(?P<suffix>(?:bn|[kmb])(?![^\W\d_]))?"
    rf"|(?P<words>\b(?:{NUMBER_WORD})\b(?:(?:[\s-]+|\s+and\s+)(?:{NUMBER_WORD})\b)*))"
    rf"(?P<scales>(?:[\s-]+(?:{SCALE})\b)*)"
    rf"(?P<percent>\s?%|\s+per\s?cent\b)?",
    re.IGNORECASE,
)
WORD = re.compile(r"[^\W\d_]+")
# "one" is a number only next to a noun it counts ("one day", "Year One"); elsewhere it is a pronoun
# or an emphasis ("no one", "one of them", "driven by ONE feature") and the guard leaves it alone.
UNIT_NOUNS = {
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "fortnight",
    "month",
    "quarter",
    "year",
    "decade",
    "percent",
    "dollar",
    "cent",
    "time",
    "ticket",
    "failure",
    "incident",
    "outage",
    "operation",
    "contact",
    "opportunity",
    "competitor",
    "facility",
    "operative",
    "phase",
    "step",
}


@dataclass(frozen=True)
class Figure:
    """A number a text states: as written, and the value it reads as ($1.7M is 1700000)."""

    written: str
    value: Decimal
    percent: bool = False


@dataclass(frozen=True)
class Citable:
    """What the facts let a text say: their numeric values, and their strings and dates cited whole."""

    values: frozenset[Decimal]
    quoted: re.Pattern[str] | None

    @classmethod
    def of(cls, facts: Any) -> Citable:
        values: set[Decimal] = set()
        strings: set[str] = set()
        days: set[date] = set()
        for leaf in _leaves(facts):
            if isinstance(leaf, Decimal):
                values.add(leaf)
            elif isinstance(leaf, date):
                days.add(leaf)
            else:
                strings.add(leaf.strip())
                days.update(_day_of(leaf))
        # Only strings with a figure in them need masking (masking "operation" would hide the noun of
        # "one operation"), the longest first: "Q1 2026" whole before a shorter fact "Q1" could be.
        with_figures = [s for s in strings if FIGURE.search(s)]
        phrases = [re.escape(s) for s in sorted(with_figures, key=len, reverse=True)]
        phrases += [_date_in_prose(day) for day in sorted(days)]
        quoted = re.compile(rf"(?<!\w)(?:{'|'.join(phrases)})(?!\w)", re.IGNORECASE) if phrases else None
        return cls(frozenset(values), quoted)

    def unquoted(self, text: str) -> str:
        """text without the facts' strings and dates: the digits inside them are not numbers of the text."""
        return self.quoted.sub(" ", text) if self.quoted else text

    def holds(self, figure: Figure) -> bool:
        return figure.value in self.values or (figure.percent and figure.value / 100 in self.values)


def invented_numbers(text: str, facts: Any) -> set[str]:
    """The numbers of text that the facts do not hold, as written; empty when the text may be shown.

    A text may contain a numeric value of the facts (booleans are not numbers), in any of its written
    forms: 850000, 850,000, $850K, $0.85M, 850 thousand, eight hundred fifty thousand, 65% (for 65, or
    for 0.65), -3 (for -3 only). Forms with K/M/B or thousand/million/billion are read to their full
    value, which must equal a fact's: $1.23M is not $1,234,567. A string of the facts (a date, an id, a
    name, a quarter label such as Q1 2026) may be cited whole, and a date also in prose (April 15, 2026;
    15 April 2026; April 15; April 2026); the digits inside them are not numbers of the text, nor
    allowed anywhere else. Numbers in words are read from zero to the billions; a lone "one" counts
    only next to a unit-like noun (UNIT_NOUNS: "one day", "Year One"), not in "no one" or "ONE feature".
    """
    citable = Citable.of(facts)
    return {figure.written for figure in figures(citable.unquoted(text)) if not citable.holds(figure)}


def figures(text: str) -> Iterator[Figure]:
    """Every number text states, in digits or in words."""
    for match in FIGURE.finditer(text):
        sign = -1 if match["sign"] or match["sign_after_currency"] else 1
        percent = match["percent"] is not None
        scale = _product(MULTIPLIERS[w.lower()] for w in WORD.findall(match["scales"] or ""))
        if match["digits"]:
            multiplier = MULTIPLIERS[match["suffix"].lower()] if match["suffix"] else 1
            value = Decimal(match["digits"].replace(",", "")) * multiplier * scale
            yield Figure(match[0].strip(), sign * value, percent)
            continue
        spelled = _spelled_numbers(text, match.start("words"), match.end("words"))
        for i, number in enumerate(spelled):
            if number.is_lone_one() and not _counts_something(text, number.start, number.end):
                continue
            first, last = i == 0, i == len(spelled) - 1
            written = text[match.start() if first else number.start : number.end]
            yield Figure(
                written + (match["percent"] if last and percent else ""),
                (sign if first else 1) * number.value * (scale if last else 1),
                percent and last,
            )


def _product(factors: Iterator[int]) -> Decimal:
    result = Decimal(1)
    for factor in factors:
        result *= factor
    return result


class Word(Enum):
    """What a word adds to a spelled number."""

    UNIT = "unit"  # zero..nine
    TEEN = "teen"  # ten..nineteen
    TENS = "tens"  # twenty..ninety
    HUNDRED = "hundred"
    SCALE = "scale"  # thousand, million, billion
    AND = "and"  # "two hundred and five"

    @classmethod
    def of(cls, word: str) -> tuple[Word, int]:
        if word == "and":
            return cls.AND, 0
        value = WORD_VALUES[word]
        if word in SCALE_WORDS:
            return (cls.HUNDRED if value == 100 else cls.SCALE), value
        if word in TENS_WORDS:
            return cls.TENS, value
        return (cls.UNIT if value < 10 else cls.TEEN), value


ROUND = (Word.HUNDRED, Word.SCALE, Word.AND)  # what may come before the tens or units of a number
COUNTED = (Word.UNIT, Word.TEEN, Word.TENS)  # what a hundred or a thousand multiplies


@dataclass
class Spelled:
    """A number being read from words: "two hundred and five", "eighty-seven", "seventeen hundred thousand"."""

    start: int = 0
    end: int = 0
    words: list[str] = field(default_factory=list)
    total: int = 0
    group: int = 0  # the part after the last thousand, million or billion
    smallest_scale: int = 0
    last: Word | None = None

    def takes(self, kind: Word, value: int) -> bool:
        """Whether the word continues this number ("twenty" + "three") or starts a new one ("three" + "four")."""
        if not self.words:
            return kind is not Word.AND
        match kind:
            case Word.AND:
                return self.last in (Word.HUNDRED, Word.SCALE)
            case Word.UNIT:
                return self.last in ROUND or self.last is Word.TENS
            case Word.TEEN | Word.TENS:
                return self.last in ROUND
            case Word.HUNDRED:
                return self.last in COUNTED and self.group < 100
            case Word.SCALE:
                smaller = not self.smallest_scale or value < self.smallest_scale  # "a million thousand" is two
                return self.last in (*COUNTED, Word.HUNDRED) and smaller

    def add(self, word: re.Match[str], kind: Word, value: int) -> None:
        if kind is Word.AND:  # joins, adds nothing
            self.last = kind
            return
        if not self.words:
            self.start = word.start()
        if kind in COUNTED:
            self.group += value
        elif kind is Word.HUNDRED:
            self.group = (self.group or 1) * 100
        else:
            self.total += (self.group or 1) * value
            self.group, self.smallest_scale = 0, value
        self.words.append(word[0].lower())
        self.last, self.end = kind, word.end()

    @property
    def value(self) -> Decimal:
        return Decimal(self.total + self.group)

    def is_lone_one(self) -> bool:
        return self.words == ["one"]


def _spelled_numbers(text: str, start: int, end: int) -> list[Spelled]:
    """The numbers a run of number words states: "three four" is two, "twenty-three" one."""
    numbers = [Spelled()]
    for word in WORD.finditer(text, start, end):
        kind, value = Word.of(word[0].lower())
        if not numbers[-1].takes(kind, value):
            numbers.append(Spelled())
        if numbers[-1].takes(kind, value):  # an "and" that joins nothing is just a word
            numbers[-1].add(word, kind, value)
    return [n for n in numbers if n.words]


def _counts_something(text: str, start: int, end: int) -> bool:
    """Whether the word at text[start:end] stands next to a unit-like noun: "one day", "one-week", "Year One"."""
    before = re.search(r"([^\W\d_]+)[\s-]+$", text[max(0, start - 40) : start])
    after = re.match(r"[\s-]+([^\W\d_]+)", text[end : end + 40])
    return any(m and m[1].lower().removesuffix("s") in UNIT_NOUNS for m in (before, after))


def _leaves(value: Any) -> Iterator[Decimal | date | str]:
    """The values of the facts, whatever their nesting: numbers, dates and strings (not the keys)."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        if number.is_finite():
            yield number
    elif isinstance(value, datetime):
        yield value.date()
        yield value.isoformat()
    elif isinstance(value, date):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _leaves(item)
    else:
        yield str(value)


def _day_of(text: str) -> list[date]:
    """The day of an ISO date or timestamp string: 2026-04-15 may also be written April 15, 2026."""
    if not (match := ISO_DAY.fullmatch(text.strip())):
        return []
    try:
        return [date.fromisoformat(match[1])]
    except ValueError:
        return []


def _date_in_prose(day: date) -> str:
    """A pattern for day as people write it: 2026-04-15, April 15, 2026, Apr. 15th, 15 April 2026,
    the 15th of April, April 2026."""
    name = MONTHS[day.month - 1]
    sept = r"|Sept\.?" if day.month == 9 else ""
    month = rf"(?:{name}|{name[:3]}\.?{sept})"
    day_of_month = f"0?{day.day}(?:st|nd|rd|th)?"
    year = f"{day.year}"
    return "|".join(
        [
            re.escape(day.isoformat()),
            rf"{month}\s+{day_of_month}(?:,?\s+{year})?",
            rf"(?:the\s+)?{day_of_month}(?:\s+of)?\s+{month}(?:,?\s+{year})?",
            rf"{month},?\s+{year}",
        ]
    )
