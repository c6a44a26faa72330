from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from game.db import transaction
from game.errors import AlreadyEnrolled, ErrorCode, NoActiveSeason, NotAllowed, NotEnrolled
from game.models import (
    Appeal,
    Citizen,
    Dimension,
    Enrollment,
    FriendRequest,
    Friendship,
    LedgerEntry,
    OutboxKind,
    OutboxMessage,
    PendingMessage,
    Permit,
    Purchase,
    ScoreCount,
    Season,
    SourceKind,
)
from game.services import appeals, citizens, friends, ledger, permits, privacy, seasons, shop
from tests.factories import (
    GUILD_ID,
    NOW,
    OTHER_GUILD_ID,
    make_citizen,
    make_citizens,
    make_season,
    set_score,
    user_id,
)
from tests.support.refusals import refused


async def test_join_starts_at_the_scenario_start(engine: AsyncEngine) -> None:
    season = await make_season(engine)
    first = await make_citizen(engine, n=1, name="  Ana   Li ")
    second = await make_citizen(engine, n=2)
    assert (first.number, second.number) == (1, 2)
    assert first.display_name == "Ana Li"
    assert (first.score, first.balance, first.tier_key, first.tier_name) == (600, 500, "ordinary", "Ordinary")
    assert first.season_id == season.id
    async with transaction(engine) as session:
        counts = (await session.exec(select(ScoreCount).where(ScoreCount.season_id == season.id))).all()
        found = await citizens.get_citizen(session, guild_id=GUILD_ID, user_id=user_id(1))
        assert await citizens.get_citizen(session, guild_id=GUILD_ID, user_id=user_id(3)) is None
    assert [(row.score, row.citizens) for row in counts] == [(600, 2)]
    assert found == first


async def test_join_without_a_name_gets_a_number(engine: AsyncEngine) -> None:
    await make_season(engine)
    async with transaction(engine) as session:
        view = await citizens.join(session, guild_id=GUILD_ID, user_id=user_id(1), display_name=" ", now=NOW)
    assert view.display_name == "Citizen #1"


async def test_join_refusals(engine: AsyncEngine) -> None:
    async with transaction(engine) as session:
        with pytest.raises(NoActiveSeason):
            await citizens.join(session, guild_id=GUILD_ID, user_id=user_id(1), display_name="a", now=NOW)
    await make_season(engine)
    await make_citizen(engine, n=1)
    with refused(AlreadyEnrolled, ErrorCode.ALREADY_ENROLLED):
        await make_citizen(engine, n=1)
    async with transaction(engine) as session:
        await seasons.pause_season(session, guild_id=GUILD_ID, now=NOW)
    with refused(NotAllowed, ErrorCode.SEASON_PAUSED, action="join"):
        await make_citizen(engine, n=2)


async def test_racing_joins_get_distinct_numbers(engine: AsyncEngine) -> None:
    await make_season(engine)
    joined = await asyncio.gather(*(make_citizen(engine, n=n) for n in range(1, 13)))
    assert sorted(c.number for c in joined) == list(range(1, 13))


async def test_same_member_racing_joins_enrol_once(engine: AsyncEngine) -> None:
    await make_season(engine)

    async def attempt() -> str:
        try:
            await make_citizen(engine, n=1)
        except AlreadyEnrolled:
            return "refused"
        return "joined"

    outcomes = await asyncio.gather(*(attempt() for _ in range(5)))
    assert sorted(outcomes) == ["joined"] + ["refused"] * 4


async def test_mandatory_enrolment(engine: AsyncEngine) -> None:
    async with transaction(engine) as session:
        assert (
            await citizens.enrol_if_mandatory(
                session, guild_id=GUILD_ID, user_id=1, display_name=None, now=NOW
            )
            is None
        )
    await make_season(engine)
    async with transaction(engine) as session:
        assert (
            await citizens.enrol_if_mandatory(
                session, guild_id=GUILD_ID, user_id=user_id(1), display_name="a", now=NOW
            )
            is None
        )
        await seasons.set_enrollment(session, guild_id=GUILD_ID, enrollment=Enrollment.MANDATORY, now=NOW)
    async with transaction(engine) as session:
        enrolled = await citizens.enrol_if_mandatory(
            session, guild_id=GUILD_ID, user_id=user_id(1), display_name="ana", now=NOW
        )
        again = await citizens.enrol_if_mandatory(
            session, guild_id=GUILD_ID, user_id=user_id(1), display_name="ana", now=NOW
        )
    assert enrolled is not None
    assert again == enrolled


