"""Moderators' edits: pure functions from a Scenario to a new, re-validated Scenario (the old one is
never changed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from game.errors import ScenarioError, ScenarioProblem
from game.rules.speech import normalize_text
from game.scenario.fields import TopicKind
from game.scenario.loading import restore_scenario
from game.scenario.model import CatalogueItem, Scenario

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
