from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from game.db import transaction
from game.errors import Conflict, ErrorCode, InvalidInput, NotAllowed, NotFound
from game.models import Citizen, LedgerEntry, OutboxKind, OutboxMessage, RequestStatus, SourceKind
from game.services import appeals, ledger, seasons
from tests.factories import GUILD_ID, NOW, OTHER_GUILD_ID, make_citizen, make_season, user_id
from tests.support.refusals import refused


async def _penalise(engine: AsyncEngine, delta: int = -40, n: int = 1) -> int:
    async with transaction(engine) as session:
        change = await ledger.adjust_score(
            session,
            guild_id=GUILD_ID,
            user_id=user_id(n),
            delta=delta,
            reason="said 8964",
            moderator_id=7,
            now=NOW,
        )
    return change.entry_id


async def _file(
    engine: AsyncEngine, entry_id: int, reason: str = "it was a date", n: int = 1
) -> appeals.AppealView:
    async with transaction(engine) as session:
        return await appeals.file_appeal(
            session, guild_id=GUILD_ID, user_id=user_id(n), entry_id=entry_id, reason=reason, now=NOW
        )


async def test_file_queues_a_request_for_the_moderators(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizen(engine, n=1, name="ana")
    entry_id = await _penalise(engine)
    view = await _file(engine, entry_id)
    assert (view.entry_id, view.entry_delta, view.status, view.display_name) == (
        entry_id,
        -40,
        RequestStatus.PENDING,
        "ana",
    )
    async with transaction(engine) as session:
        [request] = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.APPEAL_REQUEST))
        ).all()
        pending = await appeals.pending_appeals(session, guild_id=GUILD_ID)
        mine = await appeals.appeals_of(session, guild_id=GUILD_ID, user_id=user_id(1))
    assert request.payload["appeal_id"] == view.id
    assert request.payload["user_id"] == user_id(1)
    assert request.payload["entry_delta"] == -40
    assert pending == mine == (view,)


async def test_grant_reverses_with_a_new_entry(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana = await make_citizen(engine, n=1)
    entry_id = await _penalise(engine)
    view = await _file(engine, entry_id)
    async with transaction(engine) as session:
        decision = await appeals.grant_appeal(
            session, guild_id=GUILD_ID, appeal_id=view.id, moderator_id=8, now=NOW
        )
    assert decision.reversal is not None
    assert (decision.reversal.delta, decision.reversal.score_after) == (40, 600)
    assert decision.appeal.status is RequestStatus.APPROVED
    assert decision.appeal.reversal_entry_id == decision.reversal.entry_id
    assert decision.appeal.decided_by == 8
    async with transaction(engine) as session:
        entries = (await session.exec(select(LedgerEntry).order_by(LedgerEntry.id))).all()
        row = await session.get(Citizen, ana.id)
        with refused(Conflict, ErrorCode.APPEAL_ALREADY_DECIDED, status="approved"):
            await appeals.deny_appeal(session, guild_id=GUILD_ID, appeal_id=view.id, moderator_id=8, now=NOW)
    assert [(e.delta, e.source_kind, e.reverses_entry_id) for e in entries] == [
        (-40, SourceKind.MODERATOR, None),  # the original is untouched
        (40, SourceKind.APPEAL, entry_id),
    ]
    assert row is not None
    assert row.score == 600
    with refused(NotAllowed, ErrorCode.ENTRY_IS_REVERSAL):
        await _file(engine, decision.reversal.entry_id)


async def test_grant_reversal_is_clamped(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizen(engine, n=1)
    entry_id = await _penalise(engine, -100)  # 500
    await _penalise(engine, 450)  # 950, the ceiling
    view = await _file(engine, entry_id)
    async with transaction(engine) as session:
        decision = await appeals.grant_appeal(
            session, guild_id=GUILD_ID, appeal_id=view.id, moderator_id=8, now=NOW
        )
    assert decision.reversal is not None
    assert (decision.reversal.requested, decision.reversal.delta, decision.reversal.score_after) == (
        100,
        0,
        950,
    )


async def test_deny_leaves_the_entry(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana = await make_citizen(engine, n=1)
    view = await _file(engine, await _penalise(engine))
    async with transaction(engine) as session:
        decision = await appeals.deny_appeal(
            session, guild_id=GUILD_ID, appeal_id=view.id, moderator_id=8, now=NOW
        )
        with refused(Conflict, ErrorCode.APPEAL_ALREADY_DECIDED, status="denied"):
            await appeals.grant_appeal(session, guild_id=GUILD_ID, appeal_id=view.id, moderator_id=8, now=NOW)
        row = await session.get(Citizen, ana.id)
        assert await appeals.pending_appeals(session, guild_id=GUILD_ID) == ()
    assert decision.reversal is None
    assert decision.appeal.status is RequestStatus.DENIED
    assert row is not None
    assert row.score == 560


async def test_filing_refusals(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizen(engine, n=1)
    await make_citizen(engine, n=2)
    entry_id = await _penalise(engine)
    gain_id = await _penalise(engine, 10)
    bo_entry = await _penalise(engine, -5, n=2)
    with refused(NotFound, ErrorCode.ENTRY_NOT_YOURS, entry_id=bo_entry):
        await _file(engine, bo_entry)  # not yours
    with refused(NotFound, ErrorCode.ENTRY_NOT_YOURS, entry_id=999):
        await _file(engine, 999)
    with refused(NotAllowed, ErrorCode.ENTRY_NOT_A_PENALTY):
        await _file(engine, gain_id)
    with refused(InvalidInput, ErrorCode.REASON_EMPTY, purpose="appeal"):
        await _file(engine, entry_id, " ")
    with refused(InvalidInput, ErrorCode.REASON_TOO_LONG, limit=300, length=301):
        await _file(engine, entry_id, "y" * 301)
    await _file(engine, entry_id)
    with refused(Conflict, ErrorCode.ALREADY_APPEALED, status="pending"):
        await _file(engine, entry_id)
    async with transaction(engine) as session:
        with refused(NotFound, ErrorCode.APPEAL_NOT_FOUND):
            await appeals.grant_appeal(session, guild_id=OTHER_GUILD_ID, appeal_id=1, moderator_id=8, now=NOW)
        await seasons.pause_season(session, guild_id=GUILD_ID, now=NOW)
    with refused(NotAllowed, ErrorCode.SEASON_PAUSED, action="appeal"):
        await _file(engine, bo_entry, n=2)
