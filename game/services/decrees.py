"""The moderators' decrees, and what the players may see of the timeline.

:func:`issue_decree` makes one of the pack's optional decrees take effect at once; :func:`revoke_decree`
ends one in force at once; :func:`decree_board` lists what is in force, what comes next and what may
be issued. Both writes lock the season row ``FOR UPDATE`` first (so no audit runs meanwhile and the
audit that follows plays by the new rules), then, for an amnesty, the citizens it pardons by id, as
every write path does (:mod:`game.services.lookup`). What taking effect does is shared with the audit
(:mod:`game.services.audits.decrees`); each change is in the ledger's reasons and the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import Conflict, ErrorCode, NotFound
from game.models import DecreeSource, Dimension, Season, SourceKind
from game.rules.decrees import expected_at
from game.scenario import Decree, EffectKind, Scenario
from game.scenario.timeline import Amnesty
from game.services.audits.decree_news import news_row
from game.services.audits.decrees import (
    RecordView,
    amnesty_reason,
    amnesty_targets,
    bring_in_line,
    decree_t,
    insert_record,
    outbox_t,
    rules_for,
    season_records,
)
from game.services.ledger import record_change
from game.services.lookup import lock_citizens, require_live_season_row, scenario_of

__all__ = [
    "DecreeBoard",
    "DecreeLine",
    "decree_board",
    "issue_decree",
    "revoke_decree",
    "rules_in_force",
    "scenario_in_force",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DecreeLine:
    """A decree as the bot lists it. For one that took effect: ``record_id``, when, from which audit to
    which (``until_audit`` ``None``: the end of the season) and about when that is (``until_at``); for
    one to come: ``expected_at``."""

    key: str
    name: str
    description: str
    optional: bool
    source: DecreeSource | None = None
    record_id: int | None = None
    took_effect_at: datetime | None = None
    from_audit: int | None = None
    until_audit: int | None = None
    until_at: datetime | None = None
    expected_at: datetime | None = None
    issued_by: int | None = None
    revoked_at: datetime | None = None
    revoked_by: int | None = None
    reversed_entries: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DecreeBoard:
    """The live season's decrees. ``public``: the pack lets players see ``in_force`` and ``coming``."""

    public: bool
    in_force: tuple[DecreeLine, ...]
    coming: tuple[DecreeLine, ...]
    optional: tuple[DecreeLine, ...]
    past: tuple[DecreeLine, ...]


def _audit_time(season: Season, audit_number: int) -> datetime:
    """About when audit ``audit_number`` falls on the season's grid (at most its deadline)."""
    step = timedelta(seconds=season.audit_every_s)
    return min(season.next_audit_at + step * (audit_number - season.last_audit_number - 1), season.ends_at)


def _line(decree: Decree, season: Season, record: RecordView | None = None) -> DecreeLine:
    if record is None:
        when = expected_at(
            decree,
            started_at=season.started_at,
            ends_at=season.ends_at,
            first_audit_at=season.started_at + timedelta(seconds=season.audit_every_s),
            audit_every=timedelta(seconds=season.audit_every_s),
        )
        return DecreeLine(
            key=decree.key,
            name=decree.name,
            description=decree.description,
            optional=decree.optional,
            expected_at=None if when is None else max(when, season.next_audit_at),
        )
    last = record.last_audit
    return DecreeLine(
        key=decree.key,
        name=decree.name,
        description=decree.description,
        optional=decree.optional,
        source=record.source,
        record_id=record.id,
        took_effect_at=record.took_effect_at,
        from_audit=record.after_audit + 1,
        until_audit=last,
        until_at=None if last is None else _audit_time(season, last),
        issued_by=record.issued_by,
        revoked_at=record.revoked_at,
        revoked_by=record.revoked_by,
        reversed_entries=record.reversed_entries,
    )


async def decree_board(session: AsyncSession, *, guild_id: int) -> DecreeBoard:
    """The live season's decrees: in force (for its next audit), to come, to issue, and past."""
    season = await require_live_season_row(session, guild_id=guild_id)
    assert season.id is not None
    base = scenario_of(season)
    records = await season_records(await session.connection(), season.id)
    upcoming = season.last_audit_number + 1
    in_force: list[DecreeLine] = []
    past: list[DecreeLine] = []
    for record in records:
        decree = _decree(base, record.key)
        if decree is None:
            continue
        (in_force if record.governs(upcoming) else past).append(_line(decree, season, record))
    taken = {record.key for record in records if record.source is DecreeSource.TIMELINE}
    coming = sorted(
        (_line(d, season) for d in base.timeline.scheduled if d.key not in taken),
        key=lambda line: (line.expected_at or season.ends_at, line.key),
    )
    active = {line.key for line in in_force}
    return DecreeBoard(
        public=base.timeline.public,
        in_force=tuple(in_force),
        coming=tuple(coming),
        optional=tuple(_line(d, season) for d in base.timeline.optional if d.key not in active),
        past=tuple(past),
    )


async def scenario_in_force(session: AsyncSession, season: Season, *, noted: bool = True) -> Scenario:
    """The season's rules with the decrees in force for its next audit (what the audit will play by,
    and what permits and the shop go by now). ``noted``: see :func:`game.rules.decrees.rules_in_force`."""
    base = scenario_of(season)
    if not base.timeline.decrees or season.id is None:
        return base
    records = await season_records(await session.connection(), season.id)
    return rules_for(base, records, season.last_audit_number + 1, noted=noted).scenario


async def rules_in_force(session: AsyncSession, *, guild_id: int) -> Scenario:
    """The live season's rules in force (:func:`scenario_in_force`), for the bot to show."""
    return await scenario_in_force(session, await require_live_season_row(session, guild_id=guild_id))


