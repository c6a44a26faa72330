from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.rules.folding import _glued_unicode, _words_unicode, fold_glued, fold_words
from game.rules.speech import (
    FindingKind,
    RewardGate,
    SpeechFinding,
    SpeechMatcher,
    gate_findings,
    message_digest,
    normalize_text,
    recent_digests_after,
    reward_gate,
)
from game.scenario import (
    ApprovedTalk,
    ForbiddenTopic,
    PermitTopic,
    SentimentRule,
    SpeechRules,
    load_scenario,
)

CLASSIC = load_scenario("classic")
NONE: frozenset[str] = frozenset()


def rules(
    forbidden: dict[str, tuple[list[str], int]] | None = None,
    permit: dict[str, tuple[list[str], int]] | None = None,
    approved: dict[str, tuple[list[str], int]] | None = None,
    sentiment: SentimentRule | None = None,
) -> SpeechRules:
    return SpeechRules(
        forbidden=tuple(
            ForbiddenTopic(key=k, name=k, phrases=tuple(p), penalty=d)
            for k, (p, d) in (forbidden or {}).items()
        ),
        permit_required=tuple(
            PermitTopic(key=k, name=k, phrases=tuple(p), penalty=d) for k, (p, d) in (permit or {}).items()
        ),
        approved=tuple(
            ApprovedTalk(key=k, name=k, phrases=tuple(p), bonus=d) for k, (p, d) in (approved or {}).items()
        ),
        sentiment=sentiment,
    )


def judged(matcher: SpeechMatcher, text: str, permits: frozenset[str] = NONE) -> list[tuple[str, int]]:
    return [(f.rule_key, f.delta) for f in matcher.judge_message(text, permits=permits)]


# --- Normalisation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Tank-Man!", "tank man"),
        ("  the   TANK\tman\n", "the tank man"),
        ("snake_case words", "snake case words"),
        ("don't", "don t"),
        ("Ｔａｎｋ　Ｍａｎ", "tank man"),  # full-width letters (NFKC)
        ("STRASSE Straße", "strase strase"),  # case-folded, not just lower-cased; repeats read once
        ("讨论六四事件", "讨 论 六 四 事 件"),
        ("T1ananmen", "tiananmen"),  # digits inside a word are letters
        ("8964 and 4th", "8964 and ath"),  # a number stays a number
        ("Тiаnаnmеn", "tiananmen"),  # Cyrillic look-alikes
        ("Tíánánmén", "tiananmen"),
        ("Tia\u200bnan\u200dmen", "tiananmen"),  # zero-width characters
        ("Tiiiananmennn", "tiananmen"),
        ("Hello world", "heio worid"),  # l is read as i
        ("t.i.a.n", "t i a n"),  # the words reading; the glued reading joins them
        ("¡Positive energy!", "positive energy"),
        ("!!!", ""),
        ("", ""),
    ],
)
def test_normalize_text(text: str, normal: str) -> None:
    assert normalize_text(text) == normal


