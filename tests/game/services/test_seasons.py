from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from game.db import transaction
from game.errors import Conflict, ErrorCode, InvalidInput, NoActiveSeason, NotFound, UnknownScenario
from game.models import (
    Enrollment,
    OutboxKind,
    OutboxMessage,
    PendingMessage,
    Permit,
    Season,
    SeasonStatus,
    ShopItem,
)
from game.scenario import TopicKind, load_scenario
from game.services import edits, permits, seasons
from tests.factories import GUILD_ID, NOW, OTHER_GUILD_ID, make_citizens, make_season
from tests.support.refusals import refused


async def test_start_copies_rules_and_catalogue(engine: AsyncEngine) -> None:
    view = await make_season(engine, duration=timedelta(hours=2), audit_every=timedelta(seconds=10))
    classic = load_scenario("classic")
    assert view.number == 1
    assert view.status is SeasonStatus.RUNNING
    assert view.scenario_name == "Classic"
    assert view.ends_at == NOW + timedelta(hours=2)
    assert view.next_audit_at == NOW + timedelta(seconds=10)
    assert view.audit_every_s == 10
    assert view.citizens == 0
    async with transaction(engine) as session:
        season = await session.get(Season, view.id)
        assert season is not None
        assert season.rules == classic.model_dump(mode="json")
        items = (await session.exec(select(ShopItem).where(ShopItem.season_id == view.id))).all()
    assert sorted(item.key for item in items) == sorted(item.key for item in classic.catalogue)
    mug = next(item for item in items if item.key == "commemorative-mug")
    assert (mug.price, mug.stock, mug.effect) == (25, 10, 4)
    assert next(item for item in items if item.key == "vpn").hidden


async def test_start_uses_scenario_defaults(engine: AsyncEngine) -> None:
    view = await make_season(engine)
    assert view.audit_every == timedelta(minutes=15)
    assert view.ends_at - view.started_at == timedelta(weeks=1)


async def test_start_refusals(engine: AsyncEngine) -> None:
    async with transaction(engine) as session:
        with refused(InvalidInput, ErrorCode.AUDIT_INTERVAL_TOO_SHORT, floor=timedelta(seconds=10)):
            await seasons.start_season(
                session, guild_id=GUILD_ID, scenario_key="classic", now=NOW, audit_every=timedelta(seconds=9)
            )
        with refused(InvalidInput, ErrorCode.AUDIT_INTERVAL_TOO_LONG):
            await seasons.start_season(
                session,
                guild_id=GUILD_ID,
                scenario_key="classic",
                now=NOW,
                duration=timedelta(minutes=5),
                audit_every=timedelta(minutes=10),
            )
        with refused(InvalidInput, ErrorCode.SEASON_DURATION_OUT_OF_RANGE):
            await seasons.start_season(
                session, guild_id=GUILD_ID, scenario_key="classic", now=NOW, duration=timedelta(weeks=60)
            )
        with refused(
            UnknownScenario, ErrorCode.UNKNOWN_SCENARIO, available=("classic", "debate-club", "game-night")
        ):
            await seasons.start_season(session, guild_id=GUILD_ID, scenario_key="nope", now=NOW)


async def test_one_live_season_per_guild(engine: AsyncEngine) -> None:
    await make_season(engine)
    with refused(Conflict, ErrorCode.SEASON_ALREADY_LIVE):
        await make_season(engine)
    other = await make_season(engine, guild_id=OTHER_GUILD_ID)  # another guild is another matter
    assert other.number == 1


async def test_racing_starts_make_one_season(engine: AsyncEngine) -> None:
    """The partial unique index turns the loser of a race into the same clear Conflict."""

    async def start() -> str:
        try:
            await make_season(engine)
        except Conflict as error:
            return error.code.value
        return "started"

    outcomes = await asyncio.gather(*(start() for _ in range(4)))
    assert outcomes.count("started") == 1
    assert all(outcome == ErrorCode.SEASON_ALREADY_LIVE for outcome in outcomes if outcome != "started")
    async with transaction(engine) as session:
        count = (await session.exec(select(sa.func.count()).select_from(Season))).one()
    assert count == 1


