"""A scenario's timeline of decrees: how the rules change as the season goes on.

A decree stands at a position relative to the season, ``at`` (a fraction of its length, so a two-hour
game night and a week-long season both get the whole story) or ``after_audit`` (a number), or is
``optional``: on no timeline, for the moderators to issue when they like. It lasts ``lasts_audits``
audits, or until the season ends. Its ``effects`` change the rules in force (:mod:`game.rules.decrees`
computes them); an amnesty reverses a topic's penalties through the ledger when the decree takes effect.

In TOML::

    [timeline]
    public = true                     # /season status and /help show what is in force and what comes

    [[timeline.decrees]]
    key = "crackdown"
    name = "The Crackdown"
    at = 0.5                          # half-way through the season
    lasts_audits = 3

    [[timeline.decrees.effects]]
    kind = "scale-penalties"
    factor = 2

The checks that need the rest of the pack (a lifted topic exists, an item is in the shop) are in
:func:`timeline_problems`, run when a pack is loaded.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import Field, model_validator

from game.rules.speech import normalize_text
from game.scenario.fields import Credits, FrozenModel, Key, Name, Penalty, Phrase, Problems, Text
from game.vocabulary import Dimension

if TYPE_CHECKING:
    from game.scenario.model import Scenario

__all__ = [
    "AddItem",
    "Amnesty",
    "Decree",
    "DecreeEffect",
    "EffectKind",
    "ForbidTopic",
    "FriendsFactor",
    "LiftTopic",
    "MandatoryEnrolment",
    "RequirePermit",
    "ScalePenalties",
    "ScaleRewards",
    "SetPrice",
    "Timeline",
    "WithdrawItem",
    "timeline_problems",
]

ProblemList = list[tuple[tuple[str | int, ...], str]]


class EffectKind(enum.StrEnum):
    """What a decree can do; the values are the ``kind`` written in the pack."""

    FORBID_TOPIC = "forbid-topic"
    REQUIRE_PERMIT = "require-permit"
    LIFT_TOPIC = "lift-topic"
    SCALE_PENALTIES = "scale-penalties"
    SCALE_REWARDS = "scale-rewards"
    SET_PRICE = "set-price"
    ADD_ITEM = "add-item"
    WITHDRAW_ITEM = "withdraw-item"
    MANDATORY_ENROLMENT = "mandatory-enrolment"
    AMNESTY = "amnesty"
    FRIENDS_FACTOR = "friends-factor"


Factor = Annotated[float, Field(gt=0, le=10)]


class ForbidTopic(FrozenModel):
    """A new forbidden topic (or a harsher one: the same key as a topic already forbidden replaces it)."""

    kind: Literal[EffectKind.FORBID_TOPIC]
    key: Key
    name: Name
    phrases: tuple[Phrase, ...] = Field(min_length=1, max_length=200)
    penalty: Penalty


class RequirePermit(FrozenModel):
    """A new topic that needs a permit."""

    kind: Literal[EffectKind.REQUIRE_PERMIT]
    key: Key
    name: Name
    phrases: tuple[Phrase, ...] = Field(min_length=1, max_length=200)
    penalty: Penalty


class LiftTopic(FrozenModel):
    """A forbidden or permit topic may be spoken of freely (a topic not in force is left alone)."""

    kind: Literal[EffectKind.LIFT_TOPIC]
    topic: Key


class ScalePenalties(FrozenModel):
    """Every speech penalty (forbidden and permit topics) times ``factor``, at most -1000."""

    kind: Literal[EffectKind.SCALE_PENALTIES]
    factor: Factor

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_factor_field(self.factor)
        return self


class ScaleRewards(FrozenModel):
    """Every speech reward (approved talk) times ``factor``, at least 1 and at most 1000."""

    kind: Literal[EffectKind.SCALE_REWARDS]
    factor: Factor

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_factor_field(self.factor)
        return self


class SetPrice(FrozenModel):
    kind: Literal[EffectKind.SET_PRICE]
    item: Key
    price: Credits


class AddItem(FrozenModel):
    """An item the shop sells while the decree is in force (fields as a catalogue entry's)."""

    kind: Literal[EffectKind.ADD_ITEM]
    key: Key
    name: Name
    description: Text = ""
    price: Credits
    effect: int = Field(ge=-1000, le=1000)
    reason: Name
    dimension: Dimension = Dimension.CONSUMPTION
    min_tier: Key | None = None
    stock: int | None = Field(default=None, ge=0)


class WithdrawItem(FrozenModel):
    kind: Literal[EffectKind.WITHDRAW_ITEM]
    item: Key


class MandatoryEnrolment(FrozenModel):
    """Members are enrolled when they first speak in a game channel (voluntary again when it ends)."""

    kind: Literal[EffectKind.MANDATORY_ENROLMENT]


class Amnesty(FrozenModel):
    """When the decree takes effect, every penalty for ``topic`` so far is reversed by a new ledger
    entry (history is never edited)."""

    kind: Literal[EffectKind.AMNESTY]
    topic: Key


class FriendsFactor(FrozenModel):
    """Friends pay ``factor`` of each other's penalties (instead of the pack's factor)."""

    kind: Literal[EffectKind.FRIENDS_FACTOR]
    factor: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if round(self.factor, 3) != self.factor:
            raise Problems([(("factor",), "must have at most three decimals, such as 0.2 or 0.125")])
        return self


def _check_factor_field(value: float) -> None:
    if round(value, 2) != value:
        raise Problems([(("factor",), f"must have at most two decimals, such as 2 or 1.5 (got {value!r})")])


DecreeEffect = Annotated[
    ForbidTopic
    | RequirePermit
    | LiftTopic
    | ScalePenalties
    | ScaleRewards
    | SetPrice
    | AddItem
    | WithdrawItem
    | MandatoryEnrolment
    | Amnesty
    | FriendsFactor,
    Field(discriminator="kind"),
]

# One-off effects: they happen once, when the decree takes effect, so "for N audits" means nothing.
_ONE_OFF = (EffectKind.AMNESTY,)


class Decree(FrozenModel):
    """One decree of the timeline (or an optional one, for the moderators to issue)."""

    key: Key
    name: Name
    # What the announcement says besides the changes themselves ("The Bureau has noticed ...").
    description: Text = ""
    # Where it stands: a fraction of the season (0 < at < 1), or after audit N; neither when optional.
    at: float | None = Field(default=None, gt=0, lt=1)
    after_audit: int | None = Field(default=None, ge=1, le=100_000)
    optional: bool = False
    # In force for this many audits after it takes effect; None: until the season ends (or revoked).
    lasts_audits: int | None = Field(default=None, ge=1, le=100_000)
    effects: tuple[DecreeEffect, ...] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems: ProblemList = []
        placed = (self.at is not None) + (self.after_audit is not None)
        if self.optional and placed:
            problems.append(
                (
                    ("optional",),
                    "an optional decree is issued by the moderators: give it no at or after_audit",
                )
            )
        elif not self.optional and placed != 1:
            problems.append(
                (
                    ("at",),
                    (
                        "give exactly one of at (a fraction of the season, such as 0.5) or after_audit "
                        "(an audit number), or set optional = true"
                    ),
                )
            )
        if self.lasts_audits is not None and all(effect.kind in _ONE_OFF for effect in self.effects):
            problems.append((("lasts_audits",), "an amnesty happens once: it cannot last for audits"))
        if problems:
            raise Problems(problems)
        return self

    def effects_of(self, kind: EffectKind) -> Iterable[DecreeEffect]:
        return (effect for effect in self.effects if effect.kind == kind)


class Timeline(FrozenModel):
    """The pack's decrees. ``public``: players see what is in force and what comes next."""

    public: bool = False
    decrees: tuple[Decree, ...] = Field(default=(), max_length=100)

    def decree(self, key: str) -> Decree:
        """The decree with this key; ``KeyError`` if there is none."""
        for decree in self.decrees:
            if decree.key == key:
                return decree
        raise KeyError(key)

    @property
    def scheduled(self) -> tuple[Decree, ...]:
        return tuple(decree for decree in self.decrees if not decree.optional)

    @property
    def optional(self) -> tuple[Decree, ...]:
        return tuple(decree for decree in self.decrees if decree.optional)

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems: ProblemList = []
        seen: dict[str, int] = {}
        for index, decree in enumerate(self.decrees):
            if decree.key in seen:
                problems.append(
                    (
                        ("decrees", index, "key"),
                        f"{decree.key!r} is already the key of decrees[{seen[decree.key]}]",
                    )
                )
            else:
                seen[decree.key] = index
        if problems:
            raise Problems(problems)
        return self


def timeline_problems(scenario: Scenario) -> ProblemList:
    """What in the timeline does not fit the rest of the pack, with paths from the scenario's root:
    topics and items a decree names must exist (in the pack, or added by a decree of the timeline); a
    topic a decree adds must not take a key or a phrase of the pack's own topics."""
    problems: ProblemList = []
    base_topics = {rule.key: rule for _, _, rule in scenario.speech.topics()}
    base_phrases = {
        normalize_text(phrase): rule.key for _, _, rule in scenario.speech.topics() for phrase in rule.phrases
    }
    base_items = {item.key for item in scenario.catalogue}
    tier_keys = [tier.key for tier in scenario.tiers]
    decrees = scenario.timeline.decrees
    added_topics = {
        effect.key
        for decree in decrees
        for effect in decree.effects
        if isinstance(effect, ForbidTopic | RequirePermit)
    }
    added_items = {
        effect.key for decree in decrees for effect in decree.effects if isinstance(effect, AddItem)
    }
    for index, decree in enumerate(decrees):
        for number, effect in enumerate(decree.effects):
            where: tuple[str | int, ...] = ("timeline", "decrees", index, "effects", number)
            if isinstance(effect, ForbidTopic | RequirePermit):
                if effect.key in base_topics:
                    problems.append(
                        (
                            (*where, "key"),
                            f"{effect.key!r} is already a topic of the pack: choose another key",
                        )
                    )
                for position, phrase in enumerate(effect.phrases):
                    owner = base_phrases.get(normalize_text(phrase))
                    if owner is not None:
                        problems.append(
                            (
                                (*where, "phrases", position),
                                (
                                    f"{phrase!r} is already a phrase of the pack's topic {owner!r} "
                                    "(a phrase belongs to one topic)"
                                ),
                            )
                        )
            elif isinstance(effect, LiftTopic | Amnesty):
                rule = base_topics.get(effect.topic)
                if effect.topic not in added_topics and rule is None:
                    problems.append(
                        ((*where, "topic"), f"there is no topic {effect.topic!r} in the pack or its timeline")
                    )
                elif isinstance(effect, LiftTopic) and rule is not None and not hasattr(rule, "penalty"):
                    problems.append(
                        ((*where, "topic"), f"{effect.topic!r} is approved talk: only penalties are lifted")
                    )
            elif isinstance(effect, SetPrice | WithdrawItem):
                if effect.item not in base_items and effect.item not in added_items:
                    problems.append(
                        ((*where, "item"), f"there is no item {effect.item!r} in the shop or the timeline")
                    )
            elif isinstance(effect, AddItem):
                if effect.key in base_items:
                    problems.append(((*where, "key"), f"{effect.key!r} is already an item of the shop"))
                if effect.min_tier is not None and effect.min_tier not in tier_keys:
                    problems.append(
                        (
                            (*where, "min_tier"),
                            f"must be the key of a tier ({', '.join(tier_keys)}), not {effect.min_tier!r}",
                        )
                    )
    return problems
