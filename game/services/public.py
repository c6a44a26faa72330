"""What the public web pages show, as facts: what the game already makes public in Discord, no more.

Nothing here carries a wallet (balance, debt), a message's text, a message link or a Discord id. A
guild's pages are off until a moderator turns them on (:func:`set_pages_enabled`); every reader
checks :func:`pages_enabled` first and a guild that has not turned them on looks exactly like one
that does not exist.

The leaderboard pages by KEYSET, a hundred rows a page, on the ``(season_id, score, id)`` index, as
:mod:`game.services.queries` does for Discord's pages of ten: ``top`` is ``score DESC, id DESC``,
``bottom`` exactly the reverse; a cursor is the ``(score, id)`` of a row. Ranks and the total come
from ``score_count`` (a few hundred rows at most, however many citizens); a page's first position
is the citizens of the scores before its first row plus that row's ties before it (one score's
range of the index). No page reads the rows of the pages before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.models import (
    Citizen,
    Dimension,
    Friendship,
    LedgerEntry,
    PublicPages,
    ScoreCount,
    Season,
    SeasonStatus,
)
from game.scenario import Scenario
from game.services.lookup import scenario_of
from game.services.permits import active_permits
from game.services.queries import (
    LeaderboardCursor,
    LeaderboardOrder,
    latest_entries,
    rank_of_score,
    score_history,
)

__all__ = [
    "PUBLIC_PAGE_SIZE",
    "PublicBoard",
    "PublicCard",
    "PublicEntry",
    "PublicFriend",
    "PublicPermit",
    "PublicRow",
    "PublicSeason",
    "board",
    "card",
    "pages_enabled",
    "public_season",
    "season_id",
    "season_list",
    "set_pages_enabled",
]

PUBLIC_PAGE_SIZE = 100
RECENT_ENTRIES = 10
SEASONS_LISTED = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicSeason:
    """A season's public facts. ``next_audit_at`` is ``None`` unless the season is running."""

    number: int
    name: str
    scenario_key: str
    status: SeasonStatus
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    next_audit_at: datetime | None
    audits: int
    audit_every_s: int
    citizens: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicRow:
    """One leaderboard line. ``position`` counts from 1 in the page's order; ``rank`` is the
    competition rank from the top (1, 2, 2, 4); ``change`` is what the last audit did to the score
    (``None`` before the first audit)."""

    position: int
    rank: int
    number: int
    name: str
    score: int
    tier_key: str
    tier_name: str
    change: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicBoard:
    """A page of the leaderboard. Pass ``next_after`` as ``after`` for the next page, ``prev_before``
    as ``before`` for the previous one (each ``None`` at its end)."""

    season: PublicSeason
    order: LeaderboardOrder
    page: int
    total_pages: int
    rows: tuple[PublicRow, ...]
    next_after: str | None
    prev_before: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicPermit:
    topic: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicFriend:
    number: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicEntry:
    at: datetime
    audit: int | None
    dimension: Dimension
    delta: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicCard:
    """The card ``/score`` shows: ``start_score + sum(breakdown) == score``; ``history`` is
    ``(moment, score)`` from joining on."""

    season: PublicSeason
    number: int
    name: str
    score: int
    tier_key: str
    tier_name: str
    rank: int
    start_score: int
    breakdown: tuple[tuple[Dimension, int], ...]
    permits: tuple[PublicPermit, ...]
    friends: tuple[PublicFriend, ...]
    history: tuple[tuple[datetime, int], ...]
    recent: tuple[PublicEntry, ...]


# ---------------------------------------------------------------------------------------------------
# The switch


async def pages_enabled(session: AsyncSession, *, guild_id: int) -> bool:
    row = await session.get(PublicPages, guild_id)
    return bool(row and row.enabled)


async def set_pages_enabled(session: AsyncSession, *, guild_id: int, enabled: bool, now: datetime) -> bool:
    """Turn the guild's pages on or off; returns whether they were on before."""
    row = (
        await session.exec(select(PublicPages).where(PublicPages.guild_id == guild_id).with_for_update())
    ).first()
    before = bool(row and row.enabled)
    if row is None:
        session.add(PublicPages(guild_id=guild_id, enabled=enabled, changed_at=now))
    else:
        row.enabled = enabled
        row.changed_at = now
    await session.flush()
    return before


# ---------------------------------------------------------------------------------------------------
# Seasons


async def _counts(session: AsyncSession, season_id: int) -> list[tuple[int, int]]:
    rows = await session.exec(
        select(ScoreCount.score, ScoreCount.citizens)
        .where(ScoreCount.season_id == season_id, col(ScoreCount.citizens) > 0)
        .order_by(col(ScoreCount.score).desc())
    )
    return [(score, citizens) for score, citizens in rows.all()]


