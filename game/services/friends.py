"""Friends: requests, acceptance, removal, the cap, and what each friend has cost you.

A friendship is stored once in each direction (the audit joins on ``citizen_id``). The cap (the
scenario's ``max_friends``, 25 in classic) holds under racing accepts: an acceptance locks both
citizens' rows in id order before counting (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN
IMMEDIATE`` already serialises writers), so two accepts that would each take someone past the cap
cannot both count the same "24".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import Conflict, ErrorCode, InvalidInput, NotAllowed, NotFound
from game.inputs import check_snowflake
from game.models import Citizen, FriendRequest, Friendship, LedgerEntry, RequestStatus, Season, SourceKind
from game.services.lookup import (
    hold_season,
    lock_citizens,
    require_citizen_row,
    require_live_season_row,
    scenario_of,
)
from game.services.permits import require_running

__all__ = [
    "FriendLine",
    "FriendRequestOutcome",
    "FriendRequestView",
    "RequestOutcome",
    "accept_friend",
    "decline_friend",
    "friend_count",
    "list_friends",
    "pending_friend_requests",
    "remove_friend",
    "request_friend",
]


class RequestOutcome(enum.StrEnum):
    REQUESTED = "requested"
    # They had already asked you: your request accepted theirs, and you are friends now.
    ACCEPTED = "accepted"


@dataclass(frozen=True, slots=True, kw_only=True)
class FriendRequestOutcome:
    outcome: RequestOutcome
    request_id: int
    from_user_id: int
    to_user_id: int
    to_display_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FriendRequestView:
    request_id: int
    from_user_id: int
    from_display_name: str
    to_user_id: int
    to_display_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FriendLine:
    """A friend, their score, and what they have cost you this season (``cost`` <= 0: the sum of your
    ``friend`` ledger entries naming them)."""

    citizen_id: int
    user_id: int
    number: int
    display_name: str
    score: int
    tier_key: str
    cost: int
    since: datetime


async def _pair(
    session: AsyncSession,
    guild_id: int,
    user_id: int,
    other_user_id: int,
    *,
    running: bool = True,
    self_code: ErrorCode = ErrorCode.BEFRIEND_SELF,
) -> tuple[Season, Citizen, Citizen]:
    """The season and both citizens, locked in the lock order (season, then both citizens by id):
    every friend operation on a pair queues behind the others on the same pair, and behind an audit."""
    # The other member's id may have been typed: it must be one Discord could have made.
    check_snowflake(other_user_id)
    if user_id == other_user_id:
        raise InvalidInput(self_code)
    season = await require_live_season_row(session, guild_id=guild_id)
    if running:
        require_running(season, action="befriend")
    assert season.id is not None
    await hold_season(session, season_id=season.id)
    me = await require_citizen_row(session, season_id=season.id, user_id=user_id)
    other = await require_citizen_row(session, season_id=season.id, user_id=other_user_id, yourself=False)
    assert me.id is not None
    assert other.id is not None
    await lock_citizens(session, (me.id, other.id))
    return season, me, other


async def _are_friends(session: AsyncSession, a: int, b: int) -> bool:
    return await session.get(Friendship, (a, b)) is not None


async def friend_count(session: AsyncSession, *, citizen_id: int) -> int:
    return (
        await session.exec(
            select(sa.func.count()).select_from(Friendship).where(Friendship.citizen_id == citizen_id)
        )
    ).one()


async def request_friend(
    session: AsyncSession, *, guild_id: int, user_id: int, friend_user_id: int, now: datetime
) -> FriendRequestOutcome:
    """Ask another citizen to be friends. If they had already asked you, this accepts their request."""
    season, me, other = await _pair(session, guild_id, user_id, friend_user_id)
    assert me.id is not None
    assert other.id is not None
    if await _are_friends(session, me.id, other.id):
        raise Conflict(ErrorCode.ALREADY_FRIENDS, name=other.display_name)
    reverse = (
        await session.exec(
            select(FriendRequest)
            .where(
                FriendRequest.season_id == season.id,
                FriendRequest.from_citizen_id == other.id,
                FriendRequest.to_citizen_id == me.id,
                FriendRequest.status == RequestStatus.PENDING,
            )
            .execution_options(populate_existing=True)
        )
    ).first()
    if reverse is not None:
        return await accept_friend(
            session, guild_id=guild_id, user_id=user_id, from_user_id=friend_user_id, now=now
        )
    existing = (
        await session.exec(
            select(FriendRequest)
            .where(
                FriendRequest.season_id == season.id,
                FriendRequest.from_citizen_id == me.id,
                FriendRequest.to_citizen_id == other.id,
            )
            .execution_options(populate_existing=True)
        )
    ).first()
    if existing is not None and existing.status == RequestStatus.PENDING:
        raise Conflict(ErrorCode.ALREADY_ASKED, name=other.display_name)
    limit = scenario_of(season).friends.max_friends
    if await friend_count(session, citizen_id=me.id) >= limit:
        raise NotAllowed(ErrorCode.FRIEND_LIMIT, limit=limit)
    assert season.id is not None
    if existing is None:
        existing = FriendRequest(
            season_id=season.id, from_citizen_id=me.id, to_citizen_id=other.id, created_at=now
        )
        session.add(existing)
    else:
        # Asked before and declined or removed since: the same row asks again.
        existing.status = RequestStatus.PENDING
        existing.created_at = now
        existing.decided_at = None
    await session.flush()
    assert existing.id is not None
    return FriendRequestOutcome(
        outcome=RequestOutcome.REQUESTED,
        request_id=existing.id,
        from_user_id=me.user_id,
        to_user_id=other.user_id,
        to_display_name=other.display_name,
    )


async def accept_friend(
    session: AsyncSession, *, guild_id: int, user_id: int, from_user_id: int, now: datetime
) -> FriendRequestOutcome:
    """Accept ``from_user_id``'s pending request. ``NotAllowed`` if either of you is at the cap."""
    season, me, other = await _pair(
        session, guild_id, user_id, from_user_id, self_code=ErrorCode.NO_REQUEST_FROM_SELF
    )
    assert me.id is not None
    assert other.id is not None
    request = (
        await session.exec(
            select(FriendRequest)
            .where(
                FriendRequest.season_id == season.id,
                FriendRequest.from_citizen_id == other.id,
                FriendRequest.to_citizen_id == me.id,
            )
            .execution_options(populate_existing=True)
        )
    ).first()
    if request is None or request.status != RequestStatus.PENDING:
        raise NotFound(ErrorCode.NO_FRIEND_REQUEST, name=other.display_name)
    if await _are_friends(session, me.id, other.id):
        raise Conflict(ErrorCode.ALREADY_FRIENDS, name=other.display_name)
    limit = scenario_of(season).friends.max_friends
    if await friend_count(session, citizen_id=me.id) >= limit:
        raise NotAllowed(ErrorCode.FRIEND_LIMIT, limit=limit)
    if await friend_count(session, citizen_id=other.id) >= limit:
        raise NotAllowed(ErrorCode.FRIEND_LIMIT_OTHER, name=other.display_name, limit=limit)
    decided = await session.exec(
        sa.update(FriendRequest)
        .where(col(FriendRequest.id) == request.id, col(FriendRequest.status) == RequestStatus.PENDING)
        .values(status=RequestStatus.APPROVED, decided_at=now)
    )
    if not decided.rowcount:
        raise Conflict(ErrorCode.FRIEND_REQUEST_ANSWERED)
    assert season.id is not None
    session.add(Friendship(citizen_id=me.id, friend_id=other.id, season_id=season.id, created_at=now))
    session.add(Friendship(citizen_id=other.id, friend_id=me.id, season_id=season.id, created_at=now))
    await session.flush()
    assert request.id is not None
    return FriendRequestOutcome(
        outcome=RequestOutcome.ACCEPTED,
        request_id=request.id,
        from_user_id=other.user_id,
        to_user_id=me.user_id,
        to_display_name=me.display_name,
    )