async def test_pause_and_resume_shift_deadlines_and_permits(engine: AsyncEngine) -> None:
    view = await make_season(engine, duration=timedelta(hours=2), audit_every=timedelta(minutes=15))
    [citizen] = await make_citizens(engine, count=1)
    async with transaction(engine) as session:
        permit = await permits.request_permit(
            session, guild_id=GUILD_ID, user_id=citizen.user_id, topic="politics", reason="a debate", now=NOW
        )
        await permits.approve_permit(
            session,
            guild_id=GUILD_ID,
            permit_id=permit.id,
            moderator_id=1,
            now=NOW,
            duration=timedelta(hours=1),
        )
    paused_at = NOW + timedelta(minutes=30)
    async with transaction(engine) as session:
        paused = await seasons.pause_season(session, guild_id=GUILD_ID, now=paused_at)
        assert paused.status is SeasonStatus.PAUSED
        assert paused.time_left(paused_at + timedelta(hours=5)) == timedelta(minutes=90)
        with refused(Conflict, ErrorCode.ALREADY_PAUSED):
            await seasons.pause_season(session, guild_id=GUILD_ID, now=paused_at)
    resumed_at = paused_at + timedelta(minutes=45)
    async with transaction(engine) as session:
        resumed = await seasons.resume_season(session, guild_id=GUILD_ID, now=resumed_at)
        with refused(Conflict, ErrorCode.NOT_PAUSED):
            await seasons.resume_season(session, guild_id=GUILD_ID, now=resumed_at)
        stored = await session.get(Permit, permit.id)
    assert resumed.status is SeasonStatus.RUNNING
    assert resumed.paused_at is None
    assert resumed.ends_at == view.ends_at + timedelta(minutes=45)
    assert resumed.next_audit_at == view.next_audit_at + timedelta(minutes=45)
    assert resumed.time_left(resumed_at) == timedelta(minutes=90)
    assert stored is not None
    assert stored.expires_at == NOW + timedelta(hours=1, minutes=45)


async def test_no_season_errors(engine: AsyncEngine) -> None:
    async with transaction(engine) as session:
        assert await seasons.current_season(session, guild_id=GUILD_ID) is None
        with refused(NoActiveSeason, ErrorCode.NO_ACTIVE_SEASON):
            await seasons.pause_season(session, guild_id=GUILD_ID, now=NOW)
        with refused(NotFound, ErrorCode.SEASON_NUMBER_NOT_FOUND, number=3):
            await seasons.get_season(session, guild_id=GUILD_ID, number=3)


async def test_end_early_runs_the_last_audit_and_keeps_the_season_readable(engine: AsyncEngine) -> None:
    first = await make_season(engine, duration=timedelta(hours=2), audit_every=timedelta(minutes=10))
    members = await make_citizens(engine, count=3)
    async with transaction(engine) as session:
        await seasons.pause_season(session, guild_id=GUILD_ID, now=NOW + timedelta(minutes=5))
        session.add(
            PendingMessage(
                season_id=first.id,
                citizen_id=members[0].id,
                channel_id=5,
                message_id=6,
                content="I love positive energy",
                created_at=NOW,
            )
        )
    ended_at = NOW + timedelta(minutes=20)
    summary = await seasons.end_season(engine, guild_id=GUILD_ID, now=ended_at, claimed_by="test")
    assert summary.season.status is SeasonStatus.ENDED
    assert summary.season.ended_at == ended_at
    assert summary.audit is not None
    assert summary.audit.season_ended
    assert [line.number for line in summary.top] == [1, 2, 3]
    async with transaction(engine) as session:
        assert await seasons.current_season(session, guild_id=GUILD_ID) is None
        left = (await session.exec(select(sa.func.count()).select_from(PendingMessage))).one()
        kinds = (await session.exec(select(OutboxMessage.kind))).all()
        assert left == 0  # message text does not outlive the season
        assert OutboxKind.SEASON_END in kinds
        with pytest.raises(NoActiveSeason):
            await seasons.pause_season(session, guild_id=GUILD_ID, now=ended_at)
    with pytest.raises(NoActiveSeason):
        await seasons.end_season(engine, guild_id=GUILD_ID, now=ended_at, claimed_by="test")
    second = await make_season(engine, now=ended_at)
    assert second.number == 2
    async with transaction(engine) as session:
        past = await seasons.past_seasons(session, guild_id=GUILD_ID)
        again = await seasons.get_season(session, guild_id=GUILD_ID, number=1)
    assert [season.number for season in past] == [1]
    assert again.citizens == 3
    assert again.time_left(ended_at) == timedelta(0)


async def test_enrollment_setting(engine: AsyncEngine) -> None:
    await make_season(engine)
    async with transaction(engine) as session:
        view = await seasons.set_enrollment(
            session, guild_id=GUILD_ID, enrollment=Enrollment.MANDATORY, now=NOW
        )
    assert view.enrollment is Enrollment.MANDATORY
    async with transaction(engine) as session:
        current = await seasons.current_season(session, guild_id=GUILD_ID)
    assert current is not None
    assert current.enrollment is Enrollment.MANDATORY


