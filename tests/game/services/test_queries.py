from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from game.db import transaction
from game.errors import ErrorCode, InvalidInput, NotFound
from game.models import Dimension, SourceKind
from game.services import ledger, queries, seasons
from game.services.queries import LeaderboardCursor, LeaderboardOrder
from tests.factories import GUILD_ID, NOW, make_citizen, make_season, set_score
from tests.support.refusals import refused

_guilds = itertools.count(1)


async def _season_with_scores(engine: AsyncEngine, scores: list[int]) -> tuple[int, list[tuple[int, int]]]:
    """A fresh guild and season whose citizens hold ``scores``; returns (season id, [(citizen id, score)])."""
    guild_id = 600_000_000_000_000_000 + next(_guilds)
    season = await make_season(engine, guild_id=guild_id)
    people: list[tuple[int, int]] = []
    for n, score in enumerate(scores, start=1):
        citizen = await make_citizen(engine, n=n, guild_id=guild_id)
        if score != citizen.score:
            await set_score(engine, citizen_id=citizen.id, score=score)
        people.append((citizen.id, score))
    return season.id, people


def _expected(people: list[tuple[int, int]], order: LeaderboardOrder) -> list[int]:
    ranked = sorted(people, key=lambda p: (p[1], p[0]), reverse=order is LeaderboardOrder.TOP)
    return [citizen_id for citizen_id, _ in ranked]


