"""Scenario packs: every number of the game, as data.

A pack is a TOML file in ``data/`` (installed as the package ``citizen_score_data``), validated here
into a frozen :class:`Scenario`. A season keeps its own copy, ``scenario.model_dump(mode="json")``,
restored with :func:`restore_scenario` (or ``Scenario.model_validate``); moderators' edits go through
the ``with_*`` functions, which return a new, re-validated Scenario and never change the old one.

A pack that breaks a rule is refused with :class:`~game.errors.ScenarioError`, one line per problem:
``data/classic.toml: tiers[2].min_score: must be 650, one above tiers[1].max_score, ...``.
"""

from __future__ import annotations

import enum
import functools
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    model_validator,
)

from game.errors import DurationError, ScenarioError, ScenarioProblem, UnknownScenario
from game.rules.durations import compact_duration, parse_duration
from game.rules.speech import normalize_text
from game.rules.tiers import tier_for
from game.vocabulary import Dimension

__all__ = [
    "ApprovedTalk",
    "CatalogueItem",
    "Dimension",
    "EconomyRules",
    "ForbiddenTopic",
    "FriendRules",
    "PermitRules",
    "PermitTopic",
    "RewardRules",
    "Scenario",
    "ScenarioSummary",
    "ScoreRules",
    "SeasonDefaults",
    "SentimentRule",
    "SpeechRules",
    "Tier",
    "TopicKind",
    "available_scenarios",
    "load_scenario",
    "load_scenario_file",
    "parse_scenario",
    "restore_scenario",
    "with_item_added",
    "with_item_price",
    "with_item_removed",
    "with_phrase_added",
    "with_phrase_removed",
    "with_sentiment_enabled",
    "with_topic_added",
    "with_topic_delta",
    "with_topic_removed",
]

PACKAGE = "citizen_score_data"


class TopicKind(enum.StrEnum):
    """The three kinds of speech rule; the values are the TOML tables' names under ``[speech]``."""

    FORBIDDEN = "forbidden"
    PERMIT_REQUIRED = "permit_required"
    APPROVED = "approved"


# ---------------------------------------------------------------------------------------------------
# Field types