async def test_topic_and_phrase_edits_change_this_season_only(engine: AsyncEngine) -> None:
    await make_season(engine, guild_id=OTHER_GUILD_ID)
    await make_season(engine)
    async with transaction(engine) as session:
        rules = await edits.add_topic(
            session,
            guild_id=GUILD_ID,
            kind=TopicKind.FORBIDDEN,
            key="pineapple-pizza",
            name="pineapple on pizza",
            phrases=["pineapple pizza"],
            delta=-35,
        )
        assert rules.topic("pineapple-pizza").name == "pineapple on pizza"
        rules = await edits.add_phrase(
            session, guild_id=GUILD_ID, topic_key="pineapple-pizza", phrase="Hawaiian"
        )
        rules = await edits.change_topic_delta(session, guild_id=GUILD_ID, key="harmony", delta=7)
        rules = await edits.remove_phrase(session, guild_id=GUILD_ID, topic_key="politics", phrase="VOTE")
        rules = await edits.remove_topic(session, guild_id=GUILD_ID, key="a-certain-bear")
    async with transaction(engine) as session:
        stored = await seasons.season_rules(session, guild_id=GUILD_ID)
        untouched = await seasons.season_rules(session, guild_id=OTHER_GUILD_ID)
    assert stored == rules
    assert stored.topic("pineapple-pizza").phrases == ("pineapple pizza", "Hawaiian")
    assert "vote" not in stored.topic("politics").phrases
    with pytest.raises(KeyError):
        stored.topic("a-certain-bear")
    assert untouched == load_scenario("classic")


async def test_rule_edit_refusals(engine: AsyncEngine) -> None:
    await make_season(engine)
    async with transaction(engine) as session:
        with pytest.raises(InvalidInput, match="already the key"):
            await edits.add_topic(
                session,
                guild_id=GUILD_ID,
                kind=TopicKind.APPROVED,
                key="harmony",
                name="x",
                phrases=["x"],
                delta=3,
            )
        with refused(InvalidInput, ErrorCode.PENALTY_OUT_OF_RANGE):
            await edits.add_topic(
                session,
                guild_id=GUILD_ID,
                kind=TopicKind.FORBIDDEN,
                key="new",
                name="x",
                phrases=["x"],
                delta=5,
            )
        with refused(InvalidInput, ErrorCode.BONUS_OUT_OF_RANGE):
            await edits.change_topic_delta(session, guild_id=GUILD_ID, key="harmony", delta=-5)
        with pytest.raises(InvalidInput, match="no topic 'nope'"):
            await edits.remove_topic(session, guild_id=GUILD_ID, key="nope")
        await edits.remove_phrase(session, guild_id=GUILD_ID, topic_key="positive-energy", phrase="正能量")
        with pytest.raises(InvalidInput, match="remove the topic instead"):
            await edits.remove_phrase(
                session, guild_id=GUILD_ID, topic_key="positive-energy", phrase="positive energy"
            )
        with refused(InvalidInput, ErrorCode.PRICE_OUT_OF_RANGE, high=1_000_000):
            await edits.set_item_price(session, guild_id=GUILD_ID, item_key="vpn", price=-1)


async def test_catalogue_edits_update_shop_rows(engine: AsyncEngine) -> None:
    view = await make_season(engine)
    async with transaction(engine) as session:
        rules = await edits.set_item_price(session, guild_id=GUILD_ID, item_key="vpn", price=99)
        assert rules.item("vpn").price == 99
        rules = await edits.add_catalogue_item(
            session,
            guild_id=GUILD_ID,
            item={"key": "tea", "name": "Green tea", "price": 5, "effect": 1, "reason": "calm", "stock": 3},
        )
        rules = await edits.remove_catalogue_item(session, guild_id=GUILD_ID, item_key="video-game")
        with pytest.raises(InvalidInput, match="no item 'video-game'"):
            await edits.remove_catalogue_item(session, guild_id=GUILD_ID, item_key="video-game")
    async with transaction(engine) as session:
        rows = {
            row.key: row
            for row in (await session.exec(select(ShopItem).where(ShopItem.season_id == view.id))).all()
        }
    assert rows["vpn"].price == 99
    assert (rows["tea"].price, rows["tea"].stock, rows["tea"].active) == (5, 3, True)
    assert not rows["video-game"].active
    # Added back: the same row comes back to life.
    async with transaction(engine) as session:
        await edits.add_catalogue_item(
            session, guild_id=GUILD_ID, item=load_scenario("classic").item("video-game")
        )
        row = (
            await session.exec(
                select(ShopItem).where(ShopItem.season_id == view.id, ShopItem.key == "video-game")
            )
        ).one()
    assert row.active


async def test_a_guild_that_never_played_opens_its_first_season_once(engine: AsyncEngine) -> None:
    async with transaction(engine) as session:
        first = await seasons.open_first_season(session, guild_id=GUILD_ID, now=NOW)
    async with transaction(engine) as session:
        again = await seasons.open_first_season(session, guild_id=GUILD_ID, now=NOW)
    assert first is not None
    assert (first.number, first.scenario_key, first.status) == (1, "classic", SeasonStatus.RUNNING)
    assert first.ends_at - first.started_at == load_scenario("classic").season.duration
    assert again is None
    # Once a guild has played, only the Bureau starts seasons, even after the last one ended.
    await seasons.end_season(engine, guild_id=GUILD_ID, now=NOW + timedelta(minutes=1), claimed_by="test")
    async with transaction(engine) as session:
        assert (
            await seasons.open_first_season(session, guild_id=GUILD_ID, now=NOW + timedelta(hours=1)) is None
        )
        assert await seasons.open_first_season(session, guild_id=OTHER_GUILD_ID, now=NOW) is not None