def public_season(season: Season, citizens: int) -> PublicSeason:
    status = SeasonStatus(season.status)
    return PublicSeason(
        number=season.number,
        name=str(season.rules.get("name", season.scenario_key)),
        scenario_key=season.scenario_key,
        status=status,
        started_at=season.started_at,
        ends_at=season.ends_at,
        ended_at=season.ended_at,
        next_audit_at=season.next_audit_at if status is SeasonStatus.RUNNING else None,
        audits=season.last_audit_number,
        audit_every_s=season.audit_every_s,
        citizens=citizens,
    )


async def _shown_season(session: AsyncSession, guild_id: int, number: int | None) -> Season | None:
    """Season ``number`` of the guild; without a number the running or paused one, else the latest."""
    statement = select(Season).where(Season.guild_id == guild_id)
    if number is not None:
        statement = statement.where(Season.number == number)
    else:
        # A live season sorts first (False < True), then the newest.
        statement = statement.order_by(col(Season.status) == SeasonStatus.ENDED, col(Season.number).desc())
    return (await session.exec(statement.limit(1))).first()


async def season_id(session: AsyncSession, *, guild_id: int, number: int) -> int | None:
    season = await _shown_season(session, guild_id, number)
    return None if season is None else season.id


async def season_list(session: AsyncSession, *, guild_id: int) -> tuple[PublicSeason, ...]:
    """The guild's seasons, newest first (at most a hundred)."""
    totals = (
        select(ScoreCount.season_id, sa.func.sum(ScoreCount.citizens).label("citizens"))
        .group_by(col(ScoreCount.season_id))
        .subquery()
    )
    rows = await session.exec(
        select(Season, sa.func.coalesce(totals.c.citizens, 0))
        .outerjoin(totals, totals.c.season_id == Season.id)
        .where(Season.guild_id == guild_id)
        .order_by(col(Season.number).desc())
        .limit(SEASONS_LISTED)
    )
    return tuple(public_season(season, int(citizens)) for season, citizens in rows.all())


# ---------------------------------------------------------------------------------------------------
# The leaderboard


def _tier_names(scenario: Scenario) -> dict[str, str]:
    return {tier.key: tier.name for tier in scenario.tiers}


def _after(order: LeaderboardOrder, cursor: LeaderboardCursor) -> sa.ColumnElement[bool]:
    here = sa.tuple_(col(Citizen.score), col(Citizen.id))
    there = sa.tuple_(sa.literal(cursor.score), sa.literal(cursor.citizen_id))
    return here < there if order is LeaderboardOrder.TOP else here > there


async def _rows(
    session: AsyncSession,
    season_id: int,
    order: LeaderboardOrder,
    *,
    after: LeaderboardCursor | None = None,
    before: LeaderboardCursor | None = None,
) -> list[Citizen]:
    descending = order is LeaderboardOrder.TOP
    statement = select(Citizen).where(Citizen.season_id == season_id)
    if after is not None:
        statement = statement.where(_after(order, after))
    if before is not None:
        reverse = LeaderboardOrder.BOTTOM if descending else LeaderboardOrder.TOP
        statement = statement.where(_after(reverse, before))
        descending = not descending
    ordering = (
        (col(Citizen.score).desc(), col(Citizen.id).desc())
        if descending
        else (col(Citizen.score).asc(), col(Citizen.id).asc())
    )
    rows = list((await session.exec(statement.order_by(*ordering).limit(PUBLIC_PAGE_SIZE))).all())
    return rows[::-1] if before is not None else rows


async def _first_position(
    session: AsyncSession,
    season_id: int,
    order: LeaderboardOrder,
    counts: list[tuple[int, int]],
    first: Citizen,
) -> int:
    top = order is LeaderboardOrder.TOP
    earlier_scores = sum(n for score, n in counts if (score > first.score if top else score < first.score))
    tie = col(Citizen.id) > first.id if top else col(Citizen.id) < first.id
    ties = (
        await session.exec(
            select(sa.func.count())
            .select_from(Citizen)
            .where(Citizen.season_id == season_id, Citizen.score == first.score, tie)
        )
    ).one()
    return earlier_scores + int(ties) + 1


async def _changes(session: AsyncSession, season: Season, ids: list[int]) -> dict[int, int]:
    """What the season's last audit did to each of ``ids`` (absent: nothing)."""
    if not ids or season.last_audit_number == 0:
        return {}
    rows = await session.exec(
        select(LedgerEntry.citizen_id, sa.func.sum(LedgerEntry.delta))
        .where(col(LedgerEntry.citizen_id).in_(ids), LedgerEntry.audit_number == season.last_audit_number)
        .group_by(col(LedgerEntry.citizen_id))
    )
    return {citizen_id: int(total or 0) for citizen_id, total in rows.all()}


