"""The audit's working state: the season's rules compiled once, each citizen's state, the new ledger rows.

Every ledger row the audit writes in Python goes through :meth:`LedgerRows.add` or
:meth:`LedgerRows.add_speech`, which clamp with :func:`game.rules.economy.clamp` and record the
delta *actually applied*: ``start + sum(deltas) == score`` holds whatever the bounds do.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from game.rules.economy import clamp
from game.rules.speech import SpeechFinding, SpeechMatcher
from game.scenario import Scenario, restore_scenario
from game.vocabulary import Dimension, SourceKind

__all__ = ["LEDGER_COLUMNS", "REASON_MAX", "CitizenState", "CompiledRules", "LedgerRows", "compile_rules"]

REASON_MAX = 300
_SPEECH = Dimension.SPEECH.value
_MESSAGE = SourceKind.MESSAGE.value

LEDGER_COLUMNS = (
    "season_id",
    "citizen_id",
    "audit_number",
    "dimension",
    "delta",
    "score_before",
    "score_after",
    "reason",
    "source_kind",
    "source_ref",
    "rule_key",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """A season's rules as the audit uses them, built once per version of the rules."""

    scenario: Scenario
    matcher: SpeechMatcher
    # tier key by score, indexed from score.minimum: tiering 10,000 citizens is a list look-up each.
    tier_by_score: tuple[str, ...]
    tier_rank: Mapping[str, int]
    item_reasons: Mapping[str, str]

    def tier_of(self, score: int) -> str:
        return self.tier_by_score[score - self.scenario.score.minimum]


@functools.lru_cache(maxsize=32)
def _compile_json(rules_json: str) -> CompiledRules:
    scenario = restore_scenario(json.loads(rules_json), source="the season's scenario")
    low, high = scenario.score.minimum, scenario.score.maximum
    return CompiledRules(
        scenario=scenario,
        matcher=SpeechMatcher.from_scenario(scenario),
        tier_by_score=tuple(scenario.tier_for(score).key for score in range(low, high + 1)),
        tier_rank={tier.key: rank for rank, tier in enumerate(scenario.tiers)},
        item_reasons={item.key: item.reason for item in scenario.catalogue},
    )


def compile_rules(rules: Mapping[str, Any]) -> CompiledRules:
    """Keyed by the rules' content: a moderator's edit is a new key, an unchanged season hits the cache."""
    return _compile_json(json.dumps(rules, sort_keys=True, separators=(",", ":")))


class CitizenState:
    """One citizen while the audit runs: the score and wallet as they move, and what they started at."""

    __slots__ = (
        "balance",
        "debt",
        "digests",
        "digests_changed",
        "display_name",
        "id",
        "last_reward_at",
        "penalty",
        "score",
        "start_score",
        "start_tier",
        "user_id",
    )

    def __init__(
        self,
        *,
        citizen_id: int,
        user_id: int,
        display_name: str,
        score: int,
        tier_key: str,
        balance: int,
        debt: int,
        last_reward_at: datetime | None,
        digests: list[str],
    ) -> None:
        self.id = citizen_id
        self.user_id = user_id
        self.display_name = display_name
        self.start_score = score
        self.score = score
        self.start_tier = tier_key
        self.balance = balance
        self.debt = debt
        self.last_reward_at = last_reward_at
        self.digests = digests
        self.digests_changed = False
        # The sum of the negative deltas applied in steps 1-3: what this citizen's friends pay for.
        self.penalty = 0


class LedgerRows:
    """The audit's new ledger rows, as driver tuples in :data:`LEDGER_COLUMNS` order."""

    __slots__ = ("audit_number", "high", "low", "rows", "season_id", "stamp")

    def __init__(self, *, season_id: int, audit_number: int, low: int, high: int, stamp: object) -> None:
        self.season_id = season_id
        self.audit_number = audit_number
        self.low = low
        self.high = high
        self.stamp = stamp  # the audit's time, as the driver takes it
        self.rows: list[tuple[Any, ...]] = []

    def add(
        self,
        citizen: CitizenState,
        *,
        dimension: Dimension,
        delta: int,
        reason: str,
        source_kind: SourceKind,
        source_ref: str | None,
        rule_key: str | None,
    ) -> int:
        """Apply ``delta`` to ``citizen``, clamped, and record it; returns the delta applied."""
        before = citizen.score
        after = clamp(before + delta, self.low, self.high)
        applied = after - before
        citizen.score = after
        if applied < 0:
            citizen.penalty += applied
        self.rows.append(
            (
                self.season_id,
                citizen.id,
                self.audit_number,
                dimension.value,
                applied,
                before,
                after,
                reason[:REASON_MAX],
                source_kind.value,
                source_ref,
                rule_key,
                self.stamp,
            )
        )
        return applied

    def add_speech(self, citizen: CitizenState, findings: Sequence[SpeechFinding], source_ref: str) -> None:
        """:meth:`add` for one message's findings (dimension speech, source the message): the audit's
        hot loop, without the enum look-ups per entry."""
        low, high, append = self.low, self.high, self.rows.append
        season_id, audit_number, stamp, citizen_id = self.season_id, self.audit_number, self.stamp, citizen.id
        for finding in findings:
            before = citizen.score
            after = clamp(before + finding.delta, low, high)
            applied = after - before
            citizen.score = after
            if applied < 0:
                citizen.penalty += applied
            append(
                (
                    season_id,
                    citizen_id,
                    audit_number,
                    _SPEECH,
                    applied,
                    before,
                    after,
                    finding.reason[:REASON_MAX],
                    _MESSAGE,
                    source_ref,
                    finding.rule_key,
                    stamp,
                )
            )
