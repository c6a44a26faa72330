"""Citizens: joining a season and the card anyone can look up.

Joining takes a citizen number from ``season.next_citizen_number`` with one ``UPDATE ... RETURNING``
(two joins at once get different numbers) and starts the citizen at the season's start score and
balance. What is stored about a member is exported and deleted by :mod:`game.services.privacy`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.db import is_unique_violation
from game.errors import AlreadyEnrolled, Conflict, ErrorCode, NotAllowed
from game.inputs import clean_name
from game.models import (
    Citizen,
    Dimension,
    Enrollment,
    Friendship,
    LedgerEntry,
    Season,
    SeasonStatus,
)
from game.payloads import RoleSync
from game.scenario import Scenario
from game.services.lookup import (
    citizen_row,
    live_season_row,
    require_citizen_row,
    require_live_season_row,
    scenario_of,
)
from game.services.outbox import outbox_row
from game.services.permits import PermitView, active_permits
from game.services.ranks import move_score_count, rank_of_score
from game.services.seasons import SeasonView, open_first_season

__all__ = [
    "CitizenCard",
    "CitizenView",
    "Enrolment",
    "citizen_card",
    "count_card_lookup",
    "enrol_if_mandatory",
    "get_citizen",
    "join",
    "join_or_open",
]

MAX_DISPLAY_NAME = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class CitizenView:
    id: int
    season_id: int
    guild_id: int
    user_id: int
    number: int
    display_name: str
    score: int
    tier_key: str
    tier_name: str
    balance: int
    debt: int
    joined_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CitizenCard:
    """What ``/score`` shows. ``breakdown`` has every dimension, in the scenario's order, summed from
    the ledger (so ``start_score + sum(breakdown) == score``)."""

    citizen: CitizenView
    season_number: int
    start_score: int
    rank: int
    citizens: int
    breakdown: tuple[tuple[Dimension, int], ...]
    active_permits: tuple[PermitView, ...]
    friends_count: int
    friend_names: tuple[str, ...]
    lookups_today: int

    def counted(self) -> CitizenCard:
        """The card as it reads once this look-up is counted (read with ``count_lookup=False``)."""
        return dataclasses.replace(self, lookups_today=self.lookups_today + 1)


def _view(citizen: Citizen, season: Season) -> CitizenView:
    assert citizen.id is not None
    try:
        tier_name = scenario_of(season).tier(citizen.tier_key).name
    except KeyError:
        tier_name = citizen.tier_key
    return CitizenView(
        id=citizen.id,
        season_id=citizen.season_id,
        guild_id=citizen.guild_id,
        user_id=citizen.user_id,
        number=citizen.number,
        display_name=citizen.display_name,
        score=citizen.score,
        tier_key=citizen.tier_key,
        tier_name=tier_name,
        balance=citizen.balance,
        debt=citizen.debt,
        joined_at=citizen.joined_at,
    )


def _clean_name(display_name: str | None) -> str:
    """The name as shown (cleaned of what no table holds, spaces tidied, cut to fit); empty when none."""
    return clean_name(display_name, limit=MAX_DISPLAY_NAME)


async def join(
    session: AsyncSession, *, guild_id: int, user_id: int, display_name: str | None, now: datetime
) -> CitizenView:
    """Enrol the member in the running season at its start score and balance.

    ``display_name`` is what boards and bulletins show (``Citizen #<number>`` when empty).

    ``NoActiveSeason`` without a season, ``NotAllowed`` while it is paused, ``AlreadyEnrolled`` twice.
    """
    season = await require_live_season_row(session, guild_id=guild_id)
    if season.status == SeasonStatus.PAUSED:
        raise NotAllowed(ErrorCode.SEASON_PAUSED, action="join")
    assert season.id is not None
    if await citizen_row(session, season_id=season.id, user_id=user_id) is not None:
        raise AlreadyEnrolled()
    name = _clean_name(display_name)
    # One statement takes the number: concurrent joins queue on the season row and get distinct ones.
    taken = (
        await session.exec(
            sa.update(Season)
            .where(col(Season.id) == season.id, col(Season.status) == SeasonStatus.RUNNING)
            .values(next_citizen_number=col(Season.next_citizen_number) + 1)
            .returning(col(Season.next_citizen_number))
        )
    ).first()
    if taken is None:
        raise NotAllowed(ErrorCode.SEASON_PAUSED, action="join")
    scenario = scenario_of(season)
    start = scenario.score.start
    tier = scenario.tier_for(start)
    citizen = Citizen(
        season_id=season.id,
        guild_id=guild_id,
        user_id=user_id,
        number=int(taken[0]) - 1,
        display_name=name or f"Citizen #{int(taken[0]) - 1}",
        score=start,
        tier_key=tier.key,
        balance=scenario.economy.start_balance,
        joined_at=now,
    )
    session.add(citizen)
    try:
        await session.flush()
    except IntegrityError as error:
        if is_unique_violation(error):  # the same member joining twice at once
            raise AlreadyEnrolled() from None
        raise
    await move_score_count(session, season_id=season.id, old_score=None, new_score=start)
    if tier.role is not None:
        session.add(
            outbox_row(
                guild_id=guild_id,
                season_id=season.id,
                payload=RoleSync(user_id=user_id, season_id=season.id, old_tier=None, new_tier=tier.key),
                now=now,
            )
        )
        await session.flush()
    return _view(citizen, season)


@dataclass(frozen=True, slots=True, kw_only=True)
class Enrolment:
    """A member who just joined: their record, the season's rules, and the season their join opened
    (``None`` unless this was the server's very first join)."""

    citizen: CitizenView
    scenario: Scenario
    opened: SeasonView | None


async def join_or_open(
    session: AsyncSession, *, guild_id: int, user_id: int, display_name: str | None, now: datetime
) -> Enrolment:
    """``/join``: enrol the member in the running season; in a server that has never played, open its
    first season (the classic pack, its defaults) with them, in the same transaction.

    Two first joins at once make one season with both in it: the loser of the race to open it (the
    season's unique index) joins the winner's season instead.
    """
    opened: SeasonView | None = None
    if await live_season_row(session, guild_id=guild_id) is None:
        try:
            async with session.begin_nested():
                opened = await open_first_season(session, guild_id=guild_id, now=now)
        except (IntegrityError, Conflict):
            # Another first join opened it between our look and our insert: join that season.
            opened = None
    citizen = await join(session, guild_id=guild_id, user_id=user_id, display_name=display_name, now=now)
    season = await require_live_season_row(session, guild_id=guild_id)
    return Enrolment(citizen=citizen, scenario=scenario_of(season), opened=opened)


async def enrol_if_mandatory(
    session: AsyncSession, *, guild_id: int, user_id: int, display_name: str | None, now: datetime
) -> CitizenView | None:
    """For the message recorder: the member's citizen record, enrolling them first when the running
    season's enrolment is mandatory; ``None`` when they are not (and need not be) a citizen."""
    season = await live_season_row(session, guild_id=guild_id)
    if season is None or season.id is None:
        return None
    existing = await citizen_row(session, season_id=season.id, user_id=user_id)
    if existing is not None:
        return _view(existing, season)
    if season.enrollment != Enrollment.MANDATORY or season.status != SeasonStatus.RUNNING:
        return None
    try:
        return await join(session, guild_id=guild_id, user_id=user_id, display_name=display_name, now=now)
    except AlreadyEnrolled:
        return None


async def get_citizen(session: AsyncSession, *, guild_id: int, user_id: int) -> CitizenView | None:
    """The member's record in the guild's running or paused season, or ``None`` when they have not
    joined it. ``NoActiveSeason`` when no season is running or paused."""
    season = await require_live_season_row(session, guild_id=guild_id)
    assert season.id is not None
    citizen = await citizen_row(session, season_id=season.id, user_id=user_id)
    return None if citizen is None else _view(citizen, season)


async def count_card_lookup(session: AsyncSession, *, citizen_id: int, now: datetime) -> int:
    """Count one look-up of the citizen's card (one UPDATE); returns the look-ups of ``now``'s UTC day.

    ``/score`` reads the card in a read transaction (:func:`citizen_card` with ``count_lookup=False``,
    then :meth:`CitizenCard.counted`) and counts the look-up afterwards, in its own short write: a
    look-up never waits for a running audit's write lock before it is answered.
    """
    today = now.date().isoformat()
    return int(
        (
            await session.exec(
                sa.update(Citizen)
                .where(col(Citizen.id) == citizen_id)
                .values(
                    lookups_count=sa.case(
                        (col(Citizen.lookups_day) == today, col(Citizen.lookups_count) + 1), else_=1
                    ),
                    lookups_day=today,
                )
                .returning(col(Citizen.lookups_count))
            )
        ).one()[0]
    )


async def citizen_card(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    now: datetime,
    count_lookup: bool = True,
    yourself: bool = True,
) -> CitizenCard:
    """The public card of a citizen of the live season; counts the look-up (one UPDATE) unless told not to.

    ``yourself`` only words the ``NotEnrolled`` error (``/score`` for yourself or for someone else).
    """
    season = await require_live_season_row(session, guild_id=guild_id)
    assert season.id is not None
    citizen = await require_citizen_row(session, season_id=season.id, user_id=user_id, yourself=yourself)
    assert citizen.id is not None
    if count_lookup:
        lookups = await count_card_lookup(session, citizen_id=citizen.id, now=now)
    else:
        lookups = citizen.lookups_count if citizen.lookups_day == now.date().isoformat() else 0
    scenario = scenario_of(season)
    sums = dict(
        (
            await session.exec(
                select(LedgerEntry.dimension, sa.func.sum(LedgerEntry.delta))
                .where(LedgerEntry.citizen_id == citizen.id)
                .group_by(col(LedgerEntry.dimension))
            )
        ).all()
    )
    breakdown = tuple((dimension, int(sums.get(dimension, 0) or 0)) for dimension in Dimension)
    friends = (
        await session.exec(
            select(Citizen.display_name)
            .join(Friendship, col(Friendship.friend_id) == Citizen.id)
            .where(Friendship.citizen_id == citizen.id)
            .order_by(sa.func.lower(Citizen.display_name))
        )
    ).all()
    total = (
        await session.exec(select(sa.func.count()).select_from(Citizen).where(Citizen.season_id == season.id))
    ).one()
    return CitizenCard(
        citizen=_view(citizen, season),
        season_number=season.number,
        start_score=scenario.score.start,
        rank=await rank_of_score(session, season_id=season.id, score=citizen.score),
        citizens=total,
        breakdown=breakdown,
        active_permits=await active_permits(session, citizen_id=citizen.id, now=now),
        friends_count=len(friends),
        friend_names=tuple(friends),
        lookups_today=int(lookups),
    )