async def decline_friend(
    session: AsyncSession, *, guild_id: int, user_id: int, from_user_id: int, now: datetime
) -> None:
    """Decline ``from_user_id``'s pending request (they may ask again later)."""
    season, me, other = await _pair(
        session, guild_id, user_id, from_user_id, running=False, self_code=ErrorCode.NO_REQUEST_FROM_SELF
    )
    decided = await session.exec(
        sa.update(FriendRequest)
        .where(
            col(FriendRequest.season_id) == season.id,
            col(FriendRequest.from_citizen_id) == other.id,
            col(FriendRequest.to_citizen_id) == me.id,
            col(FriendRequest.status) == RequestStatus.PENDING,
        )
        .values(status=RequestStatus.DENIED, decided_at=now)
    )
    if not decided.rowcount:
        raise NotFound(ErrorCode.NO_FRIEND_REQUEST, name=other.display_name)


async def remove_friend(
    session: AsyncSession, *, guild_id: int, user_id: int, friend_user_id: int, now: datetime
) -> None:
    """End a friendship at once, in both directions. Works while the season is paused, too."""
    del now
    _, me, other = await _pair(
        session, guild_id, user_id, friend_user_id, running=False, self_code=ErrorCode.NOT_OWN_FRIEND
    )
    removed = await session.exec(
        sa.delete(Friendship).where(
            or_(
                sa.and_(col(Friendship.citizen_id) == me.id, col(Friendship.friend_id) == other.id),
                sa.and_(col(Friendship.citizen_id) == other.id, col(Friendship.friend_id) == me.id),
            )
        )
    )
    if not removed.rowcount:
        raise NotFound(ErrorCode.NOT_FRIENDS, name=other.display_name)


