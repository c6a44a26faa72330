from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from game.db import transaction
from game.errors import ErrorCode, GameError, InvalidInput, NoActiveSeason, NotAllowed, NotEnrolled
from game.models import (
    Citizen,
    Dimension,
    LedgerEntry,
    OutboxKind,
    OutboxMessage,
    ScoreCount,
    SourceKind,
)
from game.payloads import RoleSync, load_payload
from game.services import appeals, ledger, seasons
from tests.factories import GUILD_ID, NOW, make_citizen, make_season, user_id
from tests.support.refusals import refused


async def _adjust(
    engine: AsyncEngine, delta: int, reason: str = "for the record", n: int = 1
) -> ledger.LedgerChange:
    async with transaction(engine) as session:
        return await ledger.adjust_score(
            session,
            guild_id=GUILD_ID,
            user_id=user_id(n),
            delta=delta,
            reason=reason,
            moderator_id=42,
            now=NOW,
        )


async def _check_invariants(engine: AsyncEngine, season_id: int) -> None:
    """start + sum(deltas) == score for everyone, entries chain, and score_count matches the citizens."""
    async with transaction(engine) as session:
        people = (await session.exec(select(Citizen).where(Citizen.season_id == season_id))).all()
        for citizen in people:
            entries = (
                await session.exec(
                    select(LedgerEntry)
                    .where(LedgerEntry.citizen_id == citizen.id)
                    .order_by(col(LedgerEntry.id))
                )
            ).all()
            assert 600 + sum(entry.delta for entry in entries) == citizen.score
            assert 350 <= citizen.score <= 950
            score = 600
            for entry in entries:
                assert entry.score_before == score
                assert entry.score_after == score + entry.delta
                score = entry.score_after
        counts = {
            score: n
            for score, n in (
                await session.exec(
                    select(ScoreCount.score, ScoreCount.citizens).where(ScoreCount.season_id == season_id)
                )
            ).all()
            if n
        }
        actual = dict(
            (
                await session.exec(
                    select(Citizen.score, sa.func.count())
                    .where(Citizen.season_id == season_id)
                    .group_by(Citizen.score)
                )
            ).all()
        )
    assert counts == actual


async def test_adjust_writes_a_bureau_entry(engine: AsyncEngine) -> None:
    season = await make_season(engine)
    ana = await make_citizen(engine, n=1)
    change = await _adjust(engine, 25, "  helped   a neighbour ")
    assert (change.delta, change.requested, change.score_before, change.score_after) == (25, 25, 600, 625)
    assert not change.clamped
    assert not change.tier_changed
    async with transaction(engine) as session:
        entry = await session.get(LedgerEntry, change.entry_id)
    assert entry is not None
    assert (entry.dimension, entry.source_kind, entry.source_ref) == (
        Dimension.BUREAU,
        SourceKind.MODERATOR,
        "42",
    )
    assert entry.reason == "helped a neighbour"
    assert entry.citizen_id == ana.id
    await _check_invariants(engine, season.id)


async def test_adjust_clamps_and_queues_role_sync_on_tier_change(engine: AsyncEngine) -> None:
    season = await make_season(engine)
    await make_citizen(engine, n=1)
    up = await _adjust(engine, 600)  # 600 + 600 clamps at 950
    assert (up.delta, up.score_after, up.clamped) == (350, 950, True)
    assert (up.tier_before, up.tier_after) == ("ordinary", "model-citizen")
    down = await _adjust(engine, -600)
    assert (down.delta, down.score_after, down.tier_after) == (-600, 350, "untrustworthy")
    async with transaction(engine) as session:
        syncs = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.ROLE_SYNC))
        ).all()
    assert [load_payload(OutboxKind.ROLE_SYNC, m.payload) for m in syncs] == [
        RoleSync(user_id=user_id(1), old_tier="ordinary", new_tier="model-citizen", season_id=season.id),
        RoleSync(user_id=user_id(1), old_tier="model-citizen", new_tier="untrustworthy", season_id=season.id),
    ]
    await _check_invariants(engine, season.id)


async def test_adjust_refusals(engine: AsyncEngine) -> None:
    with pytest.raises(NoActiveSeason):
        await _adjust(engine, 5)
    await make_season(engine)
    await make_citizen(engine, n=1)
    with refused(InvalidInput, ErrorCode.ADJUSTMENT_OUT_OF_RANGE, span=600):
        await _adjust(engine, 0)
    with refused(InvalidInput, ErrorCode.ADJUSTMENT_OUT_OF_RANGE, span=600):
        await _adjust(engine, 601)
    with refused(InvalidInput, ErrorCode.REASON_EMPTY, purpose="adjustment"):
        await _adjust(engine, 5, "   ")
    with refused(InvalidInput, ErrorCode.REASON_TOO_LONG, limit=200, length=201):
        await _adjust(engine, 5, "x" * 201)
    with refused(NotEnrolled, ErrorCode.MEMBER_NOT_ENROLLED):
        await _adjust(engine, 5, n=2)


async def test_ended_season_scores_are_final(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana = await make_citizen(engine, n=1)
    await seasons.end_season(engine, guild_id=GUILD_ID, now=NOW, claimed_by="t")
    async with transaction(engine) as session:
        with refused(NotAllowed, ErrorCode.SEASON_ENDED, what="scores"):
            await ledger.record_change(
                session,
                citizen_id=ana.id,
                delta=5,
                dimension=Dimension.BUREAU,
                reason="late",
                source_kind=SourceKind.MODERATOR,
                now=NOW,
            )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("adjust"), st.integers(min_value=1, max_value=3), st.integers(-400, 400)),
            st.tuples(st.just("appeal"), st.integers(min_value=1, max_value=3), st.booleans()),
        ),
        min_size=1,
        max_size=15,
    )
)
async def test_ledger_invariant_after_adjustments_and_appeals(
    engine: AsyncEngine, steps: list[tuple[str, int, int | bool]]
) -> None:
    """start + sum(deltas) == score, scores in range and the rank table right, whatever mix of
    adjustments, appeals granted and appeals denied."""
    async with transaction(engine) as session:
        season = await seasons.current_season(session, guild_id=GUILD_ID)
    if season is None:
        season = await make_season(engine)
        for n in (1, 2, 3):
            await make_citizen(engine, n=n)
    for kind, n, value in steps:
        if kind == "adjust":
            with contextlib.suppress(InvalidInput):  # a zero delta is refused, as it should be
                await _adjust(engine, int(value), n=n)
            continue
        async with transaction(engine) as session:
            latest = (
                await session.exec(
                    select(LedgerEntry)
                    .join(Citizen, col(Citizen.id) == LedgerEntry.citizen_id)
                    .where(Citizen.user_id == user_id(n), col(LedgerEntry.delta) < 0)
                    .order_by(col(LedgerEntry.id).desc())
                )
            ).first()
        if latest is None or latest.id is None:
            continue
        try:
            async with transaction(engine) as session:
                filed = await appeals.file_appeal(
                    session, guild_id=GUILD_ID, user_id=user_id(n), entry_id=latest.id, reason="no", now=NOW
                )
        except GameError:
            continue  # a reversal, or appealed before
        async with transaction(engine) as session:
            decide = appeals.grant_appeal if value else appeals.deny_appeal
            await decide(session, guild_id=GUILD_ID, appeal_id=filed.id, moderator_id=1, now=NOW)
    await _check_invariants(engine, season.id)
