"""The rules in force: a season's scenario with the decrees in force at an audit.

A decree governs a run of audits: from the one after it took effect (``from_audit``) to
``until_audit`` (``None``: the end of the season), cut short when it is revoked. Every function here
is pure: the audit, the shop and the status look-ups pass the season's rules and its decree records
and get the same answer for the same audit.

How decrees combine, in the order they took effect:

1. Topics and items: a forbidden or permit topic is added (the same key again replaces it), a topic
   is lifted (one not in force is left alone), an item is added, repriced or withdrawn; the friends'
   factor is the last decree's.
2. Then the multipliers: speech penalties times the product of every ``scale-penalties`` factor (at
   most -1000, at least -1), speech rewards times the product of every ``scale-rewards`` (1..1000).

An amnesty changes no rule: it happens once, when its decree takes effect (the decree service writes
the reversing ledger entries). Mandatory enrolment is reported as a flag; the service keeps the
season's enrolment in step with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from game.scenario import Decree, Scenario

__all__ = [
    "DecreeSpan",
    "RulesInForce",
    "decrees_due",
    "expected_at",
    "in_force",
    "rules_at",
    "rules_in_force",
    "scaled",
    "span_after",
]

PENALTY_FLOOR = -1000
BONUS_CEILING = 1000


@dataclass(frozen=True, slots=True)
class DecreeSpan:
    """A decree that took effect, as the rules see it: which decree, and which audits it governs."""

    key: str
    from_audit: int
    until_audit: int | None = None

    def governs(self, audit_number: int) -> bool:
        return self.from_audit <= audit_number and (
            self.until_audit is None or audit_number <= self.until_audit
        )


def span_after(decree: Decree, *, after_audit: int, revoked_after: int | None = None) -> DecreeSpan:
    """The span of a decree that took effect after audit ``after_audit`` (0: before the first), cut at
    ``revoked_after`` (the last audit before it was revoked) if it was."""
    until = None if decree.lasts_audits is None else after_audit + decree.lasts_audits
    if revoked_after is not None:
        until = revoked_after if until is None else min(until, revoked_after)
    return DecreeSpan(key=decree.key, from_audit=after_audit + 1, until_audit=until)


def in_force(spans: Iterable[DecreeSpan], audit_number: int) -> list[DecreeSpan]:
    """The spans governing audit ``audit_number``, in the order given (the order they took effect)."""
    return [span for span in spans if span.governs(audit_number)]


def scaled(value: int, factor: Fraction, *, low: int, high: int) -> int:
    """``value * factor``, rounded half away from zero, kept within ``low..high``."""
    product = value * factor
    rounded = int(product + Fraction(1, 2)) if product >= 0 else -int(-product + Fraction(1, 2))
    return max(low, min(high, rounded))


def _factor(value: float) -> Fraction:
    return Fraction(round(value * 100), 100)


@dataclass(frozen=True, slots=True)
class RulesInForce:
    """The scenario to play by, the decrees that made it (in order), and whether enrolment is mandatory."""

    scenario: Scenario
    decrees: tuple[Decree, ...]
    mandatory_enrolment: bool


def rules_in_force(base: Scenario, decrees: Sequence[Decree], *, noted: bool = True) -> RulesInForce:
    """``base`` with ``decrees`` applied, in the order they took effect. ``base`` is not changed.
    ``noted``: a multiplied topic's name says which decree multiplied it (the ledger's reasons quote
    it); without, names stay the season's own."""
    # Imported here: the rules load no pydantic, and EffectKind lives with the pack's models.
    from game.scenario import CatalogueItem, EffectKind, ForbiddenTopic, PermitTopic
    from game.scenario.timeline import AddItem, ForbidTopic, FriendsFactor, LiftTopic, RequirePermit, SetPrice

    if not decrees:
        return RulesInForce(scenario=base, decrees=(), mandatory_enrolment=False)
    forbidden = {rule.key: rule for rule in base.speech.forbidden}
    permits = {rule.key: rule for rule in base.speech.permit_required}
    catalogue = {item.key: item for item in base.catalogue}
    friends = base.friends
    penalty_factor = reward_factor = Fraction(1)
    penalty_by: list[str] = []
    reward_by: list[str] = []
    added: set[str] = set()
    mandatory = False
    for decree in decrees:
        for effect in decree.effects:
            if isinstance(effect, ForbidTopic):
                permits.pop(effect.key, None)
                forbidden[effect.key] = ForbiddenTopic(
                    key=effect.key, name=effect.name, phrases=effect.phrases, penalty=effect.penalty
                )
                added.add(effect.key)
            elif isinstance(effect, RequirePermit):
                forbidden.pop(effect.key, None)
                permits[effect.key] = PermitTopic(
                    key=effect.key, name=effect.name, phrases=effect.phrases, penalty=effect.penalty
                )
                added.add(effect.key)
            elif isinstance(effect, LiftTopic):
                forbidden.pop(effect.topic, None)
                permits.pop(effect.topic, None)
            elif effect.kind == EffectKind.SCALE_PENALTIES:
                penalty_factor *= _factor(effect.factor)
                penalty_by.append(decree.name)
            elif effect.kind == EffectKind.SCALE_REWARDS:
                reward_factor *= _factor(effect.factor)
                reward_by.append(decree.name)
            elif isinstance(effect, SetPrice):
                if effect.item in catalogue:
                    catalogue[effect.item] = catalogue[effect.item].model_copy(update={"price": effect.price})
            elif isinstance(effect, AddItem):
                catalogue[effect.key] = CatalogueItem.model_validate(effect.model_dump(exclude={"kind"}))
            elif effect.kind == EffectKind.WITHDRAW_ITEM:
                catalogue.pop(effect.item, None)
            elif effect.kind == EffectKind.MANDATORY_ENROLMENT:
                mandatory = True
            elif isinstance(effect, FriendsFactor):
                friends = friends.model_copy(update={"factor": effect.factor})
    _keep_apart(forbidden, permits, base, added)
    penalty_note = _note(penalty_factor, penalty_by) if noted else ""
    reward_note = _note(reward_factor, reward_by) if noted else ""
    speech = base.speech.model_copy(
        update={
            "forbidden": tuple(
                rule.model_copy(
                    update={
                        "penalty": scaled(rule.penalty, penalty_factor, low=PENALTY_FLOOR, high=-1),
                        "name": _named(rule.name, penalty_note),
                    }
                )
                for rule in forbidden.values()
            ),
            "permit_required": tuple(
                rule.model_copy(
                    update={
                        "penalty": scaled(rule.penalty, penalty_factor, low=PENALTY_FLOOR, high=-1),
                        "name": _named(rule.name, penalty_note),
                    }
                )
                for rule in permits.values()
            ),
            "approved": tuple(
                rule.model_copy(
                    update={
                        "bonus": scaled(rule.bonus, reward_factor, low=1, high=BONUS_CEILING),
                        "name": _named(rule.name, reward_note),
                    }
                )
                for rule in base.speech.approved
            ),
        }
    )
    scenario = base.model_copy(
        update={"speech": speech, "catalogue": tuple(catalogue.values()), "friends": friends}
    )
    return RulesInForce(scenario=scenario, decrees=tuple(decrees), mandatory_enrolment=mandatory)


