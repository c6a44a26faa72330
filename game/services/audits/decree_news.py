"""How a decree is announced: what it changes, as facts, and the outbox row of its news."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from game.payloads import DecreeChange, DecreeNews, dump_payload, payload_kind
from game.scenario import Decree, EffectKind, Scenario
from game.scenario.timeline import (
    AddItem,
    Amnesty,
    ForbidTopic,
    FriendsFactor,
    LiftTopic,
    RequirePermit,
    SetPrice,
)

if TYPE_CHECKING:
    from game.services.audits.decrees import RecordView

__all__ = ["changes_of", "news_row"]


def changes_of(decree: Decree, scenario: Scenario, base: Scenario | None = None) -> tuple[DecreeChange, ...]:
    """What ``decree`` changes, as facts, with names and old values from ``scenario`` (the rules in
    force before it)."""
    # Topics by the season's own names where it has them (the rules in force may note a decree's
    # multiplier in a name), else as the rules in force name them.
    topics = {rule.key: rule for _, _, rule in scenario.speech.topics()}
    if base is not None:
        topics |= {rule.key: rule for _, _, rule in base.speech.topics()}
    items = {item.key: item for item in scenario.catalogue}
    changes: list[DecreeChange] = []
    for effect in decree.effects:
        kind = effect.kind.value
        if isinstance(effect, ForbidTopic | RequirePermit):
            changes.append(
                DecreeChange(
                    kind=kind, key=effect.key, name=effect.name, value=effect.penalty, phrases=effect.phrases
                )
            )
        elif isinstance(effect, LiftTopic | Amnesty):
            rule = topics.get(effect.topic)
            changes.append(
                DecreeChange(kind=kind, key=effect.topic, name=rule.name if rule else effect.topic)
            )
        elif isinstance(effect, SetPrice):
            old = items.get(effect.item)
            changes.append(
                DecreeChange(
                    kind=kind,
                    key=effect.item,
                    name=old.name if old else effect.item,
                    value=effect.price,
                    before=old.price if old else None,
                )
            )
        elif isinstance(effect, AddItem):
            changes.append(DecreeChange(kind=kind, key=effect.key, name=effect.name, value=effect.price))
        elif effect.kind == EffectKind.WITHDRAW_ITEM:
            key = effect.item
            changes.append(DecreeChange(kind=kind, key=key, name=items[key].name if key in items else key))
        elif isinstance(effect, FriendsFactor):
            changes.append(DecreeChange(kind=kind, value=effect.factor, before=scenario.friends.factor))
        elif effect.kind in (EffectKind.SCALE_PENALTIES, EffectKind.SCALE_REWARDS):
            changes.append(DecreeChange(kind=kind, value=effect.factor))
        else:
            changes.append(DecreeChange(kind=kind))
    return tuple(changes)


def news_row(
    *,
    guild_id: int,
    record: RecordView,
    decree: Decree,
    event: Literal["took_effect", "lapsed", "revoked"],
    scenario_before: Scenario,
    base: Scenario | None = None,
    next_audit_at: datetime,
    next_audit: int,
    audit_every: timedelta,
    ends_at: datetime,
    season_id: int,
    now: datetime,
    reversed_points: int = 0,
    pardoned: int = 0,
) -> dict[str, Any]:
    """The outbox row announcing ``record`` (``next_audit`` falls at ``next_audit_at``)."""
    last = record.last_audit
    until_at = None if last is None else next_audit_at + audit_every * (last - next_audit)
    payload = DecreeNews(
        season_id=season_id,
        record_id=record.id,
        event=event,
        decree_key=decree.key,
        name=decree.name,
        description=decree.description,
        changes=changes_of(decree, scenario_before, base),
        from_audit=record.after_audit + 1,
        until_audit=last,
        until_at=None if until_at is None else min(until_at, ends_at),
        ends_at=ends_at,
        issued_by=record.issued_by,
        revoked_by=record.revoked_by,
        reversed_entries=record.reversed_entries,
        reversed_points=reversed_points,
        pardoned=pardoned,
    )
    return {
        "guild_id": guild_id,
        "season_id": season_id,
        "kind": payload_kind(payload).value,
        "payload": dump_payload(payload),
        "created_at": now,
        "attempts": 0,
    }
