"""Seasons: start, pause, resume, end; enrolment; the season's own copy of the rules and its edits.

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

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
    NoActiveSeason,
    NotEnrolled,
    NotFound,
    ScenarioError,
)
from game.models import (
    Citizen,
    Dimension,
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
    CatalogueItem,
    Scenario,
    TopicKind,
    load_scenario,
    restore_scenario,
    with_item_added,
    with_item_price,
    with_item_removed,
    with_phrase_added,
    with_phrase_removed,
    with_topic_added,
    with_topic_delta,
    with_topic_removed,
)
from game.services.audits import AuditResult, run_due_audit
from game.services.outbox import outbox_row

if TYPE_CHECKING:
    from game.services.recorder import MessageRecorder

__all__ = [
    "SeasonSummary",
    "SeasonView",
    "StandingLine",
    "add_catalogue_item",
    "add_phrase",
    "add_topic",
    "change_topic_delta",
    "citizen_row",
    "current_season",
    "end_season",
    "get_season",
    "hold_season",
    "live_season_row",
    "open_first_season",
    "past_seasons",
    "pause_season",
    "remove_catalogue_item",
    "remove_phrase",
    "remove_topic",
    "require_citizen_row",
    "require_live_season_row",
    "resume_season",
    "scenario_of",
    "season_announcement",
    "season_rules",
    "set_enrollment",
    "set_item_price",
    "standings",
    "start_season",
]

STANDINGS_IN_ANNOUNCEMENT = 10


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


# ---------------------------------------------------------------------------------------------------
# Look-ups shared by the other services


def scenario_of(season: Season) -> Scenario:
    """The season's rules as they stand (the pack copied at start, with moderators' edits)."""
    return restore_scenario(season.rules, source=f"season {season.number}")


async def live_season_row(session: AsyncSession, *, guild_id: int, lock: bool = False) -> Season | None:
    """The guild's running or paused season (the ORM row, for services; never hand it to the bot)."""
    statement = (
        select(Season)
        .where(Season.guild_id == guild_id, col(Season.status) != SeasonStatus.ENDED)
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


async def require_live_season_row(session: AsyncSession, *, guild_id: int, lock: bool = False) -> Season:
    season = await live_season_row(session, guild_id=guild_id, lock=lock)
    if season is None:
        raise NoActiveSeason()
    return season


async def hold_season(session: AsyncSession, *, season_id: int) -> None:
    """Keep the season's audit out while this transaction changes one citizen's score or wallet.

    The audit locks the season row ``FOR UPDATE`` and writes whole scores and balances back; a
    purchase or an adjustment committed in the middle would be overwritten. Writers take ``FOR KEY
    SHARE`` on the same row first: they wait for a running audit, the next audit waits for them, and
    they never wait for each other (nor for joins, which update the row's non-key columns). Always
    taken before any citizen row, the order the audit takes them in. On SQLite ``BEGIN IMMEDIATE``
    already serialises every writer, so nothing is sent.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    await session.exec(
        select(Season.id).where(Season.id == season_id).with_for_update(read=True, key_share=True)
    )


async def citizen_row(
    session: AsyncSession, *, season_id: int, user_id: int, lock: bool = False
) -> Citizen | None:
    """The member's citizen row in a season (the ORM row, for services), or ``None``."""
    statement = (
        select(Citizen)
        .where(Citizen.season_id == season_id, Citizen.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


async def require_citizen_row(
    session: AsyncSession, *, season_id: int, user_id: int, lock: bool = False, yourself: bool = True
) -> Citizen:
    """The member's citizen row; ``NotEnrolled`` (worded for ``yourself`` or for someone else) if none."""
    citizen = await citizen_row(session, season_id=season_id, user_id=user_id, lock=lock)
    if citizen is None:
        raise (NotEnrolled() if yourself else NotEnrolled(ErrorCode.MEMBER_NOT_ENROLLED))
    return citizen


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


def _shop_row(season_id: int, item: CatalogueItem) -> dict[str, Any]:
    return {
        "season_id": season_id,
        "key": item.key,
        "name": item.name,
        "description": item.description[:300],
        "price": item.price,
        "effect": item.effect,
        "dimension": Dimension(item.dimension.value),
        "min_tier": item.min_tier,
        "stock": item.stock,
        "hidden": item.hidden_until_audit,
        "travel": item.travel,
        "active": True,
    }


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
            sa.insert(ShopItem), params=[_shop_row(season.id, item) for item in scenario.catalogue]
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
# The season's rules and moderators' edits


async def season_rules(session: AsyncSession, *, guild_id: int) -> Scenario:
    """The running or paused season's rules (a frozen Scenario)."""
    return scenario_of(await require_live_season_row(session, guild_id=guild_id))


async def _edit(
    session: AsyncSession, guild_id: int, edit: Callable[[Scenario], Scenario]
) -> tuple[Season, Scenario]:
    season = await require_live_season_row(session, guild_id=guild_id, lock=True)
    try:
        edited = edit(scenario_of(season))
    except ScenarioError as error:
        # The message names the field; the player needs only the reason.
        reasons = "; ".join(problem.reason for problem in error.problems)
        raise InvalidInput(ErrorCode.RULES_EDIT_REFUSED, reasons=reasons) from None
    season.rules = edited.model_dump(mode="json")
    await session.flush()
    return season, edited


def _check_delta(kind: TopicKind, delta: int) -> None:
    if kind is TopicKind.APPROVED and not 0 < delta <= 1000:
        raise InvalidInput(ErrorCode.BONUS_OUT_OF_RANGE, low=1, high=1000)
    if kind is not TopicKind.APPROVED and not -1000 <= delta < 0:
        raise InvalidInput(ErrorCode.PENALTY_OUT_OF_RANGE, low=-1000, high=-1)


async def add_topic(
    session: AsyncSession,
    *,
    guild_id: int,
    kind: TopicKind,
    key: str,
    name: str,
    phrases: Sequence[str],
    delta: int,
) -> Scenario:
    """Add a speech topic (forbidden, permit-required or approved) to this season's rules."""
    _check_delta(kind, delta)
    _, scenario = await _edit(
        session,
        guild_id,
        lambda s: with_topic_added(s, kind=kind, key=key, name=name, phrases=phrases, delta=delta),
    )
    return scenario


async def remove_topic(session: AsyncSession, *, guild_id: int, key: str) -> Scenario:
    _, scenario = await _edit(session, guild_id, lambda s: with_topic_removed(s, key))
    return scenario


async def change_topic_delta(session: AsyncSession, *, guild_id: int, key: str, delta: int) -> Scenario:
    """Change a topic's penalty (forbidden, permit) or bonus (approved)."""
    season = await require_live_season_row(session, guild_id=guild_id)
    kinds = {rule.key: kind for kind, _, rule in scenario_of(season).speech.topics()}
    if key in kinds:
        _check_delta(kinds[key], delta)
    _, scenario = await _edit(session, guild_id, lambda s: with_topic_delta(s, key, delta))
    return scenario


async def add_phrase(session: AsyncSession, *, guild_id: int, topic_key: str, phrase: str) -> Scenario:
    _, scenario = await _edit(session, guild_id, lambda s: with_phrase_added(s, topic_key, phrase))
    return scenario


async def remove_phrase(session: AsyncSession, *, guild_id: int, topic_key: str, phrase: str) -> Scenario:
    _, scenario = await _edit(session, guild_id, lambda s: with_phrase_removed(s, topic_key, phrase))
    return scenario


async def set_item_price(session: AsyncSession, *, guild_id: int, item_key: str, price: int) -> Scenario:
    """Change an item's base price for this season (tier markups apply on top)."""
    if not 0 <= price <= 1_000_000:
        raise InvalidInput(ErrorCode.PRICE_OUT_OF_RANGE, low=0, high=1_000_000)
    season, scenario = await _edit(session, guild_id, lambda s: with_item_price(s, item_key, price))
    await session.exec(
        sa.update(ShopItem)
        .where(col(ShopItem.season_id) == season.id, col(ShopItem.key) == item_key)
        .values(price=price)
    )
    return scenario


async def add_catalogue_item(
    session: AsyncSession, *, guild_id: int, item: CatalogueItem | dict[str, Any]
) -> Scenario:
    """Add an item to this season's shop (a ``CatalogueItem`` or its fields, validated by the scenario)."""
    season, scenario = await _edit(session, guild_id, lambda s: with_item_added(s, item))
    assert season.id is not None
    added = scenario.catalogue[-1]
    row = _shop_row(season.id, added)
    existing = (
        await session.exec(select(ShopItem).where(ShopItem.season_id == season.id, ShopItem.key == added.key))
    ).first()
    if existing is None:
        session.add(ShopItem(**row))
    else:
        # An item removed earlier this season and added again: its row (and past purchases) stay.
        for field, value in row.items():
            setattr(existing, field, value)
    await session.flush()
    return scenario


async def remove_catalogue_item(session: AsyncSession, *, guild_id: int, item_key: str) -> Scenario:
    """Withdraw an item from this season's shop. Purchases already made still take effect."""
    season, scenario = await _edit(session, guild_id, lambda s: with_item_removed(s, item_key))
    await session.exec(
        sa.update(ShopItem)
        .where(col(ShopItem.season_id) == season.id, col(ShopItem.key) == item_key)
        .values(active=False)
    )
    return scenario