@settings(deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_fast_path_agrees_with_the_general_path(text: str) -> None:
    assert fold_words(text) == _words_unicode(text.casefold())
    assert fold_glued(text) == _glued_unicode(text.casefold())


@pytest.mark.parametrize(
    ("text", "glued"),
    [
        ("t.i.a.n.a.n.m.e.n", "tiananmen"),
        ("t i a n a n m e n", "tiananmen"),
        ("Tian-an_men!", "tiananmen"),
        ("h@rmony!!", "harmony"),
        ("(h@rmony)", "harmony"),
        ("$tock cr@sh", "stock crash"),
        ("v0t!ng", "voting"),
        ("politic$ and Umbrell@", "poitics and umbreia"),
        ("don't", "dont"),
        ("I give up", "i give up"),  # one single letter is a word
    ],
)
def test_glued_reading(text: str, glued: str) -> None:
    assert fold_glued(text) == glued


# --- Matching whole words only ------------------------------------------------------------------------

# Phrases are made of a-m and digits; the noise around them of letters that neither those letters nor
# those digits fold to (digits inside a word read as o i z e a s g t b g), so a phrase can only turn
# up where the test puts it.
words = st.text(alphabet="abcdefghijklm0123456789", min_size=1, max_size=12)
noise = st.text(alphabet="npqruvwxyNPQRUVWXY .,!", max_size=20)
# Letters of scripts that put spaces between words (Han characters are words of their own).
word_chars = st.text(alphabet="npqruvwxyNPQUñДж", min_size=1, max_size=3)
separators = st.text(alphabet=" \t\n.,!?;:-()'\"/_", min_size=1, max_size=3)


# No deadline: the first non-ASCII letter loads the look-alike table, which takes a while once.
@settings(deadline=None)
@given(st.lists(words, min_size=1, max_size=3), word_chars, word_chars, noise, noise)
def test_matcher_never_matches_inside_a_word(
    phrase_words: list[str], before: str, after: str, left: str, right: str
) -> None:
    phrase = " ".join(phrase_words)
    matcher = SpeechMatcher(rules(forbidden={"topic": ([phrase], -30)}))
    # Glued to a letter on one side or the other: never a match.
    assert judged(matcher, f"{left} {before}{phrase} {right}") == []
    assert judged(matcher, f"{left} {phrase}{after} {right}") == []
    assert judged(matcher, f"{left} {before}{phrase}{after} {right}") == []
    # The control: unglued, it matches.
    assert judged(matcher, f"{left} {phrase} {right}") == [("topic", -30)]


@settings(deadline=None)
@given(st.lists(words, min_size=1, max_size=3), separators, separators, noise, noise, st.booleans())
def test_matcher_finds_a_whole_phrase_whatever_the_case_and_punctuation(
    phrase_words: list[str], sep_left: str, sep_right: str, left: str, right: str, shout: bool
) -> None:
    phrase = " ".join(phrase_words)
    matcher = SpeechMatcher(rules(forbidden={"topic": ([phrase], -30)}))
    written = "-".join(phrase_words).upper() if shout else phrase
    text = f"{left}{sep_left}{written}{sep_right}{right}"
    assert judged(matcher, text) == [("topic", -30)]


def test_phrases_are_plain_text_not_patterns() -> None:
    matcher = SpeechMatcher(rules(forbidden={"dots": (["a.b"], -10), "star": (["c*"], -10)}))
    assert judged(matcher, "axb") == []
    assert judged(matcher, "a.b") == [("dots", -10)]
    assert judged(matcher, "a b") == [("dots", -10)]  # punctuation counts as a word break
    assert judged(matcher, "cat") == []
    assert judged(matcher, "c") == [("star", -10)]


def test_classic_examples() -> None:
    matcher = SpeechMatcher.from_scenario(CLASSIC)
    assert judged(matcher, "The TANK-MAN photo") == [("tiananmen-1989", -60)]
    assert judged(matcher, "tanks and a man") == []
    assert judged(matcher, "tankman, T4NK M4N, t.a.n.k m.a.n") == [("tiananmen-1989", -60)]
    assert judged(matcher, "我们讨论六四事件") == [("tiananmen-1989", -60)]
    assert judged(matcher, "Long live the Bureau!") == [("gratitude", 15)]
    assert judged(matcher, "What a lovely day") == []
    assert judged(matcher, "") == []


# --- Combining matches --------------------------------------------------------------------------------

COMBINED = SpeechMatcher(
    rules(
        forbidden={"crash": (["stock crash", "crash"], -40), "bear": (["pooh"], -30)},
        permit={"politics": (["vote", "election"], -25)},
        approved={
            "energy": (["positive energy"], 10),
            "thanks": (["thank you bureau"], 15),
            "calm": (["calm"], 5),
        },
    )
)


def test_each_forbidden_topic_counts_once_per_message() -> None:
    assert judged(COMBINED, "crash crash stock crash CRASH") == [("crash", -40)]
    assert judged(COMBINED, "pooh and the crash") == [("crash", -40), ("bear", -30)]


def test_a_permit_waives_only_its_own_topic() -> None:
    assert judged(COMBINED, "vote in the election") == [("politics", -25)]
    assert judged(COMBINED, "vote in the election", frozenset({"politics"})) == []
    assert judged(COMBINED, "vote for pooh", frozenset({"politics"})) == [("bear", -30)]
    assert judged(COMBINED, "vote for pooh", frozenset({"economy"})) == [("bear", -30), ("politics", -25)]


def test_one_reward_per_message_the_largest() -> None:
    assert judged(COMBINED, "calm, positive energy, thank you Bureau") == [("thanks", 15)]
    assert judged(COMBINED, "positive energy positive energy") == [("energy", 10)]


def test_no_reward_for_a_message_that_carries_a_penalty() -> None:
    assert judged(COMBINED, "positive energy about the crash") == [("crash", -40)]
    assert judged(COMBINED, "positive energy: vote!") == [("politics", -25)]
    # With a permit, there is no penalty left to void the reward.
    assert judged(COMBINED, "positive energy: vote!", frozenset({"politics"})) == [("energy", 10)]


def test_findings_say_why_in_words() -> None:
    (finding,) = COMBINED.judge_message("Stock-Crash!", permits=NONE)
    assert finding.kind is FindingKind.FORBIDDEN
    assert finding.reason == 'Forbidden topic, crash: "stock crash"'
    (finding,) = COMBINED.judge_message("I vote", permits=NONE)
    assert finding.kind is FindingKind.PERMIT_REQUIRED
    assert "without a permit" in finding.reason


def test_an_empty_rule_set_finds_nothing() -> None:
    assert judged(SpeechMatcher(SpeechRules()), "anything at all") == []


# --- Sentiment ----------------------------------------------------------------------------------------

TONE = SentimentRule(enabled=True, bonus=2, penalty=-3, positive_threshold=0.5, negative_threshold=-0.5)


def test_sentiment_bonus_and_penalty() -> None:
    matcher = SpeechMatcher(
        rules(forbidden={"bear": (["pooh"], -30)}, approved={"calm": (["calm"], 5)}, sentiment=TONE)
    )
    assert judged(matcher, "I love this wonderful, great day!") == [("sentiment", 2)]
    assert judged(matcher, "I hate this awful, terrible, horrible day.") == [("sentiment", -3)]
    assert judged(matcher, "the table is brown") == []
    # One reward at most: the approved phrase wins over a positive tone.
    assert judged(matcher, "I love this wonderful calm day!") == [("calm", 5)]
    # A negative tone is one more penalty, and voids any reward.
    assert judged(matcher, "I hate pooh, awful terrible bear") == [("bear", -30), ("sentiment", -3)]
    assert judged(matcher, "calm? I hate this awful terrible horrible place") == [("sentiment", -3)]


def test_a_disabled_sentiment_rule_is_not_consulted() -> None:
    matcher = SpeechMatcher(rules(sentiment=TONE.model_copy(update={"enabled": False})))
    assert judged(matcher, "I hate this awful, terrible, horrible day.") == []


# --- Gating rewards -----------------------------------------------------------------------------------

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
REWARDS = CLASSIC.rewards


def test_digest_ignores_case_spacing_and_punctuation() -> None:
    assert message_digest("Positive energy!") == message_digest("  positive   ENERGY")
    assert message_digest("positive energy") != message_digest("positive energy today")
    assert len(message_digest("x")) == 16


def test_judge_with_digest_is_judge_and_digest() -> None:
    matcher = SpeechMatcher.from_scenario(CLASSIC)
    for text in ["Positive energy!", "tank man", "nothing to see", "六四", ""]:
        assert matcher.judge_with_digest(text) == (matcher.judge_message(text), message_digest(text))


def test_one_reward_a_minute() -> None:
    digest = message_digest("positive energy")
    gate = {
        seconds: reward_gate(
            digest=digest,
            recent_digests=[],
            last_reward_at=NOW - timedelta(seconds=seconds),
            now=NOW,
            rules=REWARDS,
        )
        for seconds in (0, 59, 60, 3600)
    }
    assert gate == {
        0: RewardGate.TOO_SOON,
        59: RewardGate.TOO_SOON,
        60: RewardGate.ALLOWED,
        3600: RewardGate.ALLOWED,
    }
    never = reward_gate(digest=digest, recent_digests=[], last_reward_at=None, now=NOW, rules=REWARDS)
    assert never is RewardGate.ALLOWED


def test_no_reward_for_repeating_one_of_the_last_five_messages() -> None:
    recent: list[str] = []
    for text in ["positive energy!", "a", "b", "c", "d"]:
        recent = recent_digests_after(recent, message_digest(text), REWARDS)
    assert len(recent) == 5
    repeat = message_digest("Positive Energy")

    def gate(history: list[str]) -> RewardGate:
        return reward_gate(digest=repeat, recent_digests=history, last_reward_at=None, now=NOW, rules=REWARDS)

    assert gate(recent) is RewardGate.REPEAT
    # One more message pushes it out of the window.
    assert gate(recent_digests_after(recent, message_digest("e"), REWARDS)) is RewardGate.ALLOWED
    # Only the last repeat_window digests count, even if the caller keeps more.
    assert (
        gate([message_digest("positive energy"), *(message_digest(str(n)) for n in range(5))])
        is RewardGate.ALLOWED
    )


@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]), max_size=20))
def test_recent_digests_keep_the_last_window(texts: list[str]) -> None:
    recent: list[str] = []
    for text in texts:
        recent = recent_digests_after(recent, message_digest(text), REWARDS)
    assert recent == [message_digest(t) for t in texts][-REWARDS.repeat_window :]


def test_penalties_are_never_gated() -> None:
    penalty = SpeechFinding(FindingKind.FORBIDDEN, "crash", -40, "x")
    reward = SpeechFinding(FindingKind.APPROVED, "energy", 10, "y")
    assert gate_findings([penalty], RewardGate.TOO_SOON) == [penalty]
    assert gate_findings([reward], RewardGate.REPEAT) == []
    assert gate_findings([reward], RewardGate.ALLOWED) == [reward]