async def test_card(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana, bo, cy = await make_citizens(engine, count=3)
    await set_score(engine, citizen_id=bo.id, score=720)
    async with transaction(engine) as session:
        await ledger.adjust_score(
            session, guild_id=GUILD_ID, user_id=ana.user_id, delta=-20, reason="late", moderator_id=9, now=NOW
        )
        await friends.request_friend(
            session, guild_id=GUILD_ID, user_id=ana.user_id, friend_user_id=bo.user_id, now=NOW
        )
        await friends.accept_friend(
            session, guild_id=GUILD_ID, user_id=bo.user_id, from_user_id=ana.user_id, now=NOW
        )
        request = await permits.request_permit(
            session, guild_id=GUILD_ID, user_id=ana.user_id, topic="Politics", reason="debate", now=NOW
        )
        await permits.approve_permit(
            session, guild_id=GUILD_ID, permit_id=request.id, moderator_id=9, now=NOW
        )
    async with transaction(engine) as session:
        card = await citizens.citizen_card(session, guild_id=GUILD_ID, user_id=ana.user_id, now=NOW)
        card = await citizens.citizen_card(session, guild_id=GUILD_ID, user_id=ana.user_id, now=NOW)
        quiet = await citizens.citizen_card(
            session, guild_id=GUILD_ID, user_id=ana.user_id, now=NOW, count_lookup=False
        )
    assert card.citizen.score == 580
    assert card.rank == 3  # bo 720, cy 600, ana 580
    assert card.citizens == 3
    assert dict(card.breakdown)[Dimension.BUREAU] == -20
    assert card.start_score + sum(delta for _, delta in card.breakdown) == card.citizen.score
    assert [dimension for dimension, _ in card.breakdown] == list(Dimension)
    assert card.friends_count == 1
    assert card.friend_names == ("citizen-2",)
    assert [permit.topic for permit in card.active_permits] == ["politics"]
    assert card.lookups_today == 2
    assert quiet.lookups_today == 2
    async with transaction(engine) as session:
        tomorrow = await citizens.citizen_card(
            session, guild_id=GUILD_ID, user_id=ana.user_id, now=NOW + timedelta(days=1)
        )
        bo_card = await citizens.citizen_card(session, guild_id=GUILD_ID, user_id=bo.user_id, now=NOW)
    assert tomorrow.lookups_today == 1
    assert tomorrow.active_permits == ()  # the 24 h permit has expired
    assert bo_card.rank == 1
    assert bo_card.citizen.tier_name == "Travel Permit"
    assert cy.number == 3
    async with transaction(engine) as session:
        with refused(NotEnrolled, ErrorCode.MEMBER_NOT_ENROLLED):
            await citizens.citizen_card(
                session, guild_id=GUILD_ID, user_id=user_id(99), now=NOW, yourself=False
            )


async def _about(engine: AsyncEngine, citizen_ids: list[int]) -> dict[str, int]:
    """How many rows of each kind mention any of the citizens."""
    async with transaction(engine) as session:

        async def count(model: type, *conditions: sa.ColumnElement[bool]) -> int:
            return (
                await session.exec(select(sa.func.count()).select_from(model).where(sa.or_(*conditions)))
            ).one()

        return {
            "citizen": await count(Citizen, col(Citizen.id).in_(citizen_ids)),
            "ledger": await count(LedgerEntry, col(LedgerEntry.citizen_id).in_(citizen_ids)),
            "named": await count(LedgerEntry, col(LedgerEntry.related_citizen_id).in_(citizen_ids)),
            "pending": await count(PendingMessage, col(PendingMessage.citizen_id).in_(citizen_ids)),
            "purchase": await count(Purchase, col(Purchase.citizen_id).in_(citizen_ids)),
            "friendship": await count(
                Friendship,
                col(Friendship.citizen_id).in_(citizen_ids),
                col(Friendship.friend_id).in_(citizen_ids),
            ),
            "request": await count(
                FriendRequest,
                col(FriendRequest.from_citizen_id).in_(citizen_ids),
                col(FriendRequest.to_citizen_id).in_(citizen_ids),
            ),
            "permit": await count(Permit, col(Permit.citizen_id).in_(citizen_ids)),
            "appeal": await count(Appeal, col(Appeal.citizen_id).in_(citizen_ids)),
        }


async def _busy_citizen(engine: AsyncEngine, season_id: int, ana_id: int, bo_id: int, cy_user: int) -> None:
    """Ana has a bit of everything; Bo's ledger names her; Cy has a pending request from her."""
    ana_user, bo_user = user_id(1), user_id(2)
    async with transaction(engine) as session:
        await shop.purchase(session, guild_id=GUILD_ID, user_id=ana_user, item_key="diapers", now=NOW)
        await friends.request_friend(
            session, guild_id=GUILD_ID, user_id=ana_user, friend_user_id=bo_user, now=NOW
        )
        await friends.accept_friend(
            session, guild_id=GUILD_ID, user_id=bo_user, from_user_id=ana_user, now=NOW
        )
        await friends.request_friend(
            session, guild_id=GUILD_ID, user_id=ana_user, friend_user_id=cy_user, now=NOW
        )
        await permits.request_permit(
            session, guild_id=GUILD_ID, user_id=ana_user, topic="politics", reason="x", now=NOW
        )
        change = await ledger.adjust_score(
            session, guild_id=GUILD_ID, user_id=ana_user, delta=-30, reason="rude", moderator_id=9, now=NOW
        )
        await appeals.file_appeal(
            session, guild_id=GUILD_ID, user_id=ana_user, entry_id=change.entry_id, reason="unfair", now=NOW
        )
        session.add(
            PendingMessage(
                season_id=season_id,
                citizen_id=ana_id,
                channel_id=1,
                message_id=2,
                content="hello",
                created_at=NOW,
            )
        )
        # Bo paid for Ana's misconduct (what the audit writes for a friend cascade).
        await ledger.record_change(
            session,
            citizen_id=bo_id,
            delta=-6,
            dimension=Dimension.SOCIAL,
            reason="Because of your friend citizen-1",
            source_kind=SourceKind.FRIEND,
            source_ref=str(ana_id),
            related_citizen_id=ana_id,
            now=NOW,
        )


async def test_leave_deletes_everything_and_anonymises_others(engine: AsyncEngine) -> None:
    season = await make_season(engine)
    ana, bo, cy = await make_citizens(engine, count=3)
    await _busy_citizen(engine, season.id, ana.id, bo.id, cy.user_id)
    before = await _about(engine, [ana.id])
    assert all(before[kind] > 0 for kind in before)
    async with transaction(engine) as session:
        result = await privacy.leave(session, guild_id=GUILD_ID, user_id=ana.user_id, now=NOW)
    assert result.seasons == 1
    assert result.ledger_entries == before["ledger"]
    assert result.anonymised_entries == 1
    assert await _about(engine, [ana.id]) == dict.fromkeys(before, 0)
    async with transaction(engine) as session:
        bo_entries = (await session.exec(select(LedgerEntry).where(LedgerEntry.citizen_id == bo.id))).all()
        outbox = (await session.exec(select(OutboxMessage))).all()
        counts = dict((await session.exec(select(ScoreCount.score, ScoreCount.citizens))).all())
        bo_row = await session.get(Citizen, bo.id)
    cascade = next(entry for entry in bo_entries if entry.source_kind == SourceKind.FRIEND)
    assert cascade.delta == -6  # the delta stays: Bo's ledger still adds up
    assert cascade.related_citizen_id is None
    assert "citizen-1" not in cascade.reason
    assert cascade.source_ref is None
    assert bo_row is not None
    assert 600 + sum(entry.delta for entry in bo_entries) == bo_row.score
    assert not [m for m in outbox if str(m.payload.get("user_id")) == str(ana.user_id)]
    assert counts[570] == 0  # Ana's score left the rank table
    async with transaction(engine) as session:
        with refused(NotEnrolled, ErrorCode.NO_RECORD):
            await privacy.leave(session, guild_id=GUILD_ID, user_id=ana.user_id, now=NOW)


async def test_leave_covers_every_season_of_the_guild_only(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizen(engine, n=1)
    await seasons.end_season(engine, guild_id=GUILD_ID, now=NOW + timedelta(minutes=1), claimed_by="t")
    await make_season(engine, now=NOW + timedelta(minutes=2))
    second = await make_citizen(engine, n=1)
    await set_score(engine, citizen_id=second.id, score=760)  # Visa: a role the bot must take away
    await make_season(engine, guild_id=OTHER_GUILD_ID)
    elsewhere = await make_citizen(engine, n=1, guild_id=OTHER_GUILD_ID)
    async with transaction(engine) as session:
        result = await privacy.leave(session, guild_id=GUILD_ID, user_id=user_id(1), now=NOW)
        rows = (await session.exec(select(Citizen))).all()
        syncs = (
            await session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.kind == OutboxKind.ROLE_SYNC, OutboxMessage.guild_id == GUILD_ID
                )
            )
        ).all()
    assert result.seasons == 2
    assert [row.id for row in rows] == [elsewhere.id]
    assert [(m.payload["old_tier"], m.payload["new_tier"]) for m in syncs] == [("visa", None)]


