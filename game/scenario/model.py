"""A scenario pack's parts and the whole :class:`Scenario`, validated by pydantic (frozen)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Self

from pydantic import (
    Field,
    StringConstraints,
    model_validator,
)

from game.rules.speech import normalize_text
from game.rules.tiers import tier_for
from game.scenario.fields import (
    Bonus,
    Credits,
    Duration,
    FrozenModel,
    Key,
    Name,
    Penalty,
    Phrase,
    Problems,
    Text,
    TopicKind,
)
from game.scenario.timeline import Timeline
from game.vocabulary import Dimension

# ---------------------------------------------------------------------------------------------------
# The parts of a scenario


class ScoreRules(FrozenModel):
    """The score range every score is clamped to, and where citizens start (classic 350..950, 600)."""

    minimum: int = Field(ge=0, le=100_000)
    maximum: int = Field(ge=1, le=100_000)
    start: int

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.maximum <= self.minimum:
            raise Problems([(("maximum",), f"must be above minimum ({self.minimum})")])
        if not self.minimum <= self.start <= self.maximum:
            raise Problems([(("start",), f"must be within {self.minimum}..{self.maximum}")])
        return self


class Tier(FrozenModel):
    """A band of scores with a name, perhaps a Discord role, and the restrictions it carries."""

    key: Key
    name: Name
    min_score: int
    max_score: int
    description: Text = ""
    # The Discord role the bot keeps in sync for this tier; None: no role.
    role: Name | None = None
    # Every shop price changes by this many percent (Untrustworthy +25); rounded up to whole credits.
    price_markup_percent: int = Field(default=0, gt=-100, le=1000)
    # "No travel items": may buy no item marked travel.
    travel_banned: bool = False
    # Holds a travel permit: may buy items that require one.
    travel_permit: bool = False

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.max_score < self.min_score:
            raise Problems([(("max_score",), f"must be at least min_score ({self.min_score})")])
        if self.travel_banned and self.travel_permit:
            raise Problems([(("travel_permit",), "cannot be true for a tier that is travel_banned")])
        return self


class _SpeechRule(FrozenModel):
    key: Key
    name: Name
    phrases: tuple[Phrase, ...] = Field(min_length=1, max_length=200)


class ForbiddenTopic(_SpeechRule):
    """Naming it costs ``penalty`` (classic -30 to -60), once per message."""

    penalty: Penalty


class PermitTopic(_SpeechRule):
    """An opinion that needs a permit; without one it costs ``penalty`` (classic -25), once per message."""

    penalty: Penalty


class ApprovedTalk(_SpeechRule):
    """Positive energy: earns ``bonus`` (classic +5 to +15), gated by the reward rules."""

    bonus: Bonus


class SentimentRule(FrozenModel):
    """VADER's compound score (-1..1): ``>= positive_threshold`` earns ``bonus``, ``<= negative_threshold``
    costs ``penalty``. VADER costs ~140 us a message, far more than the phrase matcher: off by default.
    """

    enabled: bool = False
    bonus: Bonus
    penalty: Penalty
    positive_threshold: float = Field(gt=0, le=1)
    negative_threshold: float = Field(ge=-1, lt=0)


class SpeechRules(FrozenModel):
    forbidden: tuple[ForbiddenTopic, ...] = ()
    permit_required: tuple[PermitTopic, ...] = ()
    approved: tuple[ApprovedTalk, ...] = ()
    sentiment: SentimentRule | None = None

    def topics(self) -> Iterable[tuple[TopicKind, int, ForbiddenTopic | PermitTopic | ApprovedTalk]]:
        for index, forbidden in enumerate(self.forbidden):
            yield TopicKind.FORBIDDEN, index, forbidden
        for index, permit in enumerate(self.permit_required):
            yield TopicKind.PERMIT_REQUIRED, index, permit
        for index, approved in enumerate(self.approved):
            yield TopicKind.APPROVED, index, approved

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        keys: dict[str, str] = {}
        phrases: dict[str, str] = {}
        for kind, index, rule in self.topics():
            where = f"speech.{kind.value}[{index}]"
            if rule.key in keys:
                problems.append(
                    ((kind.value, index, "key"), f"{rule.key!r} is already the key of {keys[rule.key]}")
                )
            else:
                keys[rule.key] = where
            for number, phrase in enumerate(rule.phrases):
                normal = normalize_text(phrase)
                if normal in phrases:
                    reason = (
                        f"{phrase!r} is already a phrase of {phrases[normal]} (a phrase belongs to one topic)"
                    )
                    problems.append(((kind.value, index, "phrases", number), reason))
                else:
                    phrases[normal] = f"{where} ({rule.key})"
        if problems:
            raise Problems(problems)
        return self


class PermitRules(FrozenModel):
    default_duration: Duration


class EconomyRules(FrozenModel):
    """Credits: what a citizen starts with, and what each audit pays and charges."""

    start_balance: Credits
    stipend: Credits
    cost_of_living: Credits
    # When a citizen cannot pay the cost of living (finance dimension).
    unpaid_penalty: Penalty


class FriendRules(FrozenModel):
    """Friends' penalties: ``max(cap_per_audit, trunc(factor * sum of friends' penalties))``."""

    factor: float = Field(ge=0, le=1)
    cap_per_audit: int = Field(le=0, ge=-1000)
    max_friends: int = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if round(self.factor, 3) != self.factor:
            raise Problems([(("factor",), "must have at most three decimals, such as 0.2 or 0.125")])
        return self

    @property
    def factor_fraction(self) -> Fraction:
        """The factor as an exact fraction (0.2 -> 1/5), for integer arithmetic in Python and SQL."""
        return Fraction(round(self.factor * 1000), 1000)

    @property
    def factor_numerator(self) -> int:
        return self.factor_fraction.numerator

    @property
    def factor_denominator(self) -> int:
        return self.factor_fraction.denominator


class RewardRules(FrozenModel):
    """At most one positive speech entry per ``min_interval``; no reward for a repeat of the last
    ``repeat_window`` messages (0: repeats allowed)."""

    min_interval: Duration
    repeat_window: int = Field(ge=0, le=100)


class SeasonDefaults(FrozenModel):
    duration: Duration
    audit_interval: Duration
    # The shortest audit interval a moderator may choose (10 s is meant for rehearsals).
    min_audit_interval: Duration

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.audit_interval < self.min_audit_interval:
            raise Problems([(("audit_interval",), "must not be shorter than min_audit_interval")])
        if self.audit_interval > self.duration:
            raise Problems([(("audit_interval",), "must not be longer than the season's duration")])
        return self


class CatalogueItem(FrozenModel):
    """Something the shop sells. Its score ``effect`` lands at the next audit, with ``reason`` as the
    ledger's words ("responsible parent")."""

    key: Key
    name: Name
    description: Text = ""
    price: Credits
    effect: int = Field(ge=-1000, le=1000)
    reason: Name
    dimension: Dimension = Dimension.CONSUMPTION
    # The lowest tier (its key) that may buy it; None: every tier.
    min_tier: Key | None = None
    # None: unlimited. At most a million: the shop's stock column is 32-bit.
    stock: int | None = Field(default=None, ge=0, le=1_000_000)
    # The buyer learns the effect only from the audit's ledger entry.
    hidden_until_audit: bool = False
    # A travel item: tiers with travel_banned may not buy it.
    travel: bool = False
    # Only tiers with travel_permit may buy it (implies travel).
    requires_travel_permit: bool = False

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.requires_travel_permit and not self.travel:
            raise Problems([(("travel",), "must be true for an item that requires a travel permit")])
        return self


