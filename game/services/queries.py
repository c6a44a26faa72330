"""Read-side queries: leaderboards, a citizen's history, final standings.

Leaderboards page by KEYSET on the ``(season_id, score, id)`` index, never by ``OFFSET``:

* ``top`` lists ``score DESC, id DESC`` and ``bottom`` lists ``score ASC, id ASC`` (exactly the
  reverse), so both read the index in one direction; equal scores list the later citizen first
  at the top. A :class:`LeaderboardCursor` is the ``(score, id)`` of a row; the next page is the rows
  strictly after it, the previous page the rows strictly before it.
* Page N (:func:`leaderboard_page`) is reached without reading the N-1 pages before it: the
  ``score_count`` table (how many citizens hold each score, at most a few hundred rows) tells which
  score the page starts in and how many citizens of that score come before it; the boundary row is
  then found inside that one score, on the index. The only rows read besides the page itself are the
  ties at the boundary score.

Ranks come from the rank table (:mod:`game.services.ranks`); its three functions are re-exported here
for the callers that read a leaderboard and a rank together.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import ErrorCode, InvalidInput, NotFound
from game.inputs import check_number
from game.models import Citizen, Dimension, LedgerEntry, Season, SourceKind
from game.services.lookup import scenario_of
from game.services.ranks import citizen_rank, move_score_count, rank_of_score, ranks_by_score, score_counts
from game.services.seasons import StandingLine, standings

__all__ = [
    "MAX_PAGE",
    "PAGE_SIZE",
    "HistoryPoint",
    "LeaderboardCursor",
    "LeaderboardOrder",
    "LeaderboardPage",
    "LeaderboardRow",
    "LedgerLine",
    "citizen_rank",
    "final_standings",
    "latest_entries",
    "leaderboard_after",
    "leaderboard_before",
    "leaderboard_page",
    "move_score_count",
    "rank_of_score",
    "score_history",
]

PAGE_SIZE = 10
# The last page anyone may ask for (a million citizens); Discord's option has the same bound.
MAX_PAGE = 100_000
MAX_ENTRIES = 100


class LeaderboardOrder(enum.StrEnum):
    TOP = "top"
    BOTTOM = "bottom"


@dataclass(frozen=True, slots=True, order=True)
class LeaderboardCursor:
    """A row's place in the leaderboard; ``str()`` and :meth:`parse` round-trip it (for button ids)."""

    score: int
    citizen_id: int

    def __str__(self) -> str:
        return f"{self.score}:{self.citizen_id}"

    @classmethod
    def parse(cls, text: str) -> LeaderboardCursor:
        try:
            score, citizen_id = (int(part) for part in text.split(":"))
        except ValueError:
            raise InvalidInput(ErrorCode.LEADERBOARD_CURSOR_EXPIRED) from None
        return cls(score, citizen_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderboardRow:
    """One line of the leaderboard. ``position`` counts from 1 in the page's order (top or bottom);
    ``rank`` is the competition rank from the top, shared by equal scores."""

    position: int
    rank: int
    citizen_id: int
    number: int
    user_id: int
    display_name: str
    score: int
    tier_key: str
    tier_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderboardPage:
    """A page of ten. ``page`` is 1-based (the page the first row falls on); ``next_cursor`` is set
    when rows follow (pass it as ``after``), ``prev_cursor`` when rows precede (pass it as ``before``)."""

    season_id: int
    order: LeaderboardOrder
    page: int
    total_pages: int
    total_citizens: int
    rows: tuple[LeaderboardRow, ...]
    next_cursor: LeaderboardCursor | None
    prev_cursor: LeaderboardCursor | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryPoint:
    """The score at a moment: the start (``entry_id`` None), then after each ledger entry."""

    at: datetime
    score: int
    entry_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerLine:
    """A ledger entry as the citizen reads it."""

    entry_id: int
    created_at: datetime
    audit_number: int | None
    dimension: Dimension
    delta: int
    score_before: int
    score_after: int
    reason: str
    source_kind: SourceKind
    source_ref: str | None
    rule_key: str | None
    related_citizen_id: int | None
    reverses_entry_id: int | None


# ---------------------------------------------------------------------------------------------------
# Leaderboards


def _after(order: LeaderboardOrder, cursor: LeaderboardCursor) -> sa.ColumnElement[bool]:
    """Rows strictly after ``cursor`` in ``order``."""
    here = sa.tuple_(col(Citizen.score), col(Citizen.id))
    there = sa.tuple_(sa.literal(cursor.score), sa.literal(cursor.citizen_id))
    return here < there if order is LeaderboardOrder.TOP else here > there


def _before(order: LeaderboardOrder, cursor: LeaderboardCursor) -> sa.ColumnElement[bool]:
    return _after(LeaderboardOrder.BOTTOM if order is LeaderboardOrder.TOP else LeaderboardOrder.TOP, cursor)


def _ordering(order: LeaderboardOrder, *, reverse: bool = False) -> tuple[Any, Any]:
    descending = (order is LeaderboardOrder.TOP) != reverse
    if descending:
        return col(Citizen.score).desc(), col(Citizen.id).desc()
    return col(Citizen.score).asc(), col(Citizen.id).asc()


def _check_order(order: LeaderboardOrder | str) -> LeaderboardOrder:
    try:
        return LeaderboardOrder(order)
    except ValueError:
        raise InvalidInput(ErrorCode.LEADERBOARD_ORDER) from None


async def _season(session: AsyncSession, season_id: int) -> Season:
    season = await session.get(Season, season_id)
    if season is None:
        raise NotFound(ErrorCode.SEASON_NOT_FOUND)
    return season


async def _rows_from(
    session: AsyncSession, season_id: int, condition: sa.ColumnElement[bool] | None, ordering: tuple[Any, Any]
) -> list[Citizen]:
    statement = select(Citizen).where(Citizen.season_id == season_id)
    if condition is not None:
        statement = statement.where(condition)
    return list((await session.exec(statement.order_by(*ordering).limit(PAGE_SIZE))).all())


async def _ties_before(
    session: AsyncSession, season_id: int, order: LeaderboardOrder, cursor: LeaderboardCursor
) -> int:
    """How many citizens with the cursor's score come before it in ``order`` (one score's index range)."""
    condition = (
        col(Citizen.id) > cursor.citizen_id
        if order is LeaderboardOrder.TOP
        else (col(Citizen.id) < cursor.citizen_id)
    )
    return (
        await session.exec(
            select(sa.func.count())
            .select_from(Citizen)
            .where(Citizen.season_id == season_id, Citizen.score == cursor.score, condition)
        )
    ).one()


def _before_score(counts: Sequence[tuple[int, int]], order: LeaderboardOrder, score: int) -> int:
    """Citizens whose score comes before ``score`` in ``order``."""
    if order is LeaderboardOrder.TOP:
        return sum(citizens for s, citizens in counts if s > score)
    return sum(citizens for s, citizens in counts if s < score)


async def _page(
    session: AsyncSession,
    season: Season,
    order: LeaderboardOrder,
    counts: list[tuple[int, int]],
    citizens: Sequence[Citizen],
    first_position: int,
) -> LeaderboardPage:
    assert season.id is not None
    scenario = scenario_of(season)
    names = {tier.key: tier.name for tier in scenario.tiers}
    ranks = ranks_by_score(counts)
    total = sum(n for _, n in counts)
    rows = tuple(
        LeaderboardRow(
            position=first_position + index,
            rank=ranks.get(citizen.score, 1),
            citizen_id=citizen.id or 0,
            number=citizen.number,
            user_id=citizen.user_id,
            display_name=citizen.display_name,
            score=citizen.score,
            tier_key=citizen.tier_key,
            tier_name=names.get(citizen.tier_key, citizen.tier_key),
        )
        for index, citizen in enumerate(citizens)
    )
    next_cursor = prev_cursor = None
    if rows:
        last, first = rows[-1], rows[0]
        if last.position < total:
            next_cursor = LeaderboardCursor(last.score, last.citizen_id)
        if first.position > 1:
            prev_cursor = LeaderboardCursor(first.score, first.citizen_id)
    return LeaderboardPage(
        season_id=season.id,
        order=order,
        page=(first_position - 1) // PAGE_SIZE + 1,
        total_pages=max(1, math.ceil(total / PAGE_SIZE)),
        total_citizens=total,
        rows=rows,
        next_cursor=next_cursor,
        prev_cursor=prev_cursor,
    )


async def leaderboard_page(
    session: AsyncSession,
    *,
    season_id: int,
    order: LeaderboardOrder | str = LeaderboardOrder.TOP,
    page: int = 1,
) -> LeaderboardPage:
    """Page ``page`` (1-based, ten a page) of the top or bottom leaderboard, found by keyset.

    An empty season has one empty page. ``InvalidInput`` for a page below 1 or past the last.
    """
    order = _check_order(order)
    check_number(page, what="the page", low=1, high=MAX_PAGE)
    season = await _season(session, season_id)
    counts = await score_counts(session, season_id)
    total = sum(n for _, n in counts)
    total_pages = max(1, math.ceil(total / PAGE_SIZE))
    if not 1 <= page <= total_pages:
        raise InvalidInput(ErrorCode.LEADERBOARD_PAGE, total_pages=total_pages)
    skip = (page - 1) * PAGE_SIZE
    walk = counts if order is LeaderboardOrder.TOP else list(reversed(counts))
    condition: sa.ColumnElement[bool] | None = None
    passed = 0
    for score, citizens in walk:
        if passed + citizens > skip:
            within = skip - passed  # citizens of this score on earlier pages
            if within == 0:
                condition = (
                    col(Citizen.score) <= score
                    if order is LeaderboardOrder.TOP
                    else (col(Citizen.score) >= score)
                )
            else:
                boundary = await _boundary(session, season_id, order, score, within)
                condition = _after(order, LeaderboardCursor(score, boundary))
            break
        passed += citizens
    rows = await _rows_from(session, season_id, condition, _ordering(order))
    return await _page(session, season, order, counts, rows, skip + 1)


async def _boundary(
    session: AsyncSession, season_id: int, order: LeaderboardOrder, score: int, within: int
) -> int:
    """The id of the ``within``-th citizen (1-based) of ``score`` in ``order``: the last one on the
    previous page. Reads only that score's entries of the index, up to ``within`` of them."""
    ids = (
        select(Citizen.id)
        .where(Citizen.season_id == season_id, Citizen.score == score)
        .order_by(col(Citizen.id).desc() if order is LeaderboardOrder.TOP else col(Citizen.id).asc())
        .limit(within)
        .subquery()
    )
    pick = sa.func.min(ids.c.id) if order is LeaderboardOrder.TOP else sa.func.max(ids.c.id)
    value = (await session.exec(select(pick))).one()
    assert value is not None
    return int(value)


async def leaderboard_after(
    session: AsyncSession,
    *,
    season_id: int,
    order: LeaderboardOrder | str = LeaderboardOrder.TOP,
    after: LeaderboardCursor | None = None,
) -> LeaderboardPage:
    """The ten rows after ``after`` (the first page when ``None``): the "next" button."""
    order = _check_order(order)
    season = await _season(session, season_id)
    counts = await score_counts(session, season_id)
    condition = None if after is None else _after(order, after)
    rows = await _rows_from(session, season_id, condition, _ordering(order))
    first = await _position(session, season_id, order, counts, rows)
    return await _page(session, season, order, counts, rows, first)


async def leaderboard_before(
    session: AsyncSession,
    *,
    season_id: int,
    order: LeaderboardOrder | str = LeaderboardOrder.TOP,
    before: LeaderboardCursor,
) -> LeaderboardPage:
    """The ten rows before ``before``, in display order: the "previous" button. Near the start it is
    the first page."""
    order = _check_order(order)
    season = await _season(session, season_id)
    counts = await score_counts(session, season_id)
    rows = list(
        reversed(await _rows_from(session, season_id, _before(order, before), _ordering(order, reverse=True)))
    )
    if len(rows) < PAGE_SIZE:
        return await leaderboard_after(session, season_id=season_id, order=order)
    first = await _position(session, season_id, order, counts, rows)
    return await _page(session, season, order, counts, rows, first)


async def _position(
    session: AsyncSession,
    season_id: int,
    order: LeaderboardOrder,
    counts: Sequence[tuple[int, int]],
    rows: Sequence[Citizen],
) -> int:
    """1-based position of the first row (1 for an empty page)."""
    if not rows:
        return 1
    first = rows[0]
    assert first.id is not None
    cursor = LeaderboardCursor(first.score, first.id)
    return (
        _before_score(counts, order, first.score) + await _ties_before(session, season_id, order, cursor) + 1
    )


# ---------------------------------------------------------------------------------------------------
# A citizen's history, and a season's standings


def _line(entry: LedgerEntry) -> LedgerLine:
    assert entry.id is not None
    return LedgerLine(
        entry_id=entry.id,
        created_at=entry.created_at,
        audit_number=entry.audit_number,
        dimension=Dimension(entry.dimension),
        delta=entry.delta,
        score_before=entry.score_before,
        score_after=entry.score_after,
        reason=entry.reason,
        source_kind=SourceKind(entry.source_kind),
        source_ref=entry.source_ref,
        rule_key=entry.rule_key,
        related_citizen_id=entry.related_citizen_id,
        reverses_entry_id=entry.reverses_entry_id,
    )


async def latest_entries(
    session: AsyncSession, *, citizen_id: int, limit: int = 10
) -> tuple[LedgerLine, ...]:
    """The citizen's latest ledger entries, newest first (at most 100)."""
    rows = await session.exec(
        select(LedgerEntry)
        .where(LedgerEntry.citizen_id == citizen_id)
        .order_by(col(LedgerEntry.id).desc())
        .limit(max(1, min(limit, MAX_ENTRIES)))
    )
    return tuple(_line(entry) for entry in rows.all())


async def score_history(session: AsyncSession, *, citizen_id: int) -> tuple[HistoryPoint, ...]:
    """The score over the season: the start when the citizen joined, then one point per moment the
    score changed (entries of one audit share a time and collapse into the last of them)."""
    citizen = await session.get(Citizen, citizen_id)
    if citizen is None:
        raise NotFound(ErrorCode.CITIZEN_GONE)
    entries = (
        await session.exec(
            select(LedgerEntry.id, LedgerEntry.created_at, LedgerEntry.score_before, LedgerEntry.score_after)
            .where(LedgerEntry.citizen_id == citizen_id)
            .order_by(col(LedgerEntry.id))
        )
    ).all()
    start = entries[0][2] if entries else citizen.score
    points = [HistoryPoint(at=citizen.joined_at, score=start, entry_id=None)]
    for entry_id, created_at, _, after in entries:
        if points[-1].at == created_at and points[-1].entry_id is not None:
            points[-1] = HistoryPoint(at=created_at, score=after, entry_id=entry_id)
        else:
            points.append(HistoryPoint(at=created_at, score=after, entry_id=entry_id))
    return tuple(points)


async def final_standings(
    session: AsyncSession, *, season_id: int, limit: int | None = None
) -> tuple[StandingLine, ...]:
    """The season's citizens from the highest score down, ranked (1, 2, 2, 4); ties by citizen number."""
    await _season(session, season_id)
    return await standings(session, season_id=season_id, limit=limit)
