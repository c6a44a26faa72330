"""The censor judged on a corpus: disguised phrases it must catch, ordinary chat it must leave alone.

Evasions: every phrase of every topic (forbidden, permit and approved talk) of each pack, through
every transformation of ``censor_evasions.TRANSFORMATIONS`` (leet, look-alike letters of other
scripts, accents, zero-width characters, doubled letters, letters spaced out or dotted, words glued,
and combinations), each in an ordinary sentence. At least 95 % of each pack's evasions are caught.

Ordinary chat: ``ordinary_chat.txt``, a few hundred lines of game-night and debate-club talk,
everyday chat, near misses ("Tianjin", "voters", "harmonica"), links, numbers, emoji and other
languages. None names a phrase as written (checked below with plain whole-word matching); the folding
matcher flags at most 1 % of them for each pack.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from game.rules.speech import SpeechMatcher
from game.scenario import Scenario, load_scenario
from tests.game.rules.censor_evasions import TRANSFORMATIONS, evasions

PACKS = ("classic", "game-night", "debate-club")
CHAT = [
    line
    for line in (Path(__file__).parent / "ordinary_chat.txt").read_text("utf-8").splitlines()
    if line and not line.startswith("#")
]


def _matcher(scenario: Scenario) -> SpeechMatcher:
    # Phrases only: the tone rule would add findings of its own.
    return SpeechMatcher(scenario.speech.model_copy(update={"sentiment": None}))


def _topics(matcher: SpeechMatcher, text: str) -> set[str]:
    return {finding.rule_key for finding in matcher.judge_message(text)}


def _plain(text: str) -> str:
    """Whole words, case and punctuation ignored, nothing folded: how a phrase is written."""
    return (
        " "
        + " ".join(re.sub(r"[\W_]+|(?<=[\u4e00-\u9fff])|(?=[\u4e00-\u9fff])", " ", text.lower()).split())
        + " "
    )


@pytest.mark.parametrize("pack", PACKS)
def test_at_least_95_percent_of_evasions_are_caught(pack: str) -> None:
    scenario = load_scenario(pack)
    matcher = _matcher(scenario)
    total = 0
    missed: Counter[str] = Counter()
    examples: list[str] = []
    for _kind, _index, topic in scenario.speech.topics():
        for phrase in topic.phrases:
            for name, message in evasions(phrase):
                total += 1
                if topic.key not in _topics(matcher, message):
                    missed[name] += 1
                    examples.append(f"{name}: {message!r}")
    caught = 1 - sum(missed.values()) / total
    assert total >= len(TRANSFORMATIONS) * 20
    assert caught >= 0.95, (
        f"{pack}: {caught:.1%} of {total} evasions caught (at least 95 % wanted); "
        f"missed by transformation: {dict(missed.most_common())}; for example {examples[:10]}"
    )
    print(f"{pack}: {caught:.1%} of {total} evasions caught; missed: {dict(missed.most_common())}")


def test_the_chat_corpus_names_no_phrase_as_written() -> None:
    assert len(CHAT) >= 300
    for pack in PACKS:
        phrases = [p for _k, _i, topic in load_scenario(pack).speech.topics() for p in topic.phrases]
        named = [(line, p) for line in CHAT for p in phrases if _plain(p) in _plain(line)]
        assert named == [], f"{pack}: these chat lines name a phrase as written: {named}"


@pytest.mark.parametrize("pack", PACKS)
def test_at_most_1_percent_of_ordinary_chat_is_flagged(pack: str) -> None:
    matcher = _matcher(load_scenario(pack))
    flagged = [(line, sorted(_topics(matcher, line))) for line in CHAT if _topics(matcher, line)]
    rate = len(flagged) / len(CHAT)
    assert rate <= 0.01, (
        f"{pack}: {rate:.1%} of {len(CHAT)} ordinary chat lines flagged (at most 1 % wanted): {flagged}"
    )
    print(f"{pack}: {rate:.1%} of {len(CHAT)} ordinary chat lines flagged: {flagged}")