def _decree(base: Scenario, key: str) -> Decree | None:
    try:
        return base.timeline.decree(key)
    except KeyError:
        return None


async def issue_decree(
    session: AsyncSession, *, guild_id: int, key: str, moderator_id: int, now: datetime
) -> DecreeLine:
    """One of the pack's optional decrees takes effect now, for the audits from the next one on.

    ``NotFound`` when the pack has no such decree, ``Conflict`` when it is a scheduled decree (the
    timeline brings it) or already in force.
    """
    season = await require_live_season_row(session, guild_id=guild_id, lock=True)
    assert season.id is not None
    base = scenario_of(season)
    decree = _decree(base, key)
    choices = [d.key for d in base.timeline.optional]
    if decree is None:
        raise NotFound(ErrorCode.DECREE_NOT_FOUND, decree=key, choices=choices)
    if not decree.optional:
        raise Conflict(ErrorCode.DECREE_SCHEDULED, name=decree.name)
    connection = await session.connection()
    records = await season_records(connection, season.id)
    upcoming = season.last_audit_number + 1
    if any(r.key == key and r.governs(upcoming) for r in records):
        raise Conflict(ErrorCode.DECREE_IN_FORCE, name=decree.name)
    before = rules_for(base, records, upcoming)
    record = await insert_record(
        connection,
        season_id=season.id,
        decree=decree,
        source=DecreeSource.MODERATOR,
        issued_by=moderator_id,
        after_audit=season.last_audit_number,
        now=now,
    )
    points, pardoned, entries = await _amnesty(session, season.id, decree, record, now)
    if entries:
        await connection.execute(
            sa.update(decree_t).where(decree_t.c.id == record.id).values(reversed_entries=entries)
        )
    records = await season_records(connection, season.id)
    record = next(r for r in records if r.id == record.id)
    await _announce(session, season, record, decree, "took_effect", before.scenario, now, points, pardoned)
    await bring_in_line(
        connection, season_id=season.id, before=before, after=rules_for(base, records, upcoming)
    )
    await session.refresh(season)
    return _line(decree, season, record)


async def revoke_decree(
    session: AsyncSession, *, guild_id: int, key: str, moderator_id: int, now: datetime
) -> DecreeLine:
    """The decree ``key`` in force stops now: the next audit plays without it. (An amnesty already
    given is not taken back.) ``NotFound`` when no decree of that key is in force."""
    season = await require_live_season_row(session, guild_id=guild_id, lock=True)
    assert season.id is not None
    base = scenario_of(season)
    connection = await session.connection()
    records = await season_records(connection, season.id)
    upcoming = season.last_audit_number + 1
    record = next((r for r in records if r.key == key and r.governs(upcoming)), None)
    decree = _decree(base, key)
    if record is None or decree is None:
        raise NotFound(
            ErrorCode.DECREE_NOT_IN_FORCE, decree=key, choices=[r.key for r in records if r.governs(upcoming)]
        )
    before = rules_for(base, records, upcoming)
    await connection.execute(
        sa.update(decree_t)
        .where(decree_t.c.id == record.id)
        .values(revoked_at=now, revoked_by=moderator_id, revoked_after_audit=season.last_audit_number)
    )
    records = await season_records(connection, season.id)
    record = next(r for r in records if r.id == record.id)
    await _announce(session, season, record, decree, "revoked", before.scenario, now)
    await bring_in_line(
        connection, season_id=season.id, before=before, after=rules_for(base, records, upcoming)
    )
    await session.refresh(season)
    return _line(decree, season, record)


async def _amnesty(
    session: AsyncSession, season_id: int, decree: Decree, record: RecordView, now: datetime
) -> tuple[int, int, int]:
    """The amnesty's reversing entries, one per penalty: ``(points given back, citizens pardoned,
    entries written)``."""
    points = entries = 0
    pardoned: set[int] = set()
    for effect in decree.effects_of(EffectKind.AMNESTY):
        assert isinstance(effect, Amnesty)
        targets = await amnesty_targets(await session.connection(), season_id, effect.topic)
        # The lock order: the season (held above), then the citizens by id, then the rest.
        present = await lock_citizens(session, [row.citizen_id for row in targets])
        for entry_id, citizen_id, delta, dimension, reason, rule_key in targets:
            if citizen_id not in present:
                continue
            change = await record_change(
                session,
                citizen_id=citizen_id,
                delta=-delta,
                dimension=Dimension(dimension),
                reason=amnesty_reason(decree, entry_id, reason),
                source_kind=SourceKind.DECREE,
                source_ref=str(record.id),
                rule_key=rule_key,
                reverses_entry_id=entry_id,
                now=now,
            )
            points += change.delta
            entries += 1
            pardoned.add(citizen_id)
    return points, len(pardoned), entries


async def _announce(
    session: AsyncSession,
    season: Season,
    record: RecordView,
    decree: Decree,
    event: Literal["took_effect", "revoked"],
    scenario_before: Scenario,
    now: datetime,
    points: int = 0,
    pardoned: int = 0,
) -> None:
    assert season.id is not None
    row = news_row(
        guild_id=season.guild_id,
        record=record,
        decree=decree,
        event=event,
        scenario_before=scenario_before,
        base=scenario_of(season),
        next_audit_at=season.next_audit_at,
        next_audit=season.last_audit_number + 1,
        audit_every=timedelta(seconds=season.audit_every_s),
        ends_at=season.ends_at,
        season_id=season.id,
        now=now,
        reversed_points=points,
        pardoned=pardoned,
    )
    await (await session.connection()).execute(sa.insert(outbox_t), [row])