async def test_export_has_everything_and_is_json(engine: AsyncEngine) -> None:
    season = await make_season(engine)
    ana, bo, cy = await make_citizens(engine, count=3)
    await _busy_citizen(engine, season.id, ana.id, bo.id, cy.user_id)
    async with transaction(engine) as session:
        data = await privacy.export_data(session, guild_id=GUILD_ID, user_id=ana.user_id, now=NOW)
        nothing = await privacy.export_data(session, guild_id=GUILD_ID, user_id=user_id(77), now=NOW)
    assert json.loads(json.dumps(data)) == data
    assert (data["score"], data["balance"], data["season"]) == (570, 470, 1)
    [entry] = data["ledger"]
    assert entry["dimension"] == "bureau"
    assert entry["delta"] == -30
    assert entry["reason"] == "rude"
    assert entry["created_at"] == NOW.isoformat()
    assert [p["item_key"] for p in data["purchases"]] == ["diapers"]
    assert [f["display_name"] for f in data["friends"]] == ["citizen-2"]
    assert {(r["direction"], r["other_display_name"], r["status"]) for r in data["friend_requests"]} == {
        ("sent", "citizen-2", "approved"),
        ("sent", "citizen-3", "pending"),
    }
    assert [p["topic"] for p in data["permits"]] == ["politics"]
    assert [a["reason"] for a in data["appeals"]] == ["unfair"]
    assert [m["content"] for m in data["pending_messages"]] == ["hello"]
    assert [s["citizen_number"] for s in data["seasons"]] == [1]
    assert nothing["score"] is None
    assert nothing["ledger"] == []


