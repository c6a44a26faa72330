"""Seasons: start, pause, resume, end; enrolment; the season's own copy of the rules.

A guild has at most one season that is not over (running or paused); the partial unique index
``uq_season_one_live_per_guild`` enforces it even when two ``/season start`` race. A season copies its
scenario into ``season.rules`` and its catalogue into ``shop_item`` at start, so moderators' edits
change that season only, and past seasons keep the rules they were played by.

Scheduling is the caller's business: after :func:`start_season`, :func:`resume_season` call
``SeasonScheduler.schedule_season(view)`` (a :class:`SeasonView` has what it reads); after
:func:`pause_season` and :func:`end_season`, ``unschedule_season(view.id)``. A season ends at its
deadline by itself (the audit engine's last audit); :func:`end_season` ends it early the same way.
After an enrolment or rules edit, refresh the message recorder's cache (``bot.game_state_changed(guild_id)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.db import is_unique_violation, transaction
from game.errors import (
    Conflict,
    ErrorCode,
    InvalidInput,
    NotFound,
)
from game.inputs import check_number
from game.models import (
    Citizen,
    Enrollment,
    GameChannel,
    Permit,
    RequestStatus,
    Season,
    SeasonStatus,
    ShopItem,
)
from game.payloads import SeasonStart
from game.rules.durations import MAXIMUM_DURATION
from game.scenario import (
    Scenario,
    load_scenario,
)
from game.services.audits import AuditResult, run_due_audit
from game.services.lookup import live_season_row, require_live_season_row, scenario_of, shop_row
from game.services.outbox import outbox_row

if TYPE_CHECKING:
    from game.services.recorder import MessageRecorder

__all__ = [
    "MAX_SEASON_NUMBER",
    "SeasonSummary",
    "SeasonView",
    "StandingLine",
    "current_season",
    "end_season",
    "get_season",
    "open_first_season",
    "past_seasons",
    "pause_season",
    "resume_season",
    "season_announcement",
    "season_rules",
    "set_enrollment",
    "shop_row",
    "standings",
    "start_season",
]

STANDINGS_IN_ANNOUNCEMENT = 10
# The highest season number anyone may ask for; Discord's option has the same bound.
MAX_SEASON_NUMBER = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SeasonView:
    """A season as the bot shows it. ``audit_every`` and the times are exact; ``citizens`` is a count."""

    id: int
    guild_id: int
    number: int
    scenario_key: str
    scenario_name: str
    status: SeasonStatus
    enrollment: Enrollment
    audit_every: timedelta
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    paused_at: datetime | None
    next_audit_at: datetime
    last_audit_number: int
    citizens: int
    started_by: int | None

    @property
    def audit_every_s(self) -> int:
        """The interval in seconds (what ``SeasonScheduler.schedule_season`` reads)."""
        return int(self.audit_every.total_seconds())

    @property
    def is_live(self) -> bool:
        return self.status is not SeasonStatus.ENDED

    def time_left(self, now: datetime) -> timedelta:
        """Season time still to play: frozen while paused, zero once over."""
        if self.status is SeasonStatus.ENDED:
            return timedelta(0)
        reference = self.paused_at if self.status is SeasonStatus.PAUSED and self.paused_at else now
        return max(self.ends_at - reference, timedelta(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class StandingLine:
    """One citizen in the final standings (``rank`` is shared by equal scores: 1, 2, 2, 4)."""

    rank: int
    citizen_id: int
    number: int
    user_id: int
    display_name: str
    score: int
    tier_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SeasonSummary:
    """A season that just ended, with its top standings (the whole list: ``queries.final_standings``).

    ``audit`` is the last audit if this call ran it (``None`` when a scheduled audit ended it first)."""

    season: SeasonView
    audit: AuditResult | None
    top: tuple[StandingLine, ...]


async def _citizen_count(session: AsyncSession, season_id: int) -> int:
    return (
        await session.exec(select(sa.func.count()).select_from(Citizen).where(Citizen.season_id == season_id))
    ).one()


async def _view(session: AsyncSession, season: Season) -> SeasonView:
    assert season.id is not None
    return SeasonView(
        id=season.id,
        guild_id=season.guild_id,
        number=season.number,
        scenario_key=season.scenario_key,
        scenario_name=str(season.rules.get("name", season.scenario_key)),
        status=SeasonStatus(season.status),
        enrollment=Enrollment(season.enrollment),
        audit_every=timedelta(seconds=season.audit_every_s),
        started_at=season.started_at,
        ends_at=season.ends_at,
        ended_at=season.ended_at,
        paused_at=season.paused_at,
        next_audit_at=season.next_audit_at,
        last_audit_number=season.last_audit_number,
        citizens=await _citizen_count(session, season.id),
        started_by=season.started_by,
    )


# ---------------------------------------------------------------------------------------------------
# Start, status, pause, resume, end


# A server that has never played opens its first season with the first /join, on this pack's defaults.
FIRST_SEASON_SCENARIO = "classic"


async def open_first_season(session: AsyncSession, *, guild_id: int, now: datetime) -> SeasonView | None:
    """Open the guild's first season (the classic pack, its defaults) if it has never had one.

    So a server that has just invited the bot can play at once; moderators can end it and start
    another scenario whenever they like. ``None`` when the guild has had a season before (a running,
    paused or ended one): then only the Bureau starts seasons.
    """
    held = (
        await session.exec(select(sa.func.count()).select_from(Season).where(Season.guild_id == guild_id))
    ).one()
    if held:
        return None
    return await start_season(session, guild_id=guild_id, scenario_key=FIRST_SEASON_SCENARIO, now=now)


async def start_season(
    session: AsyncSession,
    *,
    guild_id: int,
    scenario_key: str,
    now: datetime,
    duration: timedelta | None = None,
    audit_every: timedelta | None = None,
    enrollment: Enrollment = Enrollment.VOLUNTARY,
    started_by: int | None = None,
    announce: bool = False,
) -> SeasonView:
    """Start a season of ``scenario_key`` (its defaults for whatever duration or interval is not given).

    With ``announce``, the announcement (:func:`season_announcement`) is queued in the outbox, in the
    same transaction. Raises ``UnknownScenario`` / ``ScenarioError`` for the pack, ``InvalidInput`` for
    a duration or an audit interval out of range, ``Conflict`` when a season is already live here.
    """
    scenario = load_scenario(scenario_key)
    duration = scenario.season.duration if duration is None else duration
    audit_every = scenario.season.audit_interval if audit_every is None else audit_every
    floor = scenario.season.min_audit_interval
    if duration <= timedelta(0) or duration > MAXIMUM_DURATION:
        raise InvalidInput(ErrorCode.SEASON_DURATION_OUT_OF_RANGE, maximum=MAXIMUM_DURATION)
    if audit_every < floor:
        raise InvalidInput(ErrorCode.AUDIT_INTERVAL_TOO_SHORT, floor=floor, scenario=scenario.name)
    if audit_every > duration:
        raise InvalidInput(ErrorCode.AUDIT_INTERVAL_TOO_LONG, interval=audit_every, duration=duration)
    if audit_every % timedelta(seconds=1):
        raise InvalidInput(ErrorCode.AUDIT_INTERVAL_FRACTION)
    if await live_season_row(session, guild_id=guild_id) is not None:
        raise _already_live()
    last_number = (
        await session.exec(select(sa.func.max(Season.number)).where(Season.guild_id == guild_id))
    ).one()
    season = Season(
        guild_id=guild_id,
        number=(last_number or 0) + 1,
        scenario_key=scenario.key,
        rules=scenario.model_dump(mode="json"),
        status=SeasonStatus.RUNNING,
        enrollment=enrollment,
        audit_every_s=int(audit_every.total_seconds()),
        started_at=now,
        ends_at=now + duration,
        next_audit_at=now + audit_every,
        started_by=started_by,
    )
    session.add(season)
    try:
        await session.flush()
    except IntegrityError as error:
        # Another /season start won the race between our check and our insert.
        if is_unique_violation(error):
            raise _already_live() from None
        raise
    assert season.id is not None
    if scenario.catalogue:
        await session.exec(
            sa.insert(ShopItem), params=[shop_row(season.id, item) for item in scenario.catalogue]
        )
    view = await _view(session, season)
    if announce:
        session.add(
            outbox_row(
                guild_id=guild_id,
                season_id=season.id,
                payload=await season_announcement(session, view=view),
                now=now,
            )
        )
    return view


async def season_announcement(session: AsyncSession, *, view: SeasonView) -> SeasonStart:
    """What the start of a season tells the players: the scenario, how long, how often, where."""
    season = await session.get(Season, view.id)
    assert season is not None
    channels = (
        await session.exec(
            select(GameChannel.channel_id)
            .where(GameChannel.guild_id == view.guild_id)
            .order_by(col(GameChannel.channel_id))
        )
    ).all()
    return SeasonStart(
        season_id=view.id,
        season_number=view.number,
        scenario_key=view.scenario_key,
        scenario_name=view.scenario_name,
        description=str(season.rules.get("description", "")),
        started_at=view.started_at,
        ends_at=view.ends_at,
        next_audit_at=view.next_audit_at,
        audit_every_s=view.audit_every_s,
        enrollment=view.enrollment.value,
        game_channel_ids=tuple(channels),
        started_by=view.started_by,
    )


def _already_live() -> Conflict:
    return Conflict(ErrorCode.SEASON_ALREADY_LIVE)


async def current_season(session: AsyncSession, *, guild_id: int) -> SeasonView | None:
    """The guild's running or paused season, or ``None``."""
    season = await live_season_row(session, guild_id=guild_id)
    return None if season is None else await _view(session, season)