class Scenario(FrozenModel):
    """A whole scenario pack. Tuples are in the order of the file; tiers ascend."""

    key: Key
    name: Name
    description: Text = Field(min_length=1)
    score: ScoreRules
    tiers: tuple[Tier, ...] = Field(min_length=1, max_length=25)
    speech: SpeechRules
    permits: PermitRules
    economy: EconomyRules
    friends: FriendRules
    rewards: RewardRules
    season: SeasonDefaults
    catalogue: tuple[CatalogueItem, ...] = ()
    # Decrees that change the rules as the season goes on (game.scenario.timeline).
    timeline: Timeline = Timeline()
    # Questions for the debrief, for a debate club to argue over.
    discussion_prompts: tuple[Annotated[str, StringConstraints(min_length=1, max_length=500)], ...] = Field(
        min_length=1
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        problems += self._tier_problems()
        problems += self._catalogue_problems()
        if problems:
            raise Problems(problems)
        return self

    def _tier_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        first, last = self.tiers[0], self.tiers[-1]
        if first.min_score != self.score.minimum:
            problems.append(
                (
                    ("tiers", 0, "min_score"),
                    f"must be {self.score.minimum}, the lowest score, so every score has a tier",
                )
            )
        for index in range(1, len(self.tiers)):
            below, tier = self.tiers[index - 1], self.tiers[index]
            if tier.min_score != below.max_score + 1:
                reason = (
                    f"must be {below.max_score + 1}, one above tiers[{index - 1}].max_score, so tiers "
                    "neither overlap nor leave a gap (list tiers from the lowest to the highest)"
                )
                problems.append((("tiers", index, "min_score"), reason))
        if last.max_score != self.score.maximum:
            problems.append(
                (
                    ("tiers", len(self.tiers) - 1, "max_score"),
                    f"must be {self.score.maximum}, the highest score, so every score has a tier",
                )
            )
        problems += _duplicates("tiers", [tier.key for tier in self.tiers], "key")
        roles: dict[str, int] = {}
        for index, tier in enumerate(self.tiers):
            if tier.role is None:
                continue
            if tier.role in roles:
                problems.append(
                    (
                        ("tiers", index, "role"),
                        f"{tier.role!r} is already the role of tiers[{roles[tier.role]}]",
                    )
                )
            else:
                roles[tier.role] = index
        return problems

    def _catalogue_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        problems = _duplicates("catalogue", [item.key for item in self.catalogue], "key")
        tier_keys = [tier.key for tier in self.tiers]
        for index, item in enumerate(self.catalogue):
            if item.min_tier is not None and item.min_tier not in tier_keys:
                problems.append(
                    (
                        ("catalogue", index, "min_tier"),
                        f"must be the key of a tier ({', '.join(tier_keys)}), not {item.min_tier!r}",
                    )
                )
            if item.requires_travel_permit and not any(tier.travel_permit for tier in self.tiers):
                problems.append(
                    (
                        ("catalogue", index, "requires_travel_permit"),
                        "no tier has travel_permit = true, so nobody could ever buy this item",
                    )
                )
        return problems

    # Look-ups --------------------------------------------------------------------------------------

    def tier_for(self, score: int) -> Tier:
        """The tier of a (clamped) score."""
        return tier_for(score, self.tiers)

    def tier(self, key: str) -> Tier:
        """The tier with this key; ``KeyError`` if there is none."""
        for tier in self.tiers:
            if tier.key == key:
                return tier
        raise KeyError(key)

    def item(self, key: str) -> CatalogueItem:
        """The catalogue item with this key; ``KeyError`` if there is none."""
        for item in self.catalogue:
            if item.key == key:
                return item
        raise KeyError(key)

    def topic(self, key: str) -> ForbiddenTopic | PermitTopic | ApprovedTalk:
        """The speech rule (of any kind) with this key; ``KeyError`` if there is none."""
        for _, _, rule in self.speech.topics():
            if rule.key == key:
                return rule
        raise KeyError(key)

    def summary(self) -> ScenarioSummary:
        return ScenarioSummary(key=self.key, name=self.name, description=self.description)


def _duplicates(section: str, values: Sequence[str], field: str) -> list[tuple[tuple[str | int, ...], str]]:
    seen: dict[str, int] = {}
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(
                ((section, index, field), f"{value!r} is already the {field} of {section}[{seen[value]}]")
            )
        else:
            seen[value] = index
    return problems


@dataclass(frozen=True, slots=True)
class ScenarioSummary:
    key: str
    name: str
    description: str
