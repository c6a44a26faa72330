from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from game.db import transaction
from game.errors import NotFound
from game.models import LedgerEntry, PendingMessage
from game.report import SourceKind, ledger_json, render_html
from game.report._analysis import analyse
from game.report.build import build_report_data
from game.scenario import load_scenario
from game.services import appeals, audits, friends, ledger, permits, seasons, shop
from tests.factories import GUILD_ID, NOW, make_citizens, make_season


async def _played_season(engine: AsyncEngine) -> int:
    """Three citizens, two audits, a purchase, a friendship, a permit, an adjustment and an appeal."""
    season = await make_season(engine, duration=timedelta(hours=2), audit_every=timedelta(minutes=10))
    ana, bo, cy = await make_citizens(engine, count=3)
    async with transaction(engine) as session:
        await friends.request_friend(
            session, guild_id=GUILD_ID, user_id=ana.user_id, friend_user_id=bo.user_id, now=NOW
        )
        await friends.accept_friend(
            session, guild_id=GUILD_ID, user_id=bo.user_id, from_user_id=ana.user_id, now=NOW
        )
        await shop.purchase(session, guild_id=GUILD_ID, user_id=cy.user_id, item_key="video-game", now=NOW)
        permit = await permits.request_permit(
            session, guild_id=GUILD_ID, user_id=cy.user_id, topic="politics", reason="debate", now=NOW
        )
        await permits.approve_permit(session, guild_id=GUILD_ID, permit_id=permit.id, moderator_id=1, now=NOW)
        session.add(
            PendingMessage(
                season_id=season.id,
                citizen_id=bo.id,
                channel_id=1,
                message_id=2,
                content="Remember Tiananmen",
                created_at=NOW + timedelta(minutes=1),
            )
        )
    first = NOW + timedelta(minutes=10)
    await audits.run_audit_now(engine, season_id=season.id, now=first, claimed_by="test")
    async with transaction(engine) as session:
        change = await ledger.adjust_score(
            session,
            guild_id=GUILD_ID,
            user_id=ana.user_id,
            delta=-15,
            reason="spitting",
            moderator_id=1,
            now=first + timedelta(minutes=2),
        )
        appeal = await appeals.file_appeal(
            session,
            guild_id=GUILD_ID,
            user_id=ana.user_id,
            entry_id=change.entry_id,
            reason="it was rain",
            now=first + timedelta(minutes=3),
        )
        await appeals.grant_appeal(
            session, guild_id=GUILD_ID, appeal_id=appeal.id, moderator_id=1, now=first + timedelta(minutes=4)
        )
    await audits.run_audit_now(
        engine, season_id=season.id, now=first + timedelta(minutes=10), claimed_by="test"
    )
    return season.id


async def test_report_data_mirrors_the_ledger(engine: AsyncEngine) -> None:
    season_id = await _played_season(engine)
    async with transaction(engine) as session:
        data = await build_report_data(session, season_id, guild_name="Debate Club")
        stored = (await session.exec(select(LedgerEntry).order_by(LedgerEntry.id))).all()
    assert (data.guild_name, data.season_title, data.scenario_name) == ("Debate Club", "Season 1", "Classic")
    assert (data.start_score, data.score_floor, data.score_ceiling) == (600, 350, 950)
    assert [(t.name, t.min_score, t.max_score) for t in data.tiers] == [
        (t.name, t.min_score, t.max_score) for t in load_scenario("classic").tiers
    ]
    assert data.ended_at is None
    assert data.generated_at == stored[-1].created_at  # dated by the data, not the clock
    assert [e.entry_id for e in data.entries] == [e.id for e in stored]
    assert [(e.delta, e.score_before, e.score_after, e.reason) for e in data.entries] == [
        (e.delta, e.score_before, e.score_after, e.reason) for e in stored
    ]
    by_reason = {e.reason: e for e in data.entries}
    adjustment = by_reason["spitting"]
    assert (adjustment.audit_number, adjustment.source) == (1, SourceKind.MODERATOR)  # between audits 1 and 2
    reversal = next(e for e in data.entries if e.source is SourceKind.APPEAL)
    assert (reversal.reverses_entry_id, reversal.audit_number) == (adjustment.entry_id, 1)
    cascade = next(e for e in data.entries if e.source is SourceKind.FRIEND)
    assert (cascade.citizen_number, cascade.related_citizen_number) == (1, 2)  # Ana paid for Bo
    assert [(f.citizen_a, f.citizen_b) for f in data.friendships] == [(1, 2)]
    assert [(p.citizen_number, p.topic, p.status) for p in data.permits] == [(3, "politics", "active")]
    assert [(a.citizen_number, a.status, a.reason) for a in data.appeals] == [(1, "granted", "it was rain")]
    assert [c.display_name for c in data.citizens] == ["citizen-1", "citizen-2", "citizen-3"]
    figures = analyse(data)
    assert figures.issues == ()  # the report's own check: the ledger adds up to every final score
    assert "Debate Club" in render_html(data)
    assert ledger_json(data)


async def test_report_after_the_end_and_for_a_missing_season(engine: AsyncEngine) -> None:
    season_id = await _played_season(engine)
    ended_at = NOW + timedelta(hours=1)
    await seasons.end_season(engine, guild_id=GUILD_ID, now=ended_at, claimed_by="test")
    async with transaction(engine) as session:
        data = await build_report_data(session, season_id)
        later = await build_report_data(session, season_id, now=ended_at + timedelta(days=1))
        with pytest.raises(NotFound):
            await build_report_data(session, season_id + 100)
    assert (data.ended_at, data.generated_at) == (ended_at, ended_at)
    assert later.generated_at == ended_at + timedelta(days=1)
    assert data.guild_name == f"Server {GUILD_ID}"
    assert [p.status for p in data.permits] == ["active"]  # 24 h permit, season over after 1 h
    assert analyse(data).issues == ()