async def get_season(session: AsyncSession, *, guild_id: int, number: int) -> SeasonView:
    """A season of this guild by its number (past or present)."""
    check_number(number, what="the season number", low=1, high=MAX_SEASON_NUMBER)
    season = (
        await session.exec(select(Season).where(Season.guild_id == guild_id, Season.number == number))
    ).first()
    if season is None:
        raise NotFound(ErrorCode.SEASON_NUMBER_NOT_FOUND, number=number)
    return await _view(session, season)


async def past_seasons(session: AsyncSession, *, guild_id: int, limit: int = 25) -> tuple[SeasonView, ...]:
    """Ended seasons of the guild, newest first."""
    rows = await session.exec(
        select(Season)
        .where(Season.guild_id == guild_id, Season.status == SeasonStatus.ENDED)
        .order_by(col(Season.number).desc())
        .limit(limit)
    )
    return tuple([await _view(session, season) for season in rows.all()])


async def pause_season(session: AsyncSession, *, guild_id: int, now: datetime) -> SeasonView:
    """Freeze the season: no audits, no joining, no shopping; the clock stops until resumed."""
    season = await require_live_season_row(session, guild_id=guild_id, lock=True)
    if season.status == SeasonStatus.PAUSED:
        raise Conflict(ErrorCode.ALREADY_PAUSED)
    season.status = SeasonStatus.PAUSED
    season.paused_at = now
    await session.flush()
    return await _view(session, season)


