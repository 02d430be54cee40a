"""How numbers, names and dates are written in generated text, the way people write them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

HONORIFICS = {"dr.", "dr", "mr.", "mr", "ms.", "ms", "mrs.", "mrs", "prof.", "prof"}


def money(amount: Decimal | int | float) -> str:
    """$850K, $1.7M, $1.25M; amounts that do not round that way are written out: $1,234,567."""
    value = Decimal(str(amount))
    for threshold, suffix in ((Decimal(1_000_000_000), "B"), (Decimal(1_000_000), "M"), (Decimal(1_000), "K")):
        if abs(value) >= threshold and value % (threshold / 100) == 0:
            return f"${_trim(value / threshold)}{suffix}"
    return f"${value:,.0f}" if value == value.to_integral_value() else f"${value:,.2f}"


def _trim(value: Decimal) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def first_name(full_name: str) -> str:
    parts = [p for p in full_name.split() if p.lower() not in HONORIFICS]
    return parts[0] if parts else full_name


def quarter_of(day: date) -> str:
    return f"Q{(day.month - 1) // 3 + 1} {day.year}"


def quarter_after(day: date) -> str:
    quarter = (day.month - 1) // 3 + 1
    return f"Q{quarter % 4 + 1} {day.year + (quarter == 4)}"


def joined(items: Sequence[str], conjunction: str = "and") -> str:
    if len(items) <= 2:
        return f" {conjunction} ".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def a_or_an(n: int) -> str:
    """The article before a number said aloud, which starts with its leading thousands group:
    an 8-, an 11-, an 18-, an 87-, an 800-day; a 110,000 ("a hundred and ten thousand"), an 11,000,000."""
    leading_group = f"{n:,}".split(",")[0]
    spoken_vowel = leading_group.startswith("8") or leading_group in ("11", "18")
    return "an" if spoken_vowel else "a"


def mid_sentence(phrase: str) -> str:
    """A phrase from the data as it reads inside a sentence: "Timezone-intelligent scheduling" becomes
    "timezone-intelligent scheduling", while "SSO with Okta", "API rate limits", "OAuth scopes" and
    "iOS mode" keep their case. Only an ordinary capitalised first word (an upper-case letter, then
    lower case only) or the article "A" is lower-cased: anything else may be an acronym or a brand."""
    first_word = phrase.split(" ", 1)[0]
    ordinary = first_word[:1].isupper() and (first_word[1:].islower() or first_word == "A")
    return phrase[0].lower() + phrase[1:] if ordinary else phrase


ORDINAL_WORDS = ("One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")


def year_name(n: int) -> str:
    """Year One, Year Two, ... as contracts are talked about."""
    return f"Year {ORDINAL_WORDS[n - 1] if 1 <= n <= len(ORDINAL_WORDS) else n}"
