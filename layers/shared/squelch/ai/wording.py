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


def count(n: int, singular: str, plural: str | None = None, *, spelled: bool = False) -> str:
    """3 critical service failures; spelled: two weeks (numbers up to ten in words)."""
    return f"{in_words(n) if spelled else n} {singular if n == 1 else plural or singular + 's'}"


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


# Numbers in words, as the canned text writes them and the number guard reads them.
SMALL_NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
TENS_WORDS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALE_WORDS = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
SPELLED_OUT_UP_TO = 10  # one to ten in words, 11 and up in digits, as style guides have it


def in_words(n: int) -> str:
    """two (weeks), but 14 (days)."""
    return SMALL_NUMBER_WORDS[n] if 0 <= n <= SPELLED_OUT_UP_TO else str(n)


def year_name(n: int) -> str:
    """Year One, Year Two, ... as contracts are talked about; Year 11 on."""
    return f"Year {in_words(n).capitalize()}" if n >= 1 else f"Year {n}"