async def resume_season(session: AsyncSession, *, guild_id: int, now: datetime) -> SeasonView:
    """Start a paused season again. The deadline, the next audit and the expiry of permits that were
    active when it paused all move by the length of the pause, so nobody loses time to it."""
    season = await require_live_season_row(session, guild_id=guild_id, lock=True)
    if season.status == SeasonStatus.RUNNING or season.paused_at is None:
        raise Conflict(ErrorCode.NOT_PAUSED)
    assert season.id is not None
    paused_at = season.paused_at
    shift = max(now - paused_at, timedelta(0))
    season.status = SeasonStatus.RUNNING
    season.paused_at = None
    season.ends_at = season.ends_at + shift
    season.next_audit_at = season.next_audit_at + shift
    await session.flush()
    if shift:
        permits = await session.exec(
            select(Permit).where(
                Permit.season_id == season.id,
                Permit.status == RequestStatus.APPROVED,
                col(Permit.expires_at) > paused_at,
            )
        )
        for permit in permits.all():
            assert permit.expires_at is not None
            permit.expires_at = permit.expires_at + shift
        await session.flush()
    return await _view(session, season)


async def set_enrollment(
    session: AsyncSession, *, guild_id: int, enrollment: Enrollment, now: datetime
) -> SeasonView:
    """Voluntary (members ``/join``) or mandatory (members are enrolled when they first speak in a
    game channel)."""
    del now  # part of the signature so every state change takes the time
    season = await require_live_season_row(session, guild_id=guild_id, lock=True)
    season.enrollment = enrollment
    await session.flush()
    return await _view(session, season)