async def test_export_keeps_a_hidden_effect_secret_until_the_audit(engine: AsyncEngine) -> None:
    from game.services.audits import run_audit_now

    season = await make_season(engine)
    ana = await make_citizen(engine, n=1)
    async with transaction(engine) as session:
        await shop.purchase(session, guild_id=GUILD_ID, user_id=ana.user_id, item_key="vpn", now=NOW)
    async with transaction(engine) as session:
        before = await privacy.export_data(session, guild_id=GUILD_ID, user_id=ana.user_id, now=NOW)
    await run_audit_now(engine, season_id=season.id, now=NOW + timedelta(minutes=1), claimed_by="test")
    async with transaction(engine) as session:
        after = await privacy.export_data(session, guild_id=GUILD_ID, user_id=ana.user_id, now=NOW)
    assert [(p["item_key"], p["effect"], p["audited"]) for p in before["purchases"]] == [("vpn", None, False)]
    assert [(p["item_key"], p["effect"], p["audited"]) for p in after["purchases"]] == [("vpn", -40, True)]


async def test_two_first_joins_at_once_open_one_season_with_both_in_it(engine: AsyncEngine) -> None:
    """A server that has never played: the first /join opens a season. Two at once must not leave
    one of them told that no season is running."""

    async def first_join(n: int) -> citizens.Enrolment:
        async with transaction(engine) as session:
            return await citizens.join_or_open(
                session, guild_id=GUILD_ID, user_id=user_id(n), display_name=f"member {n}", now=NOW
            )

    outcomes = await asyncio.gather(*(first_join(n) for n in range(1, 5)))

    assert sum(1 for outcome in outcomes if outcome.opened is not None) == 1
    assert len({outcome.citizen.season_id for outcome in outcomes}) == 1
    assert sorted(outcome.citizen.number for outcome in outcomes) == [1, 2, 3, 4]
    async with transaction(engine) as session:
        assert (await session.exec(select(sa.func.count()).select_from(Season))).one() == 1