async def _check_pages(engine: AsyncEngine, season_id: int, people: list[tuple[int, int]]) -> None:
    for order in LeaderboardOrder:
        expected = _expected(people, order)
        async with transaction(engine) as session:
            first = await queries.leaderboard_page(session, season_id=season_id, order=order, page=1)
            pages = [first]
            for page in range(2, first.total_pages + 1):
                pages.append(
                    await queries.leaderboard_page(session, season_id=season_id, order=order, page=page)
                )
            # The buttons: next from page 1 to the end, then previous back to the start.
            walked = [first]
            while walked[-1].next_cursor is not None:
                walked.append(
                    await queries.leaderboard_after(
                        session, season_id=season_id, order=order, after=walked[-1].next_cursor
                    )
                )
            back = [walked[-1]]
            while back[-1].prev_cursor is not None:
                back.append(
                    await queries.leaderboard_before(
                        session, season_id=season_id, order=order, before=back[-1].prev_cursor
                    )
                )
        assert first.total_pages == max(1, -(-len(people) // queries.PAGE_SIZE))
        assert first.total_citizens == len(people)
        listed = [row.citizen_id for page in pages for row in page.rows]
        assert listed == expected  # every citizen exactly once, in order
        assert all(len(page.rows) == queries.PAGE_SIZE for page in pages[:-1])
        assert [page.page for page in pages] == list(range(1, len(pages) + 1))
        assert [row.position for page in pages for row in page.rows] == list(range(1, len(people) + 1))
        assert [[r.citizen_id for r in p.rows] for p in walked] == [
            [r.citizen_id for r in p.rows] for p in pages
        ]
        assert [p.page for p in back] == list(range(len(pages), 0, -1))
        assert [[r.citizen_id for r in p.rows] for p in reversed(back)] == [
            [r.citizen_id for r in p.rows] for p in pages
        ]
        scores = dict(people)
        for page in pages:
            for row in page.rows:
                assert row.score == scores[row.citizen_id]
                assert row.rank == 1 + sum(1 for s in scores.values() if s > row.score)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scores=st.lists(st.sampled_from([350, 420, 599, 600, 601, 700, 950]), min_size=0, max_size=34))
async def test_pages_cover_every_citizen_once_in_order(engine: AsyncEngine, scores: list[int]) -> None:
    """Few distinct scores, so pages start in the middle of ties: the keyset boundary is exercised."""
    season_id, people = await _season_with_scores(engine, scores)
    await _check_pages(engine, season_id, people)


async def test_ties_across_page_boundaries(engine: AsyncEngine) -> None:
    season_id, people = await _season_with_scores(engine, [600] * 23 + [650] * 2 + [500] * 3)
    await _check_pages(engine, season_id, people)


async def test_page_refusals_and_empty_board(engine: AsyncEngine) -> None:
    season_id, _ = await _season_with_scores(engine, [])
    async with transaction(engine) as session:
        empty = await queries.leaderboard_page(session, season_id=season_id, order="bottom", page=1)
        assert (empty.rows, empty.total_pages, empty.next_cursor, empty.prev_cursor) == ((), 1, None, None)
        with refused(InvalidInput, ErrorCode.LEADERBOARD_PAGE, total_pages=1):
            await queries.leaderboard_page(session, season_id=season_id, page=2)
        with refused(InvalidInput, ErrorCode.NUMBER_OUT_OF_RANGE, what="the page", low=1):
            await queries.leaderboard_page(session, season_id=season_id, page=0)
        with refused(InvalidInput, ErrorCode.LEADERBOARD_ORDER):
            await queries.leaderboard_page(session, season_id=season_id, order="middle")
        with pytest.raises(NotFound):
            await queries.leaderboard_page(session, season_id=season_id + 999)


def test_cursor_round_trip() -> None:
    cursor = LeaderboardCursor(612, 10**12)
    assert LeaderboardCursor.parse(str(cursor)) == cursor
    with refused(InvalidInput, ErrorCode.LEADERBOARD_CURSOR_EXPIRED):
        LeaderboardCursor.parse("612-x")


async def test_rank_history_latest_and_standings(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana = await make_citizen(engine, n=1, name="ana")
    bo = await make_citizen(engine, n=2, name="bo")
    cy = await make_citizen(engine, n=3, name="cy")
    async with transaction(engine) as session:
        for minutes, delta in ((1, -30), (2, 50)):
            await ledger.record_change(
                session,
                citizen_id=ana.id,
                delta=delta,
                dimension=Dimension.SPEECH,
                reason=f"said something ({delta})",
                source_kind=SourceKind.MESSAGE,
                now=NOW + timedelta(minutes=minutes),
            )
        # Two entries of one moment (one audit) make one point.
        for delta in (-5, -5):
            await ledger.record_change(
                session,
                citizen_id=ana.id,
                delta=delta,
                dimension=Dimension.FINANCE,
                reason="bills",
                source_kind=SourceKind.FINANCE,
                now=NOW + timedelta(minutes=3),
            )
    await set_score(engine, citizen_id=bo.id, score=700)
    async with transaction(engine) as session:
        history = await queries.score_history(session, citizen_id=ana.id)
        latest = await queries.latest_entries(session, citizen_id=ana.id, limit=2)
        ranks = [await queries.citizen_rank(session, citizen_id=c.id) for c in (ana, bo, cy)]
        standings = await queries.final_standings(session, season_id=ana.season_id)
        top_two = await queries.final_standings(session, season_id=ana.season_id, limit=2)
    assert [(p.at - NOW, p.score) for p in history] == [
        (timedelta(0), 600),
        (timedelta(minutes=1), 570),
        (timedelta(minutes=2), 620),
        (timedelta(minutes=3), 610),
    ]
    assert history[0].entry_id is None
    assert [(line.delta, line.reason) for line in latest] == [(-5, "bills"), (-5, "bills")]
    assert ranks == [2, 1, 3]
    assert [(s.rank, s.display_name, s.score) for s in standings] == [
        (1, "bo", 700),
        (2, "ana", 610),
        (3, "cy", 600),
    ]
    assert top_two == standings[:2]


async def test_standing_ranks_share_ties(engine: AsyncEngine) -> None:
    season_id, _ = await _season_with_scores(engine, [700, 600, 700, 500])
    async with transaction(engine) as session:
        standings = await queries.final_standings(session, season_id=season_id)
        ended = await seasons.current_season(session, guild_id=GUILD_ID)
    assert [(s.rank, s.score, s.number) for s in standings] == [
        (1, 700, 1),
        (1, 700, 3),
        (3, 600, 2),
        (4, 500, 4),
    ]
    assert ended is None  # the helper's guild is its own
