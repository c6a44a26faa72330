from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from game.db import transaction
from game.errors import Conflict, ErrorCode, InvalidInput, NotAllowed, NotEnrolled, NotFound
from game.models import Dimension, Friendship, SourceKind
from game.services import friends, ledger, seasons
from tests.factories import GUILD_ID, NOW, make_citizens, make_season, set_score, user_id
from tests.support.refusals import refused


async def _ask(engine: AsyncEngine, a: int, b: int) -> friends.FriendRequestOutcome:
    async with transaction(engine) as session:
        return await friends.request_friend(
            session, guild_id=GUILD_ID, user_id=user_id(a), friend_user_id=user_id(b), now=NOW
        )


async def _accept(engine: AsyncEngine, a: int, b: int) -> friends.FriendRequestOutcome:
    """``a`` accepts ``b``'s request."""
    async with transaction(engine) as session:
        return await friends.accept_friend(
            session, guild_id=GUILD_ID, user_id=user_id(a), from_user_id=user_id(b), now=NOW
        )


async def _edges(engine: AsyncEngine) -> set[tuple[int, int]]:
    async with transaction(engine) as session:
        return set((await session.exec(select(Friendship.citizen_id, Friendship.friend_id))).all())


async def test_request_accept_remove(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana, bo = await make_citizens(engine, count=2)
    asked = await _ask(engine, 1, 2)
    assert asked.outcome is friends.RequestOutcome.REQUESTED
    async with transaction(engine) as session:
        incoming, outgoing = await friends.pending_friend_requests(
            session, guild_id=GUILD_ID, user_id=bo.user_id
        )
    assert [r.from_display_name for r in incoming] == ["citizen-1"]
    assert outgoing == ()
    accepted = await _accept(engine, 2, 1)
    assert accepted.outcome is friends.RequestOutcome.ACCEPTED
    assert await _edges(engine) == {(ana.id, bo.id), (bo.id, ana.id)}
    with refused(Conflict, ErrorCode.ALREADY_FRIENDS):
        await _ask(engine, 2, 1)
    async with transaction(engine) as session:
        await friends.remove_friend(
            session, guild_id=GUILD_ID, user_id=bo.user_id, friend_user_id=ana.user_id, now=NOW
        )
        with refused(NotFound, ErrorCode.NOT_FRIENDS):
            await friends.remove_friend(
                session, guild_id=GUILD_ID, user_id=ana.user_id, friend_user_id=bo.user_id, now=NOW
            )
    assert await _edges(engine) == set()
    # Removed friends may ask again: the old request row is reused.
    assert (await _ask(engine, 1, 2)).request_id == asked.request_id


async def test_a_reverse_request_accepts(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana, bo = await make_citizens(engine, count=2)
    await _ask(engine, 1, 2)
    outcome = await _ask(engine, 2, 1)
    assert outcome.outcome is friends.RequestOutcome.ACCEPTED
    assert await _edges(engine) == {(ana.id, bo.id), (bo.id, ana.id)}


async def test_decline_and_ask_again(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizens(engine, count=2)
    await _ask(engine, 1, 2)
    async with transaction(engine) as session:
        await friends.decline_friend(
            session, guild_id=GUILD_ID, user_id=user_id(2), from_user_id=user_id(1), now=NOW
        )
        with refused(NotFound, ErrorCode.NO_FRIEND_REQUEST):
            await friends.decline_friend(
                session, guild_id=GUILD_ID, user_id=user_id(2), from_user_id=user_id(1), now=NOW
            )
    with refused(NotFound, ErrorCode.NO_FRIEND_REQUEST):
        await _accept(engine, 2, 1)
    again = await _ask(engine, 1, 2)
    assert again.outcome is friends.RequestOutcome.REQUESTED
    assert await _edges(engine) == set()


async def test_request_refusals(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizens(engine, count=2)
    with refused(InvalidInput, ErrorCode.BEFRIEND_SELF):
        await _ask(engine, 1, 1)
    with refused(NotEnrolled, ErrorCode.MEMBER_NOT_ENROLLED):
        await _ask(engine, 1, 3)
    with refused(NotEnrolled, ErrorCode.NOT_ENROLLED):
        await _ask(engine, 3, 1)
    await _ask(engine, 1, 2)
    with refused(Conflict, ErrorCode.ALREADY_ASKED, name="citizen-2"):
        await _ask(engine, 1, 2)
    with refused(NotFound, ErrorCode.NO_FRIEND_REQUEST, name="citizen-2"):
        await _accept(engine, 1, 2)  # the sender cannot accept their own request
    async with transaction(engine) as session:
        await seasons.pause_season(session, guild_id=GUILD_ID, now=NOW)
    with refused(NotAllowed, ErrorCode.SEASON_PAUSED, action="befriend"):
        await _accept(engine, 2, 1)


async def test_the_cap(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizens(engine, count=28)
    await _ask(engine, 1, 28)  # asked before reaching the cap
    for n in range(2, 27):  # 25 friends for citizen 1
        await _ask(engine, n, 1)
        await _accept(engine, 1, n)
    await _ask(engine, 27, 1)
    with refused(NotAllowed, ErrorCode.FRIEND_LIMIT, limit=25):
        await _accept(engine, 1, 27)
    with refused(NotAllowed, ErrorCode.FRIEND_LIMIT, limit=25):
        await _ask(engine, 1, 27)  # would accept 27's request: refused the same way
    with refused(NotAllowed, ErrorCode.FRIEND_LIMIT_OTHER, name="citizen-1", limit=25):
        await _accept(engine, 28, 1)
    async with transaction(engine) as session:
        count = len((await session.exec(select(Friendship).where(col(Friendship.citizen_id) > 0))).all())
    assert count == 50


async def test_list_shows_scores_and_costs(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana, bo, cy = await make_citizens(engine, count=3)
    for other in (2, 3):
        await _ask(engine, 1, other)
        await _accept(engine, other, 1)
    await set_score(engine, citizen_id=bo.id, score=700)
    async with transaction(engine) as session:
        for delta in (-8, -4):  # what the audit writes when Bo's misconduct costs Ana
            await ledger.record_change(
                session,
                citizen_id=ana.id,
                delta=delta,
                dimension=Dimension.SOCIAL,
                reason="friend",
                source_kind=SourceKind.FRIEND,
                related_citizen_id=bo.id,
                now=NOW,
            )
        lines = await friends.list_friends(session, guild_id=GUILD_ID, user_id=ana.user_id)
        bo_lines = await friends.list_friends(session, guild_id=GUILD_ID, user_id=bo.user_id)
    assert [(line.display_name, line.score, line.cost) for line in lines] == [
        ("citizen-2", 700, -12),
        ("citizen-3", 600, 0),
    ]
    assert [(line.display_name, line.cost) for line in bo_lines] == [("citizen-1", 0)]
    assert cy.number == 3