NAME_LIMIT = 100


def _note(factor: Fraction, by: Sequence[str]) -> str:
    """How the ledger's reasons name a multiplier: ``x2 by decree: The Crackdown``."""
    if factor == 1:
        return ""
    return f"x{float(factor):g} by decree: {', '.join(by)}"


def _named(name: str, note: str) -> str:
    """A topic's name with the decree behind its numbers, which the ledger's reasons quote."""
    if not note:
        return name
    return f"{name} ({note})"[:NAME_LIMIT]


def _keep_apart(forbidden: dict[str, Any], permits: dict[str, Any], base: Scenario, added: set[str]) -> None:
    """A phrase belongs to one topic, a key to one rule: a decree's topic gives up what the season's own
    topics hold (a moderator may have added one since the pack was checked), and is dropped if nothing
    is left, so the rules in force are always a valid scenario."""
    from game.rules.speech import normalize_text

    approved = {rule.key for rule in base.speech.approved}
    taken = {
        normalize_text(phrase)
        for rules in (forbidden, permits)
        for key, rule in rules.items()
        if key not in added
        for phrase in rule.phrases
    } | {normalize_text(phrase) for rule in base.speech.approved for phrase in rule.phrases}
    for rules in (forbidden, permits):
        for key in [key for key in rules if key in added]:
            kept = tuple(p for p in rules[key].phrases if normalize_text(p) not in taken)
            if key in approved or not kept:
                del rules[key]
                continue
            taken |= {normalize_text(p) for p in kept}
            if kept != rules[key].phrases:
                rules[key] = rules[key].model_copy(update={"phrases": kept})


def rules_at(
    base: Scenario, spans: Iterable[DecreeSpan], audit_number: int, *, noted: bool = True
) -> RulesInForce:
    """The rules governing audit ``audit_number``: ``base`` with the decrees whose spans govern it (a
    span whose decree is no longer in the season's timeline is skipped)."""
    decrees: list[Decree] = []
    for span in in_force(spans, audit_number):
        try:
            decrees.append(base.timeline.decree(span.key))
        except KeyError:
            continue
    return rules_in_force(base, decrees, noted=noted)


def expected_at(
    decree: Decree,
    *,
    started_at: datetime,
    ends_at: datetime,
    first_audit_at: datetime,
    audit_every: timedelta,
) -> datetime | None:
    """When a scheduled decree is due: ``at`` of the season's length after its start, or the time of
    audit ``after_audit`` on the season's grid. ``None`` for an optional decree."""
    if decree.at is not None:
        return started_at + (ends_at - started_at) * decree.at
    if decree.after_audit is not None:
        return first_audit_at + audit_every * (decree.after_audit - 1)
    return None


def decrees_due(
    timeline: Iterable[Decree],
    *,
    taken: Iterable[str],
    audit_number: int,
    now: datetime,
    started_at: datetime,
    ends_at: datetime,
) -> list[Decree]:
    """The scheduled decrees that take effect at the end of audit ``audit_number`` (held at ``now``):
    those not yet taken whose position is reached (``after_audit <= audit_number``, or ``at`` of the
    season's length has passed), in the timeline's order. An audit that catches up takes every decree
    it passed, at once."""
    done = set(taken)
    due: list[Decree] = []
    for decree in timeline:
        if decree.optional or decree.key in done:
            continue
        by_number = decree.after_audit is not None and decree.after_audit <= audit_number
        by_time = decree.at is not None and started_at + (ends_at - started_at) * decree.at <= now
        if by_number or by_time:
            due.append(decree)
    return due