async def list_friends(session: AsyncSession, *, guild_id: int, user_id: int) -> tuple[FriendLine, ...]:
    """Your friends with their scores and what each has cost you this season, costliest first."""
    season = await require_live_season_row(session, guild_id=guild_id)
    assert season.id is not None
    me = await require_citizen_row(session, season_id=season.id, user_id=user_id)
    costs = (
        select(LedgerEntry.related_citizen_id, sa.func.sum(LedgerEntry.delta).label("cost"))
        .where(
            LedgerEntry.citizen_id == me.id,
            LedgerEntry.source_kind == SourceKind.FRIEND,
            col(LedgerEntry.related_citizen_id).is_not(None),
        )
        .group_by(col(LedgerEntry.related_citizen_id))
        .subquery()
    )
    rows = await session.exec(
        select(Citizen, Friendship.created_at, sa.func.coalesce(costs.c.cost, 0))
        .join(Friendship, col(Friendship.friend_id) == Citizen.id)
        .outerjoin(costs, costs.c.related_citizen_id == Citizen.id)
        .where(Friendship.citizen_id == me.id)
    )
    lines = [
        FriendLine(
            citizen_id=friend.id or 0,
            user_id=friend.user_id,
            number=friend.number,
            display_name=friend.display_name,
            score=friend.score,
            tier_key=friend.tier_key,
            cost=int(cost),
            since=since,
        )
        for friend, since, cost in rows.all()
    ]
    return tuple(sorted(lines, key=lambda line: (line.cost, line.display_name.lower(), line.citizen_id)))


async def pending_friend_requests(
    session: AsyncSession, *, guild_id: int, user_id: int
) -> tuple[tuple[FriendRequestView, ...], tuple[FriendRequestView, ...]]:
    """``(incoming, outgoing)`` pending requests of the member in the live season, oldest first."""
    season = await require_live_season_row(session, guild_id=guild_id)
    assert season.id is not None
    me = await require_citizen_row(session, season_id=season.id, user_id=user_id)
    sender = aliased(Citizen)
    receiver = aliased(Citizen)
    rows = await session.exec(
        select(FriendRequest, sender, receiver)
        .join(sender, col(sender.id) == FriendRequest.from_citizen_id)
        .join(receiver, col(receiver.id) == FriendRequest.to_citizen_id)
        .where(
            FriendRequest.season_id == season.id,
            FriendRequest.status == RequestStatus.PENDING,
            or_(col(FriendRequest.from_citizen_id) == me.id, col(FriendRequest.to_citizen_id) == me.id),
        )
        .order_by(col(FriendRequest.id))
    )
    incoming: list[FriendRequestView] = []
    outgoing: list[FriendRequestView] = []
    for request, source, target in rows.all():
        view = FriendRequestView(
            request_id=request.id or 0,
            from_user_id=source.user_id,
            from_display_name=source.display_name,
            to_user_id=target.user_id,
            to_display_name=target.display_name,
            created_at=request.created_at,
        )
        (incoming if target.id == me.id else outgoing).append(view)
    return tuple(incoming), tuple(outgoing)