async def board(
    session: AsyncSession,
    *,
    guild_id: int,
    season_number: int | None = None,
    order: LeaderboardOrder = LeaderboardOrder.TOP,
    after: LeaderboardCursor | None = None,
    before: LeaderboardCursor | None = None,
) -> PublicBoard | None:
    """A page of a season's leaderboard (the live one, else the latest, without ``season_number``):
    the first page, the page after ``after`` or the page before ``before``. ``None`` when there is no
    such season. Pages are off for a guild that has not turned them on: check :func:`pages_enabled`."""
    season = await _shown_season(session, guild_id, season_number)
    if season is None or season.id is None:
        return None
    counts = await _counts(session, season.id)
    total = sum(n for _, n in counts)
    citizens = await _rows(session, season.id, order, after=after, before=before)
    if before is not None and len(citizens) < PUBLIC_PAGE_SIZE:
        citizens = await _rows(session, season.id, order)  # near the start: the first page
    first = 1 if not citizens else await _first_position(session, season.id, order, counts, citizens[0])
    ranks: dict[int, int] = {}
    above = 0
    for score, n in counts:
        ranks[score] = above + 1
        above += n
    names = _tier_names(scenario_of(season))
    changes = await _changes(session, season, [c.id for c in citizens if c.id is not None])
    audited = season.last_audit_number > 0
    rows = tuple(
        PublicRow(
            position=first + index,
            rank=ranks.get(citizen.score, 1),
            number=citizen.number,
            name=citizen.display_name,
            score=citizen.score,
            tier_key=citizen.tier_key,
            tier_name=names.get(citizen.tier_key, citizen.tier_key),
            change=changes.get(citizen.id or 0, 0) if audited else None,
        )
        for index, citizen in enumerate(citizens)
    )
    last = citizens[-1] if citizens else None
    head = citizens[0] if citizens else None
    return PublicBoard(
        season=public_season(season, total),
        order=order,
        page=(first - 1) // PUBLIC_PAGE_SIZE + 1,
        total_pages=max(1, -(-total // PUBLIC_PAGE_SIZE)),
        rows=rows,
        next_after=(
            str(LeaderboardCursor(last.score, last.id or 0))
            if last is not None and first + len(rows) - 1 < total
            else None
        ),
        prev_before=str(LeaderboardCursor(head.score, head.id or 0))
        if head is not None and first > 1
        else None,
    )


# ---------------------------------------------------------------------------------------------------
# The card


async def card(
    session: AsyncSession, *, guild_id: int, number: int, season_number: int | None = None, now: datetime
) -> PublicCard | None:
    """Citizen ``number``'s card in a season (as :func:`board` picks it); ``None`` when there is no
    such citizen (never was, or has left)."""
    season = await _shown_season(session, guild_id, season_number)
    if season is None or season.id is None:
        return None
    citizen = (
        await session.exec(select(Citizen).where(Citizen.season_id == season.id, Citizen.number == number))
    ).first()
    if citizen is None or citizen.id is None:
        return None
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
    friends = (
        await session.exec(
            select(Citizen.number, Citizen.display_name)
            .join(Friendship, col(Friendship.friend_id) == Citizen.id)
            .where(Friendship.citizen_id == citizen.id)
            .order_by(sa.func.lower(Citizen.display_name), col(Citizen.number))
        )
    ).all()
    permits = await active_permits(session, citizen_id=citizen.id, now=now)
    history = await score_history(session, citizen_id=citizen.id)
    recent = await latest_entries(session, citizen_id=citizen.id, limit=RECENT_ENTRIES)
    return PublicCard(
        season=public_season(season, sum(n for _, n in await _counts(session, season.id))),
        number=citizen.number,
        name=citizen.display_name,
        score=citizen.score,
        tier_key=citizen.tier_key,
        tier_name=_tier_names(scenario).get(citizen.tier_key, citizen.tier_key),
        rank=await rank_of_score(session, season_id=season.id, score=citizen.score),
        start_score=scenario.score.start,
        breakdown=tuple((dimension, int(sums.get(dimension, 0) or 0)) for dimension in Dimension),
        permits=tuple(PublicPermit(topic=p.topic_name, expires_at=p.expires_at) for p in permits),
        friends=tuple(PublicFriend(number=n, name=name) for n, name in friends),
        history=tuple((point.at, point.score) for point in history),
        recent=tuple(
            PublicEntry(
                at=e.created_at, audit=e.audit_number, dimension=e.dimension, delta=e.delta, reason=e.reason
            )
            for e in recent
        ),
    )