async def _top(session: AsyncSession, season_id: int, limit: int | None) -> tuple[StandingLine, ...]:
    statement = (
        select(Citizen)
        .where(Citizen.season_id == season_id)
        .order_by(col(Citizen.score).desc(), col(Citizen.number))
    )
    if limit is not None:
        statement = statement.limit(limit)
    lines: list[StandingLine] = []
    previous: int | None = None
    rank = 0
    for position, citizen in enumerate((await session.exec(statement)).all(), start=1):
        if citizen.score != previous:
            rank, previous = position, citizen.score
        assert citizen.id is not None
        lines.append(
            StandingLine(
                rank=rank,
                citizen_id=citizen.id,
                number=citizen.number,
                user_id=citizen.user_id,
                display_name=citizen.display_name,
                score=citizen.score,
                tier_key=citizen.tier_key,
            )
        )
    return tuple(lines)


async def standings(
    session: AsyncSession, *, season_id: int, limit: int | None = None
) -> tuple[StandingLine, ...]:
    """A season's citizens from the highest score down (ties by citizen number); all of them by default."""
    return await _top(session, season_id, limit)


async def end_season(
    engine: AsyncEngine,
    *,
    guild_id: int,
    now: datetime,
    claimed_by: str,
    recorder: MessageRecorder | None = None,
) -> SeasonSummary:
    """A moderator ends the guild's season now (running or paused): its last audit runs, then it ends.

    Takes the engine, not a session: the deadline is moved to ``now`` in one transaction, then the
    audit engine's :func:`~game.services.audits.run_due_audit` runs the last audit in its own, which
    ends the season and queues the ``SEASON_END`` announcement exactly as a season ending on its own
    does. If a scheduled audit gets there first, it does the same. Call ``unschedule_season`` after.
    """
    async with transaction(engine) as session:
        season = await require_live_season_row(session, guild_id=guild_id, lock=True)
        season_id = season.id
        assert season_id is not None
        season.status = SeasonStatus.RUNNING
        season.paused_at = None
        season.ends_at = min(season.ends_at, now)
    audit = await run_due_audit(
        engine, season_id=season_id, now=now, claimed_by=claimed_by, recorder=recorder
    )
    async with transaction(engine) as session:
        ended = await session.get(Season, season_id)
        assert ended is not None
        return SeasonSummary(
            season=await _view(session, ended),
            audit=audit,
            top=await standings(session, season_id=season_id, limit=STANDINGS_IN_ANNOUNCEMENT),
        )


# ---------------------------------------------------------------------------------------------------
# The season's rules


async def season_rules(session: AsyncSession, *, guild_id: int) -> Scenario:
    """The running or paused season's rules (a frozen Scenario)."""
    return scenario_of(await require_live_season_row(session, guild_id=guild_id))
