from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from game.db import transaction
from game.errors import Conflict, ErrorCode, InvalidInput, NotAllowed, NotEnrolled, NotFound
from game.models import OutboxKind, OutboxMessage, RequestStatus
from game.services import permits, seasons
from tests.factories import GUILD_ID, NOW, OTHER_GUILD_ID, make_citizen, make_season, user_id
from tests.support.refusals import refused


async def _request(
    engine: AsyncEngine, topic: str = "politics", reason: str = "the debate", n: int = 1
) -> permits.PermitView:
    async with transaction(engine) as session:
        return await permits.request_permit(
            session, guild_id=GUILD_ID, user_id=user_id(n), topic=topic, reason=reason, now=NOW
        )


async def test_request_queues_buttons_for_the_moderators(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizen(engine, n=1, name="ana")
    view = await _request(engine, topic="The Economy", reason="  inflation   talk ")
    assert (view.topic, view.topic_name, view.reason, view.status) == (
        "economy",
        "the economy",
        "inflation talk",
        RequestStatus.PENDING,
    )
    assert not view.is_active(NOW)
    async with transaction(engine) as session:
        [outbox] = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.PERMIT_REQUEST))
        ).all()
        pending = await permits.pending_permits(session, guild_id=GUILD_ID)
        fetched = await permits.get_permit(session, guild_id=GUILD_ID, permit_id=view.id)
    assert outbox.payload["permit_id"] == view.id
    assert outbox.payload["user_id"] == user_id(1)
    assert outbox.payload["display_name"] == "ana"
    assert pending == (view,)
    assert fetched == view


async def test_approve_with_the_scenario_duration_then_expire(engine: AsyncEngine) -> None:
    season = await make_season(engine)
    ana = await make_citizen(engine, n=1)
    view = await _request(engine)
    async with transaction(engine) as session:
        approved = await permits.approve_permit(
            session, guild_id=GUILD_ID, permit_id=view.id, moderator_id=5, now=NOW
        )
    assert approved.expires_at == NOW + timedelta(hours=24)
    assert (approved.status, approved.decided_by, approved.decided_at) == (RequestStatus.APPROVED, 5, NOW)
    assert approved.is_active(NOW + timedelta(hours=23))
    assert not approved.is_active(NOW + timedelta(hours=24))
    async with transaction(engine) as session:
        assert await permits.active_permits(session, citizen_id=ana.id, now=NOW + timedelta(hours=1)) == (
            approved,
        )
        assert await permits.active_permits(session, citizen_id=ana.id, now=NOW + timedelta(hours=25)) == ()
        with refused(Conflict, ErrorCode.PERMIT_HELD):
            await permits.request_permit(
                session, guild_id=GUILD_ID, user_id=ana.user_id, topic="politics", reason="again", now=NOW
            )
        assert await permits.expire_permits(session, season_id=season.id, now=NOW + timedelta(hours=1)) == 0
        assert await permits.expire_permits(session, season_id=season.id, now=NOW + timedelta(hours=24)) == 1
        [mine] = await permits.permits_of(session, guild_id=GUILD_ID, user_id=ana.user_id)
    assert mine.status is RequestStatus.EXPIRED
    # Expired: a new request is welcome.
    again = await _request(engine)
    assert again.status is RequestStatus.PENDING


async def test_approve_with_a_given_duration_and_deny(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizen(engine, n=1)
    first = await _request(engine)
    second = await _request(engine, topic="economy")
    async with transaction(engine) as session:
        approved = await permits.approve_permit(
            session,
            guild_id=GUILD_ID,
            permit_id=first.id,
            moderator_id=5,
            now=NOW,
            duration=timedelta(minutes=30),
        )
        denied = await permits.deny_permit(
            session, guild_id=GUILD_ID, permit_id=second.id, moderator_id=5, now=NOW
        )
        with refused(Conflict, ErrorCode.PERMIT_ALREADY_DECIDED, status="approved"):
            await permits.deny_permit(session, guild_id=GUILD_ID, permit_id=first.id, moderator_id=6, now=NOW)
        with refused(Conflict, ErrorCode.PERMIT_ALREADY_DECIDED, status="denied"):
            await permits.approve_permit(
                session, guild_id=GUILD_ID, permit_id=second.id, moderator_id=6, now=NOW
            )
        with refused(InvalidInput, ErrorCode.PERMIT_DURATION_OUT_OF_RANGE):
            await permits.approve_permit(
                session,
                guild_id=GUILD_ID,
                permit_id=second.id,
                moderator_id=6,
                now=NOW,
                duration=timedelta(0),
            )
        assert await permits.pending_permits(session, guild_id=GUILD_ID) == ()
    assert approved.expires_at == NOW + timedelta(minutes=30)
    assert (denied.status, denied.expires_at) == (RequestStatus.DENIED, None)


async def test_two_moderators_deciding_at_once_make_one_decision(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizen(engine, n=1)
    view = await _request(engine)

    async def decide(approve: bool) -> str:
        try:
            async with transaction(engine) as session:
                if approve:
                    await permits.approve_permit(
                        session, guild_id=GUILD_ID, permit_id=view.id, moderator_id=1, now=NOW
                    )
                else:
                    await permits.deny_permit(
                        session, guild_id=GUILD_ID, permit_id=view.id, moderator_id=2, now=NOW
                    )
        except Conflict:
            return "conflict"
        return "decided"

    outcomes = await asyncio.gather(decide(True), decide(False), decide(True), decide(False))
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "decided"]


async def test_request_refusals(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizen(engine, n=1)
    with refused(
        InvalidInput,
        ErrorCode.NOT_A_PERMIT_TOPIC,
        topic="harmony",
        choices=("politics", "economy", "foreign-affairs"),
    ):
        await _request(engine, topic="harmony")
    with refused(InvalidInput, ErrorCode.REASON_EMPTY, purpose="permit"):
        await _request(engine, reason="  ")
    with refused(InvalidInput, ErrorCode.REASON_TOO_LONG, limit=300, length=301):
        await _request(engine, reason="z" * 301)
    with pytest.raises(NotEnrolled):
        await _request(engine, n=2)
    await _request(engine)
    with refused(Conflict, ErrorCode.PERMIT_PENDING):
        await _request(engine)
    async with transaction(engine) as session:
        with refused(NotFound, ErrorCode.PERMIT_NOT_FOUND):
            await permits.approve_permit(
                session, guild_id=OTHER_GUILD_ID, permit_id=1, moderator_id=1, now=NOW
            )
        await seasons.pause_season(session, guild_id=GUILD_ID, now=NOW)
    with refused(NotAllowed, ErrorCode.SEASON_PAUSED, action="permit"):
        await _request(engine, topic="economy")