class _Problems(ValueError):
    """Cross-field problems, each with its path relative to the model that found it."""

    def __init__(self, problems: Sequence[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(reason for _, reason in problems))
        self.problems = list(problems)


_KEY = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?")


def _check_key(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValueError(
            "must be a short key (at most 40 characters) of lowercase letters, digits, '-' or '_', "
            f"such as 'video-game' (got {value!r})"
        )
    return value


def _check_phrase(value: str) -> str:
    if not normalize_text(value):
        raise ValueError(f"must contain at least one letter or digit (got {value!r})")
    return value


def _read_duration(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DurationError:
            raise ValueError(f"must be a duration such as '15m', '2h30m' or '7d' (got {value!r})") from None
    return value


def _check_duration(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero, such as '15m'")
    if value % timedelta(seconds=1):
        raise ValueError("must be a whole number of seconds")
    return value


Key = Annotated[str, AfterValidator(_check_key)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Phrase = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_check_phrase)
]
# Written "15m", "2h30m", "7d" in TOML; stored in the same compact form in a season's JSON copy.
Duration = Annotated[
    timedelta,
    BeforeValidator(_read_duration),
    AfterValidator(_check_duration),
    PlainSerializer(compact_duration, return_type=str, when_used="json"),
]
Penalty = Annotated[int, Field(lt=0, ge=-1000)]
Bonus = Annotated[int, Field(gt=0, le=1000)]
Credits = Annotated[int, Field(ge=0, le=1_000_000)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------------------------------------------
# The parts of a scenario


class ScoreRules(_Frozen):
    """The score range every score is clamped to, and where citizens start (classic 350..950, 600)."""

    minimum: int = Field(ge=0, le=100_000)
    maximum: int = Field(ge=1, le=100_000)
    start: int

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.maximum <= self.minimum:
            raise _Problems([(("maximum",), f"must be above minimum ({self.minimum})")])
        if not self.minimum <= self.start <= self.maximum:
            raise _Problems([(("start",), f"must be within {self.minimum}..{self.maximum}")])
        return self


class Tier(_Frozen):
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
            raise _Problems([(("max_score",), f"must be at least min_score ({self.min_score})")])
        if self.travel_banned and self.travel_permit:
            raise _Problems([(("travel_permit",), "cannot be true for a tier that is travel_banned")])
        return self


class _SpeechRule(_Frozen):
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


class SentimentRule(_Frozen):
    """VADER's compound score (-1..1): ``>= positive_threshold`` earns ``bonus``, ``<= negative_threshold``
    costs ``penalty``. VADER costs ~140 us a message, far more than the phrase matcher: off by default.
    """

    enabled: bool = False
    bonus: Bonus
    penalty: Penalty
    positive_threshold: float = Field(gt=0, le=1)
    negative_threshold: float = Field(ge=-1, lt=0)


class SpeechRules(_Frozen):
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
            raise _Problems(problems)
        return self


class PermitRules(_Frozen):
    default_duration: Duration


class EconomyRules(_Frozen):
    """Credits: what a citizen starts with, and what each audit pays and charges."""

    start_balance: Credits
    stipend: Credits
    cost_of_living: Credits
    # When a citizen cannot pay the cost of living (finance dimension).
    unpaid_penalty: Penalty


class FriendRules(_Frozen):
    """Friends' penalties: ``max(cap_per_audit, trunc(factor * sum of friends' penalties))``."""

    factor: float = Field(ge=0, le=1)
    cap_per_audit: int = Field(le=0, ge=-1000)
    max_friends: int = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if round(self.factor, 3) != self.factor:
            raise _Problems([(("factor",), "must have at most three decimals, such as 0.2 or 0.125")])
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


class RewardRules(_Frozen):
    """At most one positive speech entry per ``min_interval``; no reward for a repeat of the last
    ``repeat_window`` messages (0: repeats allowed)."""

    min_interval: Duration
    repeat_window: int = Field(ge=0, le=100)


class SeasonDefaults(_Frozen):
    duration: Duration
    audit_interval: Duration
    # The shortest audit interval a moderator may choose (10 s is meant for rehearsals).
    min_audit_interval: Duration

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.audit_interval < self.min_audit_interval:
            raise _Problems([(("audit_interval",), "must not be shorter than min_audit_interval")])
        if self.audit_interval > self.duration:
            raise _Problems([(("audit_interval",), "must not be longer than the season's duration")])
        return self


class CatalogueItem(_Frozen):
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
    # None: unlimited.
    stock: int | None = Field(default=None, ge=0)
    # The buyer learns the effect only from the audit's ledger entry.
    hidden_until_audit: bool = False
    # A travel item: tiers with travel_banned may not buy it.
    travel: bool = False
    # Only tiers with travel_permit may buy it (implies travel).
    requires_travel_permit: bool = False

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.requires_travel_permit and not self.travel:
            raise _Problems([(("travel",), "must be true for an item that requires a travel permit")])
        return self


class Scenario(_Frozen):
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
            raise _Problems(problems)
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


# ---------------------------------------------------------------------------------------------------
# Loading


def _field_path(location: Iterable[str | int]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


_REWORDINGS = (
    ("Input should be", "must be"),
    ("String should", "must"),
    ("Tuple should", "must"),
    ("List should", "must"),
    ("Value should", "must"),
)


def _reason(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field the Bureau recognises (check the spelling)"
    message = str(error["msg"])
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    for old, new in _REWORDINGS:
        if message.startswith(old):
            message = new + message[len(old) :]
            break
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= 40:
        message += f" (got {value!r})"
    return message


def _problems(error: ValidationError) -> list[ScenarioProblem]:
    problems: list[ScenarioProblem] = []
    for item in error.errors(include_url=False):
        location = list(item["loc"])
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, _Problems):
            problems += [
                ScenarioProblem(_field_path([*location, *path]), reason) for path, reason in cause.problems
            ]
        else:
            problems.append(ScenarioProblem(_field_path(location), _reason(item)))
    return problems


def restore_scenario(data: Mapping[str, Any], *, source: str = "stored scenario") -> Scenario:
    """Validate a scenario from plain data (a season's stored JSON copy, or a parsed TOML file)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(source, _problems(error)) from None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_scenario(text: str, *, source: str) -> Scenario:
    """A scenario from TOML text; ``source`` names it in error messages (a path, an attachment name)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        where = f"line {position.group(1)}, column {position.group(2)}" if position else ""
        reason = _TOML_POSITION.sub("", message)
        raise ScenarioError(source, [ScenarioProblem(where, f"TOML syntax: {reason}")]) from None
    return restore_scenario(data, source=source)


def load_scenario_file(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario pack from any TOML file."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(
            source, [ScenarioProblem("", f"cannot be read: {error.strerror or error}")]
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError(source, [ScenarioProblem("", "is not UTF-8 text")]) from None
    return parse_scenario(text, source=source)


def _shipped_files() -> dict[str, resources.abc.Traversable]:
    return {
        entry.name.removesuffix(".toml"): entry
        for entry in resources.files(PACKAGE).iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    }


@functools.cache
def _load_shipped(key: str) -> Scenario:
    files = _shipped_files()
    if key not in files:
        raise UnknownScenario(key, sorted(files))
    source = f"data/{key}.toml"
    scenario = parse_scenario(files[key].read_text(encoding="utf-8"), source=source)
    if scenario.key != key:
        raise ScenarioError(source, [ScenarioProblem("key", f"must be {key!r}, the name of the file")])
    return scenario


def load_scenario(key: str) -> Scenario:
    """A shipped pack by key (``classic``, ``debate-club``, ``game-night``). Raises ``UnknownScenario``
    (a ``ScenarioError`` and a ``NotFound``) for an unknown key, ``ScenarioError`` for a broken pack."""
    return _load_shipped(key)


def available_scenarios() -> list[ScenarioSummary]:
    """Every shipped pack, by key. A broken pack raises ``ScenarioError``: shipping one is a bug."""
    return [load_scenario(key).summary() for key in sorted(_shipped_files())]


# ---------------------------------------------------------------------------------------------------
# Moderators' edits: pure functions from a Scenario to a new, re-validated Scenario


def _edited(scenario: Scenario, edit: Callable[[dict[str, Any]], None]) -> Scenario:
    data = scenario.model_dump(mode="json")
    edit(data)
    return restore_scenario(data, source=f"scenario {scenario.key!r}")


def _refuse(scenario: Scenario, field: str, reason: str) -> ScenarioError:
    return ScenarioError(f"scenario {scenario.key!r}", [ScenarioProblem(field, reason)])


def _locate_topic(scenario: Scenario, key: str) -> tuple[str, int]:
    for kind, index, rule in scenario.speech.topics():
        if rule.key == key:
            return kind.value, index
    raise _refuse(scenario, "speech", f"there is no topic {key!r}")


def _locate_item(scenario: Scenario, key: str) -> int:
    for index, item in enumerate(scenario.catalogue):
        if item.key == key:
            return index
    raise _refuse(scenario, "catalogue", f"there is no item {key!r}")


def with_topic_added(
    scenario: Scenario, *, kind: TopicKind, key: str, name: str, phrases: Sequence[str], delta: int
) -> Scenario:
    """A new topic at the end of its kind's list; ``delta`` is its penalty (< 0) or bonus (> 0)."""
    rule: dict[str, Any] = {"key": key, "name": name, "phrases": list(phrases)}
    rule["bonus" if kind is TopicKind.APPROVED else "penalty"] = delta
    return _edited(scenario, lambda data: data["speech"][kind.value].append(rule))


def with_topic_removed(scenario: Scenario, key: str) -> Scenario:
    group, index = _locate_topic(scenario, key)
    return _edited(scenario, lambda data: data["speech"][group].pop(index))


def with_topic_delta(scenario: Scenario, key: str, delta: int) -> Scenario:
    """Change a topic's penalty (forbidden, permit) or bonus (approved)."""
    group, index = _locate_topic(scenario, key)
    field = "bonus" if group == TopicKind.APPROVED.value else "penalty"
    return _edited(scenario, lambda data: data["speech"][group][index].__setitem__(field, delta))


def with_phrase_added(scenario: Scenario, key: str, phrase: str) -> Scenario:
    group, index = _locate_topic(scenario, key)
    return _edited(scenario, lambda data: data["speech"][group][index]["phrases"].append(phrase))


def with_phrase_removed(scenario: Scenario, key: str, phrase: str) -> Scenario:
    """Remove a phrase, found as the matcher would find it (case and punctuation do not matter)."""
    group, index = _locate_topic(scenario, key)
    phrases = list(scenario.topic(key).phrases)
    wanted = normalize_text(phrase)
    kept = [p for p in phrases if normalize_text(p) != wanted]
    field = f"speech.{group}[{index}].phrases"
    if len(kept) == len(phrases):
        raise _refuse(scenario, field, f"topic {key!r} has no phrase {phrase!r}")
    if not kept:
        raise _refuse(scenario, field, f"{phrase!r} is the last phrase of {key!r}: remove the topic instead")
    return _edited(scenario, lambda data: data["speech"][group][index].__setitem__("phrases", kept))


def with_sentiment_enabled(scenario: Scenario, enabled: bool) -> Scenario:
    if scenario.speech.sentiment is None:
        raise _refuse(scenario, "speech.sentiment", "this scenario has no sentiment rule to switch")
    return _edited(scenario, lambda data: data["speech"]["sentiment"].__setitem__("enabled", enabled))


def with_item_price(scenario: Scenario, key: str, price: int) -> Scenario:
    index = _locate_item(scenario, key)
    return _edited(scenario, lambda data: data["catalogue"][index].__setitem__("price", price))


def with_item_added(scenario: Scenario, item: CatalogueItem | Mapping[str, Any]) -> Scenario:
    fields = item.model_dump(mode="json") if isinstance(item, CatalogueItem) else dict(item)
    return _edited(scenario, lambda data: data["catalogue"].append(fields))


def with_item_removed(scenario: Scenario, key: str) -> Scenario:
    index = _locate_item(scenario, key)
    return _edited(scenario, lambda data: data["catalogue"].pop(index))
