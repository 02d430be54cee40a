"""How the canned text writes numbers and phrases: the article before a number as it is read aloud,
and a phrase from the data put in the middle of a sentence without breaking its acronyms."""

from __future__ import annotations

import pytest
from conftest import DictConnection
from test_ai_routes import email, ok, opportunity

from squelch.ai import wording


@pytest.mark.parametrize(
    ("n", "article"),
    [
        (1, "a"),
        (8, "an"),
        (11, "an"),
        (18, "an"),
        (80, "an"),
        (87, "an"),
        (89, "an"),
        (90, "a"),
        (100, "a"),
        (110, "a"),
        (800, "an"),
        (899, "an"),
        (1_100, "a"),
        (1_800, "a"),
        (8_000, "an"),
        (11_000, "an"),
        (18_500, "an"),
        (80_000, "an"),
        (110_000, "a"),
        (800_000, "an"),
        (1_100_000, "a"),
        (11_000_000, "an"),
        (18_000_000_000, "an"),
        (0, "a"),
    ],
)
def test_the_article_follows_how_the_number_is_read_aloud(n: int, article: str) -> None:
    # Only the leading thousands group is heard first: "eleven million", "a hundred and ten thousand".
    assert wording.a_or_an(n) == article


@pytest.mark.parametrize(
    ("phrase", "in_a_sentence"),
    [
        ("Timezone-intelligent scheduling", "timezone-intelligent scheduling"),
        ("Single sign-on", "single sign-on"),
        ("SSO with Okta", "SSO with Okta"),
        ("API rate limits", "API rate limits"),
        ("iOS offline mode", "iOS offline mode"),
        ("OAuth scopes per facility", "OAuth scopes per facility"),
        ("McAfee integration", "McAfee integration"),
        ("X integration", "X integration"),
        ("A faster dashboard", "a faster dashboard"),
        ("I18n of the dashboards", "i18n of the dashboards"),
        ("Éclair-grade latency", "éclair-grade latency"),
        ("", ""),
    ],
)
def test_only_an_ordinary_capitalised_first_word_is_lower_cased(phrase: str, in_a_sentence: str) -> None:
    assert wording.mid_sentence(phrase) == in_a_sentence


@pytest.mark.parametrize("requirement", ["SSO with Okta", "API rate limits", "iOS offline mode"])
def test_an_acronym_requirement_keeps_its_case_in_every_text(story: DictConnection, requirement: str) -> None:
    story.execute("UPDATE demo_opportunities SET key_requirement = %s", [requirement])
    insight = ok(opportunity())["ai_insight"]
    assert f"driven by ONE feature: {requirement}. If Squelch" in insight
    draft = ok(email("aco-elena"))
    assert draft["subject"] == f"Global Synchronization Initiative: a discovery call on {requirement}"
    assert f"and that {requirement} is the capability" in draft["body"]
    assert f"Squelch stands on {requirement}, including" in draft["body"]
