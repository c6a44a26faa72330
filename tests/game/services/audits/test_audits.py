"""The audit, step by step, on SQLite and PostgreSQL (rows built with ``tests.factories.rows``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from game.errors import Conflict, NotAllowed, NotFound
from game.models import (
    Dimension,
    OutboxKind,
    RequestStatus,
    SeasonStatus,
    SourceKind,
)
from game.rules.economy import settle_finances
from game.rules.schedule import next_on_grid
from game.services.audits import FRIEND_RULE_KEY, UNPAID_RULE_KEY, run_audit_now, run_due_audit
from game.vocabulary import message_ref
from tests.factories.rows import (
    CHANNEL,
    GUILD,
    ME,
    T0,
    audit,
    befriend,
    buy,
    citizen,
    classic,
    count,
    grant_permit,
    ledger,
    new_citizen,
    new_season,
    outbox,
    pending_t,
    post,
    purchase_t,
    quiet_economy,
    season_row,
    speech,
)

# ---------------------------------------------------------------------------------------------------
# Step 1: speech


async def test_forbidden_topic_costs_its_penalty_with_the_message_link(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1, name="ana")
    message = await post(engine, season, ana, "Remember the TANK-MAN, 1989!", at=T0 + timedelta(minutes=1))

    result = await audit(engine, season, now=T0 + timedelta(minutes=15))

    assert result.number == 1
    assert result.messages_scored == 1
    (entry,) = [e for e in await ledger(engine, ana) if e.dimension == Dimension.SPEECH.value]
    assert (entry.rule_key, entry.delta, entry.score_before, entry.score_after) == (
        "tiananmen-1989",
        -60,
        600,
        540,
    )
    assert entry.source_kind == SourceKind.MESSAGE.value
    assert entry.source_ref == message_ref(CHANNEL, message)
    assert "Tiananmen" in entry.reason
    assert entry.audit_number == 1
    assert (await citizen(engine, ana)).tier_key == "untrustworthy"


async def test_message_text_is_gone_after_the_audit(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await post(engine, season, ana, "nothing to see here")
    await post(engine, season, ana, "positive energy")
    assert await count(engine, pending_t, season_id=season) == 2

    result = await audit(engine, season, now=T0 + timedelta(minutes=15))

    assert result.messages_scored == 2
    assert await count(engine, pending_t, season_id=season) == 0
    # What remains is the rule and the link, never the words.
    for entry in await ledger(engine, ana):
        assert "nothing to see" not in entry.reason


async def test_permit_topic_without_a_permit_is_a_penalty(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1)
    await post(engine, season, ana, "Let us talk about the election", at=T0 + timedelta(minutes=1))

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    assert speech(await ledger(engine, ana)) == [("politics", -25)]


async def test_permit_covers_only_messages_sent_while_it_is_active(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1)
    bo = await new_citizen(engine, season, user_id=2)
    await grant_permit(
        engine, season, ana, "politics", since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=5)
    )
    # Before the permit, during it, after it expired; and bo, who holds none.
    await post(engine, season, ana, "democracy now", at=T0 + timedelta(minutes=1))
    await post(engine, season, ana, "voting matters", at=T0 + timedelta(minutes=3))
    await post(engine, season, ana, "parliament", at=T0 + timedelta(minutes=6))
    await post(engine, season, bo, "voting matters", at=T0 + timedelta(minutes=3))
    # A permit for one topic does not cover another.
    await post(engine, season, ana, "inflation is up", at=T0 + timedelta(minutes=4))

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    assert speech(await ledger(engine, ana)) == [("politics", -25), ("economy", -25), ("politics", -25)]
    assert speech(await ledger(engine, bo)) == [("politics", -25)]


async def test_an_expired_permit_still_covered_what_was_said_before_it_expired(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1)
    await grant_permit(
        engine,
        season,
        ana,
        "politics",
        since=T0,
        until=T0 + timedelta(minutes=5),
        status=RequestStatus.EXPIRED,
    )
    await post(engine, season, ana, "free speech", at=T0 + timedelta(minutes=4))
    await grant_permit(engine, season, ana, "economy", since=T0, until=None, status=RequestStatus.DENIED)
    await post(engine, season, ana, "GDP", at=T0 + timedelta(minutes=4))

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    assert speech(await ledger(engine, ana)) == [("economy", -25)]


async def test_approved_talk_is_rate_limited_and_repeats_earn_nothing(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1)
    at = T0 + timedelta(minutes=1)
    await post(engine, season, ana, "positive energy", at=at)  # +10
    await post(engine, season, ana, "such harmony", at=at + timedelta(seconds=30))  # too soon
    await post(engine, season, ana, "positive energy!", at=at + timedelta(seconds=90))  # a repeat
    await post(engine, season, ana, "hard work pays", at=at + timedelta(seconds=100))  # +5
    await post(engine, season, ana, "tank man", at=at + timedelta(seconds=101))  # penalties never wait
    await post(engine, season, ana, "tank man", at=at + timedelta(seconds=102))

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    assert speech(await ledger(engine, ana)) == [
        ("positive-energy", 10),
        ("productivity", 5),
        ("tiananmen-1989", -60),
        ("tiananmen-1989", -60),
    ]
    row = await citizen(engine, ana)
    assert row.last_reward_at == at + timedelta(seconds=100)
    assert len(row.recent_digests) == 5


async def test_reward_gate_state_carries_over_to_the_next_audit(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1)
    await post(engine, season, ana, "long live the Bureau", at=T0 + timedelta(minutes=14, seconds=50))
    await audit(engine, season, now=T0 + timedelta(minutes=15))
    # Ten seconds later, in the next audit: still too soon. Then the same words again later: a repeat.
    await post(engine, season, ana, "social stability", at=T0 + timedelta(minutes=15))
    await post(engine, season, ana, "long live the Bureau", at=T0 + timedelta(minutes=20))
    await audit(engine, season, now=T0 + timedelta(minutes=30))

    assert speech(await ledger(engine, ana)) == [("gratitude", 15)]


# ---------------------------------------------------------------------------------------------------
# Step 2: consumption


async def test_purchases_take_effect_once_one_entry_each(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1)
    diapers = await buy(engine, season, ana, "diapers", quantity=2)
    game = await buy(engine, season, ana, "video-game")

    result = await audit(engine, season, now=T0 + timedelta(minutes=15))
    await audit(engine, season, now=T0 + timedelta(minutes=30))

    assert result.purchases_applied == 2
    entries = [e for e in await ledger(engine, ana) if e.source_kind == SourceKind.PURCHASE.value]
    assert [(e.source_ref, e.delta, e.dimension, e.audit_number) for e in entries] == [
        (str(diapers), 20, "consumption", 1),
        (str(game), -20, "consumption", 1),
    ]
    assert "responsible parent" in entries[0].reason
    async with engine.connect() as connection:
        stamped = (await connection.execute(sa.select(purchase_t.c.audit_number))).scalars().all()
    assert stamped == [1, 1]


# ---------------------------------------------------------------------------------------------------
# Step 3: finance


def test_settle_finances_pays_stipend_then_debt_then_cost_of_living() -> None:
    assert settle_finances(balance=500, debt=0, stipend=20, cost_of_living=15) == (505, 0, False)
    assert settle_finances(balance=3, debt=0, stipend=0, cost_of_living=15) == (0, 12, True)
    assert settle_finances(balance=0, debt=12, stipend=20, cost_of_living=15) == (0, 7, True)
    assert settle_finances(balance=10, debt=5, stipend=20, cost_of_living=15) == (10, 0, False)


async def test_stipend_and_cost_of_living(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    row = await citizen(engine, ana)
    assert (row.balance, row.debt, row.score) == (505, 0, 600)
    assert await ledger(engine, ana) == []


async def test_who_cannot_pay_gets_the_penalty_and_the_debt(engine: AsyncEngine) -> None:
    season = await new_season(
        engine, scenario=classic(**{"economy.stipend": 5, "economy.cost_of_living": 15})
    )
    ana = await new_citizen(engine, season, user_id=1, balance=4)

    await audit(engine, season, now=T0 + timedelta(minutes=15))
    row = await citizen(engine, ana)
    assert (row.balance, row.debt, row.score) == (0, 6, 590)

    await audit(engine, season, now=T0 + timedelta(minutes=30))
    row = await citizen(engine, ana)
    assert (row.balance, row.debt, row.score) == (0, 16, 580)
    entries = await ledger(engine, ana)
    assert [(e.dimension, e.rule_key, e.delta, e.source_kind) for e in entries] == [
        ("finance", UNPAID_RULE_KEY, -10, "finance"),
        ("finance", UNPAID_RULE_KEY, -10, "finance"),
    ]


# ---------------------------------------------------------------------------------------------------
# Step 4: friends


async def test_friends_lose_k_times_the_penalty_one_hop_no_echo(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1, name="ana")
    bo = await new_citizen(engine, season, user_id=2, name="bo")
    cy = await new_citizen(engine, season, user_id=3, name="cy")
    di = await new_citizen(engine, season, user_id=4, name="di")
    await befriend(engine, season, ana, bo)
    await befriend(engine, season, ana, cy)
    await befriend(engine, season, bo, di)  # di is two hops from ana
    await post(engine, season, ana, "tiananmen")  # -60: bo and cy lose 12 each

    result = await audit(engine, season, now=T0 + timedelta(minutes=15))

    for friend in (bo, cy):
        (entry,) = await ledger(engine, friend)
        assert (entry.dimension, entry.delta, entry.related_citizen_id) == ("social", -12, ana)
        assert (entry.rule_key, entry.source_kind, entry.source_ref) == (FRIEND_RULE_KEY, "friend", str(ana))
        assert (
            entry.reason == "A friend was penalised 60 points in this audit"
        )  # the name lives in related_citizen_id
    # One hop: di does not pay for bo's loss; no echo: ana does not pay for her friends' losses.
    assert await ledger(engine, di) == []
    assert [e.dimension for e in await ledger(engine, ana)] == ["speech"]
    assert result.social_entries == 2

    (bulletin,) = await outbox(engine, season, OutboxKind.BULLETIN)
    cascades = bulletin.payload["friend_cascades"]
    assert {(c["display_name"], c["friend"]["display_name"], c["delta"]) for c in cascades} == {
        ("bo", "ana", -12),
        ("cy", "ana", -12),
    }


async def test_friend_penalties_are_capped_and_split_exactly(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1)
    friends = [await new_citizen(engine, season, user_id=10 + n) for n in range(5)]
    for friend in friends:
        await befriend(engine, season, ana, friend)
        await post(engine, season, friend, "tiananmen")  # 5 x -60 = -300; k * S = -60, capped at -50
    await post(engine, season, friends[0], "Winnie the Pooh")  # this friend got -90 in all

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    social = [e for e in await ledger(engine, ana) if e.dimension == "social"]
    assert sum(e.delta for e in social) == -50
    assert {e.related_citizen_id for e in social} == set(friends)
    # Shared in proportion: the friend who lost most costs most.
    by_friend = {e.related_citizen_id: e.delta for e in social}
    assert by_friend[friends[0]] == min(by_friend.values())
    assert (await citizen(engine, ana)).score == 550


async def test_friend_penalty_factor_truncates_toward_zero(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1)
    bo = await new_citizen(engine, season, user_id=2)
    cy = await new_citizen(engine, season, user_id=3)
    await befriend(engine, season, ana, bo)
    await befriend(engine, season, ana, cy)
    await post(engine, season, bo, "Pooh Bear")  # -30
    await post(engine, season, cy, "GDP growth")  # -25; 0.2 * -55 = -11

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    social = {e.related_citizen_id: e.delta for e in await ledger(engine, ana)}
    assert sum(social.values()) == -11
    assert social == {bo: -6, cy: -5}


async def test_gains_do_not_offset_a_friends_penalties(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1)
    bo = await new_citizen(engine, season, user_id=2)
    await befriend(engine, season, ana, bo)
    await buy(engine, season, bo, "diapers", quantity=5)  # +50
    await post(engine, season, bo, "tank man")  # -60

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    assert [e.delta for e in await ledger(engine, ana)] == [-12]


# ---------------------------------------------------------------------------------------------------
# Step 5: clamping


async def test_clamping_at_the_floor_records_the_delta_applied(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1, score=360)
    bo = await new_citizen(engine, season, user_id=2, score=355)
    await befriend(engine, season, ana, bo)
    await post(engine, season, ana, "tiananmen")
    await post(engine, season, ana, "tiananmen")

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    entries = await ledger(engine, ana, audit_number=1)
    assert [(e.delta, e.score_before, e.score_after) for e in entries] == [(-10, 360, 350), (0, 350, 350)]
    # ana's applied penalty is -10: bo loses trunc(0.2 * -10) = -2, clamped to what is left above 350.
    (social,) = await ledger(engine, bo, audit_number=1)
    assert (social.delta, social.score_before, social.score_after) == (-2, 355, 353)


async def test_clamping_at_the_ceiling(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1, score=945)
    await post(engine, season, ana, "positive energy")
    await buy(engine, season, ana, "diapers")

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    entries = await ledger(engine, ana, audit_number=1)
    assert [(e.delta, e.score_after) for e in entries] == [(5, 950), (0, 950)]
    assert (await citizen(engine, ana)).tier_key == "model-citizen"


async def test_a_friends_penalty_at_the_floor_is_what_they_actually_lost(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1, score=350)
    bo = await new_citizen(engine, season, user_id=2)
    await befriend(engine, season, ana, bo)
    await post(engine, season, ana, "tiananmen")  # applied 0 at the floor

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    assert await ledger(engine, bo) == []


# ---------------------------------------------------------------------------------------------------
# Step 6: outbox


async def test_tier_changes_become_role_syncs_and_one_bulletin(engine: AsyncEngine) -> None:
    season = await new_season(engine, scenario=quiet_economy())
    ana = await new_citizen(engine, season, user_id=1, name="ana", score=745)
    bo = await new_citizen(engine, season, user_id=2, name="bo", score=560)
    await new_citizen(engine, season, user_id=3, name="cy")
    await post(engine, season, ana, "the Chinese Dream")  # +8: 753, visa
    await post(engine, season, bo, "Charter 08")  # -50: 510, untrustworthy

    await audit(engine, season, now=T0 + timedelta(minutes=15))

    syncs = {
        row.payload["user_id"]: row.payload for row in await outbox(engine, season, OutboxKind.ROLE_SYNC)
    }
    assert {user: (p["old_tier"], p["new_tier"]) for user, p in syncs.items()} == {
        1: ("travel-permit", "visa"),
        2: ("ordinary", "untrustworthy"),
    }
    (bulletin,) = await outbox(engine, season, OutboxKind.BULLETIN)
    payload = bulletin.payload
    assert payload["audit_number"] == 1
    assert [(m["display_name"], m["delta"], m["score"]) for m in payload["top_gains"]] == [("ana", 8, 753)]
    assert [(m["display_name"], m["delta"]) for m in payload["top_losses"]] == [("bo", -50)]
    assert [(p["display_name"], p["new_tier"]) for p in payload["promotions"]] == [("ana", "visa")]
    assert [(p["display_name"], p["new_tier"]) for p in payload["demotions"]] == [("bo", "untrustworthy")]
    assert bulletin.guild_id == GUILD


async def test_every_audit_posts_one_bulletin_even_a_quiet_one(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    await new_citizen(engine, season, user_id=1)
    await audit(engine, season, now=T0 + timedelta(minutes=15))
    await audit(engine, season, now=T0 + timedelta(minutes=30))
    assert [row.payload["audit_number"] for row in await outbox(engine, season, OutboxKind.BULLETIN)] == [
        1,
        2,
    ]
    assert await outbox(engine, season, OutboxKind.ROLE_SYNC) == []


# ---------------------------------------------------------------------------------------------------
# Exactly once, schedules, pauses and deadlines


async def test_the_same_audit_number_runs_once(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await post(engine, season, ana, "tiananmen")
    now = T0 + timedelta(minutes=15)

    first = await run_audit_now(engine, season_id=season, now=now, claimed_by=ME, number=1)
    before = await ledger(engine, ana)
    again = await run_audit_now(engine, season_id=season, now=now, claimed_by=ME, number=1)

    assert first is not None
    assert first.number == 1
    assert again is None
    assert await ledger(engine, ana) == before
    assert (await season_row(engine, season)).last_audit_number == 1
    assert len(await outbox(engine, season, OutboxKind.BULLETIN)) == 1


async def test_run_due_audit_twice_at_the_same_time_runs_once(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await post(engine, season, ana, "tiananmen")
    now = T0 + timedelta(minutes=15)

    first = await run_due_audit(engine, season_id=season, now=now, claimed_by=ME)
    second = await run_due_audit(engine, season_id=season, now=now, claimed_by="another-process")

    assert first is not None
    assert second is None
    row = await season_row(engine, season)
    assert (row.last_audit_number, row.next_audit_at) == (1, now + timedelta(minutes=15))
    async with engine.connect() as connection:
        audits = (await connection.execute(sa.text("SELECT number, claimed_by FROM audit"))).all()
    assert [tuple(a) for a in audits] == [(1, ME)]


async def test_not_due_yet_does_nothing(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    await new_citizen(engine, season, user_id=1)
    assert (
        await run_due_audit(engine, season_id=season, now=T0 + timedelta(minutes=14), claimed_by=ME) is None
    )
    assert (await season_row(engine, season)).last_audit_number == 0


async def test_audits_missed_while_down_are_caught_up_as_one(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await post(engine, season, ana, "positive energy", at=T0 + timedelta(minutes=3))
    back = T0 + timedelta(hours=3, minutes=7)

    result = await run_due_audit(engine, season_id=season, now=back, claimed_by=ME)

    assert result is not None
    assert result.number == 1
    # The schedule keeps its grid (every 15 minutes from the start): the next slot after 3:07 is 3:15.
    on_grid = T0 + timedelta(hours=3, minutes=15)
    assert (
        await run_due_audit(engine, season_id=season, now=on_grid - timedelta(seconds=1), claimed_by=ME)
        is None
    )
    row = await season_row(engine, season)
    assert (row.last_audit_number, row.next_audit_at) == (1, on_grid)
    # One audit, one stipend: not twelve.
    assert (await citizen(engine, ana)).balance == 505


async def test_a_paused_season_does_not_audit(engine: AsyncEngine) -> None:
    season = await new_season(engine, status=SeasonStatus.PAUSED)
    ana = await new_citizen(engine, season, user_id=1)
    await post(engine, season, ana, "tiananmen")

    assert await run_due_audit(engine, season_id=season, now=T0 + timedelta(days=30), claimed_by=ME) is None
    with pytest.raises(NotAllowed):
        await run_audit_now(engine, season_id=season, now=T0 + timedelta(hours=1), claimed_by=ME)
    assert await count(engine, pending_t, season_id=season) == 1
    assert (await season_row(engine, season)).status == SeasonStatus.PAUSED


async def test_the_season_ends_at_its_deadline_with_a_last_audit(engine: AsyncEngine) -> None:
    season = await new_season(engine, duration=timedelta(hours=1), audit_every=timedelta(minutes=15))
    ana = await new_citizen(engine, season, user_id=1, name="ana")
    bo = await new_citizen(engine, season, user_id=2, name="bo")
    await post(engine, season, bo, "tiananmen", at=T0 + timedelta(minutes=59))

    # Not due, but past the deadline: the last audit runs, the season ends.
    result = await run_due_audit(engine, season_id=season, now=T0 + timedelta(hours=1), claimed_by=ME)

    assert result is not None
    assert result.season_ended
    row = await season_row(engine, season)
    assert (row.status, row.ended_at) == (SeasonStatus.ENDED, T0 + timedelta(hours=1))
    (end,) = await outbox(engine, season, OutboxKind.SEASON_END)
    assert [(p["display_name"], p["score"]) for p in end.payload["top"]] == [("ana", 600), ("bo", 540)]
    assert end.payload["citizens"] == 2
    # An ended season never audits again, and /audit says why.
    assert await run_due_audit(engine, season_id=season, now=T0 + timedelta(hours=5), claimed_by=ME) is None
    with pytest.raises(Conflict):
        await run_audit_now(engine, season_id=season, now=T0 + timedelta(hours=5), claimed_by=ME)
    assert (await citizen(engine, ana)).score == 600


async def test_audit_now_for_an_unknown_season(engine: AsyncEngine) -> None:
    with pytest.raises(NotFound):
        await run_audit_now(engine, season_id=999, now=T0, claimed_by=ME)
    assert await run_due_audit(engine, season_id=999, now=T0, claimed_by=ME) is None


async def test_seasons_of_other_guilds_are_untouched(engine: AsyncEngine) -> None:
    ours = await new_season(engine, guild_id=1)
    theirs = await new_season(engine, guild_id=2)
    ana = await new_citizen(engine, ours, user_id=1)
    bo = await new_citizen(engine, theirs, user_id=1)
    await post(engine, ours, ana, "tiananmen")
    await post(engine, theirs, bo, "tiananmen")

    await audit(engine, ours, now=T0 + timedelta(minutes=15))

    assert await count(engine, pending_t, season_id=theirs) == 1
    assert await ledger(engine, bo) == []
    assert (await season_row(engine, theirs)).last_audit_number == 0


async def test_audit_stats_are_kept_on_the_claim_row(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await post(engine, season, ana, "tiananmen")
    await audit(engine, season, now=T0 + timedelta(minutes=15))
    async with engine.connect() as connection:
        row = (await connection.execute(sa.text("SELECT finished_at, stats FROM audit"))).one()
    stats: Mapping[str, Any] = row.stats if isinstance(row.stats, dict) else json.loads(row.stats)
    assert row.finished_at is not None
    assert stats["messages_scored"] == 1


@pytest.mark.parametrize(
    ("late_by", "next_in"),
    [(timedelta(0), timedelta(minutes=15)), (timedelta(seconds=40), timedelta(minutes=14, seconds=20))],
)
def test_a_late_audit_does_not_push_the_schedule_back(late_by: timedelta, next_in: timedelta) -> None:
    due = T0 + timedelta(minutes=15)
    now = due + late_by
    assert next_on_grid(due, timedelta(minutes=15), now) == now + next_in


def test_the_next_slot_is_always_after_now() -> None:
    due, every = T0, timedelta(seconds=75)
    for seconds in range(0, 1000, 7):
        now = T0 + timedelta(seconds=seconds)
        slot = next_on_grid(due, every, now)
        assert now < slot <= now + every
        assert (slot - due) % every == timedelta(0)
