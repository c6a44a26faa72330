"""Judging what citizens say: the phrase matcher, the findings, and the gate on rewards.

Matching
    Phrases are plain text, never regular expressions. Text and phrases are folded the same way
    (:mod:`game.rules.folding`): case, accents, zero-width characters, look-alike letters of other
    scripts, digits and symbols written for letters, punctuation or spaces between the letters of a
    word and repeated letters do not hide a phrase. A phrase matches only as whole words: "tank man"
    matches "Tank-Man!", "the TANK   MAN", "T4nk M4n", "t.a.n.k m.a.n" and "tankman", never
    "tank manifesto" or "tanks". One Aho-Corasick automaton holds every folded form of every phrase
    of the scenario, built once per scenario; each message is folded once (and read a second time
    only when punctuation inside a word or spaced-out letters give it another reading).

Combining several matches in one message (:meth:`SpeechMatcher.judge_message`)
    1. Each forbidden topic counts at most once per message, however many of its phrases appear and
       however often; different forbidden topics each count.
    2. Each permit topic counts at most once, and only if the citizen holds no permit for it.
    3. Negative sentiment (if the scenario enables it) is one more penalty.
    4. At most one reward per message: the largest approved bonus matched (ties: the topic listed
       first); failing that, the positive-sentiment bonus. A message that carries any penalty earns
       no reward at all: the Bureau does not accept praise as payment for dissent.
    Findings come penalties first, in scenario order (forbidden, permit, sentiment), then the reward.

Gating rewards (:func:`reward_gate`)
    A reward is allowed only if the citizen's last positive speech entry is at least
    ``rewards.min_interval`` old and the message does not repeat (same :func:`message_digest`) one of
    the citizen's last ``rewards.repeat_window`` messages. Penalties are never gated.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ahocorasick

from game.rules.folding import fold_words, phrase_keys, readings

if TYPE_CHECKING:
    from game.scenario import RewardRules, Scenario, SentimentRule, SpeechRules

__all__ = [
    "SENTIMENT_RULE_KEY",
    "FindingKind",
    "RewardGate",
    "SpeechFinding",
    "SpeechMatcher",
    "gate_findings",
    "message_digest",
    "normalize_text",
    "recent_digests_after",
    "reward_gate",
]

SENTIMENT_RULE_KEY = "sentiment"


def normalize_text(text: str) -> str:
    """The canonical form of a text or phrase: its words reading (:func:`game.rules.folding.fold_words`),
    so ``"Tank-Man!"`` -> ``"tank man"`` and ``"T1ananmen"`` -> ``"tiananmen"``. Two phrases with the
    same canonical form are the same phrase to the matcher; digests are taken of it."""
    return fold_words(text)


class FindingKind(enum.StrEnum):
    FORBIDDEN = "forbidden"
    PERMIT_REQUIRED = "permit_required"
    APPROVED = "approved"
    SENTIMENT = "sentiment"


@dataclass(frozen=True, slots=True)
class SpeechFinding:
    """One rule a message triggered: the ledger entry the audit writes (dimension ``speech``).

    ``rule_key`` is the topic's key, or ``"sentiment"``; ``reason`` is the ledger's sentence.
    """

    kind: FindingKind
    rule_key: str
    delta: int
    reason: str

    @property
    def is_reward(self) -> bool:
        return self.delta > 0


@dataclass(frozen=True, slots=True)
class _Pattern:
    order: int  # the rule's place in the scenario: forbidden, then permit, then approved topics
    finding: SpeechFinding


@functools.cache
def _vader() -> Any:
    # Imported and built on first use only: loading the lexicon takes a while and most scenarios
    # leave the sentiment rule off. The analyser holds no state between calls.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


class SpeechMatcher:
    """Every phrase of a scenario compiled into one automaton. Build once per audit, reuse per message."""

    __slots__ = ("_automaton", "_empty", "_sentiment")

    def __init__(self, rules: SpeechRules) -> None:
        self._automaton: Any = ahocorasick.Automaton()
        self._sentiment: SentimentRule | None = (
            rules.sentiment if rules.sentiment is not None and rules.sentiment.enabled else None
        )
        order = 0
        for rule in rules.forbidden:
            order += 1
            for phrase in rule.phrases:
                reason = f'Forbidden topic, {rule.name}: "{phrase}"'
                self._add(
                    phrase,
                    _Pattern(order, SpeechFinding(FindingKind.FORBIDDEN, rule.key, rule.penalty, reason)),
                )
        for permit_rule in rules.permit_required:
            order += 1
            for phrase in permit_rule.phrases:
                reason = f'Opinion on {permit_rule.name} without a permit: "{phrase}"'
                finding = SpeechFinding(
                    FindingKind.PERMIT_REQUIRED, permit_rule.key, permit_rule.penalty, reason
                )
                self._add(phrase, _Pattern(order, finding))
        for approved in rules.approved:
            order += 1
            for phrase in approved.phrases:
                reason = f'{approved.name}: "{phrase}"'
                self._add(
                    phrase,
                    _Pattern(
                        order, SpeechFinding(FindingKind.APPROVED, approved.key, approved.bonus, reason)
                    ),
                )
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()
        if self._sentiment is not None:
            _vader()

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> SpeechMatcher:
        return cls(scenario.speech)

    def _add(self, phrase: str, pattern: _Pattern) -> None:
        # Every folded form of the phrase, padded both sides with the separator: that padding is what
        # makes every match a whole-word match. The scenario refuses duplicate phrases; should two
        # folded forms meet anyway, the first rule keeps it.
        for folded in phrase_keys(phrase):
            key = f" {folded} "
            if not self._automaton.exists(key):
                self._automaton.add_word(key, pattern)

    def judge_message(self, text: str, *, permits: frozenset[str] = frozenset()) -> list[SpeechFinding]:
        """The findings for one message; ``permits`` holds the keys of the citizen's active permits.

        See the module docstring for how several matches combine. An empty list means nothing to
        record. Rewards in the result are not yet gated: pass them through :func:`gate_findings`.
        """
        return self._judge(text, *readings(text), permits)

    def judge_with_digest(
        self, text: str, *, permits: frozenset[str] = frozenset()
    ) -> tuple[list[SpeechFinding], str]:
        """``judge_message`` and ``message_digest`` at once, normalising the text only once (the audit
        needs both for every message: the digest joins the citizen's recent digests either way)."""
        words, glued = readings(text)
        return self._judge(text, words, glued, permits), _digest(words)

    def _judge(
        self, text: str, words: str, glued: str | None, permits: frozenset[str]
    ) -> list[SpeechFinding]:
        hits: dict[int, SpeechFinding] | None = None
        if not self._empty:
            # Two spaces between the readings: no phrase (single spaces inside) spans both.
            padded = f" {words} " if glued is None else f" {words}  {glued} "
            for _end, pattern in self._automaton.iter(padded):
                if hits is None:
                    hits = {pattern.order: pattern.finding}
                elif pattern.order not in hits:
                    hits[pattern.order] = pattern.finding
        if hits is None and self._sentiment is None:
            return []
        findings: list[SpeechFinding] = []
        reward: SpeechFinding | None = None
        if hits is not None:
            for order in sorted(hits):
                finding = hits[order]
                if finding.kind is FindingKind.PERMIT_REQUIRED and finding.rule_key in permits:
                    continue
                if finding.delta < 0:
                    findings.append(finding)
                elif reward is None or finding.delta > reward.delta:
                    reward = finding
        if self._sentiment is not None:
            rule = self._sentiment
            compound = float(_vader().polarity_scores(text)["compound"])
            if compound <= rule.negative_threshold:
                findings.append(
                    SpeechFinding(
                        FindingKind.SENTIMENT,
                        SENTIMENT_RULE_KEY,
                        rule.penalty,
                        f"Tone: insufficiently positive (sentiment {compound:+.2f})",
                    )
                )
            elif compound >= rule.positive_threshold and reward is None:
                reward = SpeechFinding(
                    FindingKind.SENTIMENT,
                    SENTIMENT_RULE_KEY,
                    rule.bonus,
                    f"Tone: commendably positive (sentiment {compound:+.2f})",
                )
        if reward is not None and not findings:
            findings.append(reward)
        return findings


def message_digest(text: str) -> str:
    """A 16-hex-digit fingerprint of the normalised text, to spot repeats without keeping the text.

    "Positive energy!" and "positive   ENERGY" have the same digest.
    """
    return _digest(normalize_text(text))


def _digest(normalized: str) -> str:
    return hashlib.blake2b(normalized.encode("utf-8"), digest_size=8).hexdigest()


class RewardGate(enum.StrEnum):
    ALLOWED = "allowed"
    TOO_SOON = "too_soon"  # a positive speech entry less than rewards.min_interval ago
    REPEAT = "repeat"  # the message repeats one of the citizen's last rewards.repeat_window


def reward_gate(
    *,
    digest: str,
    recent_digests: Sequence[str],
    last_reward_at: datetime | None,
    now: datetime,
    rules: RewardRules,
) -> RewardGate:
    """May this message's reward be paid?

    ``recent_digests`` are the digests of the citizen's previous messages, oldest first (only the last
    ``rules.repeat_window`` count), whether or not they earned anything; ``last_reward_at`` is the time
    of the citizen's last positive speech entry; ``now`` is the message's time. Only
    ``rules.min_interval`` and ``rules.repeat_window`` are read.
    """
    window = rules.repeat_window
    if window and digest in recent_digests[-window:]:
        return RewardGate.REPEAT
    if last_reward_at is not None and now - last_reward_at < rules.min_interval:
        return RewardGate.TOO_SOON
    return RewardGate.ALLOWED


def recent_digests_after(recent_digests: Sequence[str], digest: str, rules: RewardRules) -> list[str]:
    """The citizen's recent digests once this message is added: the last ``repeat_window``, oldest first."""
    window = rules.repeat_window
    if window == 0:
        return []
    return [*recent_digests, digest][-window:]


def gate_findings(findings: Iterable[SpeechFinding], gate: RewardGate) -> list[SpeechFinding]:
    """``findings`` without their reward unless ``gate`` allows it; penalties always pass."""
    if gate is RewardGate.ALLOWED:
        return list(findings)
    return [finding for finding in findings if not finding.is_reward]
