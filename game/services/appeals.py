"""Appeals: a citizen contests a penalty in their ledger; the Bureau grants or denies.

Filing queues an ``APPEAL_REQUEST`` outbox row for the moderators' channel. Granting adds a reversing
entry through :mod:`game.services.ledger` (the original is never edited; the reversal is clamped like
any change, so ``start + sum(deltas) == score`` still holds). Each entry can be appealed once; a
reversal cannot be appealed. A decision is one conditional UPDATE: twice is a ``Conflict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from game.errors import Conflict, ErrorCode, NotAllowed, NotFound
from game.inputs import MAX_TYPED_INTEGER, check_number, clean_reason
from game.models import (
    Appeal,
    Citizen,
    Dimension,
    LedgerEntry,
    RequestStatus,
    Season,
    SeasonStatus,
    SourceKind,
)
from game.payloads import AppealRequest
from game.rules.appeals import appeal_refusal
from game.services.ledger import LedgerChange, record_change
from game.services.lookup import (
    citizen_row,
    hold_citizens,
    live_season_row,
    require_citizen_row,
    require_live_season_row,
)
from game.services.outbox import outbox_row
from game.services.permits import require_running
from game.services.queries import LedgerLine, latest_entries

__all__ = [
    "MAX_APPEAL_REASON",
    "AppealDecision",
    "AppealView",
    "appealable_entries",
    "appeals_of",
    "deny_appeal",
    "file_appeal",
    "grant_appeal",
    "pending_appeals",
]

MAX_APPEAL_REASON = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class AppealView:
    id: int
    season_id: int
    citizen_id: int
    user_id: int
    citizen_number: int
    display_name: str
    entry_id: int
    entry_delta: int
    entry_dimension: Dimension
    entry_reason: str
    entry_created_at: datetime
    reason: str
    status: RequestStatus
    created_at: datetime
    decided_at: datetime | None
    decided_by: int | None
    reversal_entry_id: int | None

    def as_request(self) -> AppealRequest:
        """The appeal as the moderators' card shows it (the outbox payload's shape)."""
        return AppealRequest(
            appeal_id=self.id,
            season_id=self.season_id,
            user_id=self.user_id,
            citizen_number=self.citizen_number,
            display_name=self.display_name,
            entry_id=self.entry_id,
            entry_delta=self.entry_delta,
            entry_dimension=str(self.entry_dimension),
            entry_reason=self.entry_reason,
            reason=self.reason,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AppealDecision:
    """A decided appeal; ``reversal`` is the ledger change when it was granted."""

    appeal: AppealView
    reversal: LedgerChange | None


def _view(appeal: Appeal, citizen: Citizen, entry: LedgerEntry) -> AppealView:
    assert appeal.id is not None
    return AppealView(
        id=appeal.id,
        season_id=appeal.season_id,
        citizen_id=appeal.citizen_id,
        user_id=citizen.user_id,
        citizen_number=citizen.number,
        display_name=citizen.display_name,
        entry_id=appeal.ledger_entry_id,
        entry_delta=entry.delta,
        entry_dimension=Dimension(entry.dimension),
        entry_reason=entry.reason,
        entry_created_at=entry.created_at,
        reason=appeal.reason,
        status=RequestStatus(appeal.status),
        created_at=appeal.created_at,
        decided_at=appeal.decided_at,
        decided_by=appeal.decided_by,
        reversal_entry_id=appeal.reversal_entry_id,
    )


async def file_appeal(
    session: AsyncSession, *, guild_id: int, user_id: int, entry_id: int, reason: str, now: datetime
) -> AppealView:
    """Appeal one of your own penalties (ledger entry ``entry_id``) with a reason.

    ``NotFound`` for an entry that is not yours, ``NotAllowed`` for a reversal or a gain,
    ``Conflict`` for an entry already appealed, ``InvalidInput`` for a missing or long reason.
    """
    check_number(entry_id, what="the entry number", low=1, high=MAX_TYPED_INTEGER)
    season = await require_live_season_row(session, guild_id=guild_id)
    require_running(season, action="appeal")
    assert season.id is not None
    citizen = await require_citizen_row(session, season_id=season.id, user_id=user_id)
    assert citizen.id is not None
    # The lock order: two appeals of one entry filed at once cannot both pass the "already appealed"
    # check, and an appeal filed during an audit waits for it instead of deadlocking with it.
    await hold_citizens(session, season_id=season.id, citizen_ids=(citizen.id,))
    entry = (
        await session.exec(
            select(LedgerEntry).where(LedgerEntry.id == entry_id, LedgerEntry.citizen_id == citizen.id)
        )
    ).first()
    if entry is None:
        raise NotFound(ErrorCode.ENTRY_NOT_YOURS, entry_id=entry_id)
    earlier = (await session.exec(select(Appeal).where(Appeal.ledger_entry_id == entry_id))).first()
    refusal = appeal_refusal(
        delta=entry.delta,
        source_kind=entry.source_kind,
        reverses_entry_id=entry.reverses_entry_id,
        appealed=earlier is not None,
    )
    if refusal in (ErrorCode.ENTRY_IS_REVERSAL, ErrorCode.ENTRY_NOT_A_PENALTY):
        raise NotAllowed(refusal, entry_id=entry_id)
    text = clean_reason(reason, purpose="appeal", limit=MAX_APPEAL_REASON)
    if earlier is not None:
        raise Conflict(ErrorCode.ALREADY_APPEALED, entry_id=entry_id, status=RequestStatus(earlier.status))
    if await _reversed(session, entry_id):
        # An amnesty gave these points back already.
        raise Conflict(ErrorCode.ENTRY_ALREADY_REVERSED, entry_id=entry_id)
    appeal = Appeal(
        season_id=season.id,
        citizen_id=citizen.id,
        ledger_entry_id=entry_id,
        reason=text,
        created_at=now,
    )
    session.add(appeal)
    await session.flush()
    assert appeal.id is not None
    session.add(
        outbox_row(
            guild_id=guild_id,
            season_id=season.id,
            payload=AppealRequest(
                appeal_id=appeal.id,
                season_id=season.id,
                user_id=citizen.user_id,
                citizen_number=citizen.number,
                display_name=citizen.display_name,
                entry_id=entry_id,
                entry_delta=entry.delta,
                entry_dimension=str(entry.dimension),
                entry_reason=entry.reason,
                reason=text,
            ),
            now=now,
        )
    )
    await session.flush()
    return _view(appeal, citizen, entry)


async def _reversed(session: AsyncSession, entry_id: int) -> bool:
    """Whether a later entry (an amnesty's) already reverses ledger entry ``entry_id``."""
    found = await session.exec(
        select(LedgerEntry.id).where(LedgerEntry.reverses_entry_id == entry_id).limit(1)
    )
    return found.first() is not None


def _joined() -> Select[Appeal, Citizen, LedgerEntry, Season]:
    return (
        select(Appeal, Citizen, LedgerEntry, Season)
        .join(Citizen, col(Citizen.id) == Appeal.citizen_id)
        .join(LedgerEntry, col(LedgerEntry.id) == Appeal.ledger_entry_id)
        .join(Season, col(Season.id) == Appeal.season_id)
    )


async def _appeal_in_guild(
    session: AsyncSession, guild_id: int, appeal_id: int
) -> tuple[Appeal, Citizen, LedgerEntry, Season]:
    row = (
        await session.exec(
            _joined()
            .where(col(Appeal.id) == appeal_id, col(Season.guild_id) == guild_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise NotFound(ErrorCode.APPEAL_NOT_FOUND)
    return row


async def _decide(
    session: AsyncSession,
    *,
    guild_id: int,
    appeal_id: int,
    moderator_id: int,
    now: datetime,
    status: RequestStatus,
) -> tuple[Appeal, Citizen, LedgerEntry]:
    appeal, citizen, entry, season = await _appeal_in_guild(session, guild_id, appeal_id)
    if season.status == SeasonStatus.ENDED:
        raise NotAllowed(ErrorCode.SEASON_ENDED, what="appeals")
    assert season.id is not None
    assert citizen.id is not None
    await hold_citizens(session, season_id=season.id, citizen_ids=(citizen.id,))
    decided = await session.exec(
        sa.update(Appeal)
        .where(col(Appeal.id) == appeal_id, col(Appeal.status) == RequestStatus.PENDING)
        .values(status=status, decided_at=now, decided_by=moderator_id)
    )
    if not decided.rowcount:
        await session.refresh(appeal)
        raise Conflict(ErrorCode.APPEAL_ALREADY_DECIDED, status=RequestStatus(appeal.status))
    await session.refresh(appeal)
    return appeal, citizen, entry


async def grant_appeal(
    session: AsyncSession, *, guild_id: int, appeal_id: int, moderator_id: int, now: datetime
) -> AppealDecision:
    """Grant a pending appeal: a new entry reverses the appealed one (clamped to the score range)."""
    appeal, citizen, entry = await _decide(
        session,
        guild_id=guild_id,
        appeal_id=appeal_id,
        moderator_id=moderator_id,
        now=now,
        status=RequestStatus.APPROVED,
    )
    assert entry.id is not None
    assert citizen.id is not None
    if await _reversed(session, entry.id):
        # An amnesty reversed the entry while the appeal waited: granting it would pay twice.
        raise Conflict(ErrorCode.ENTRY_ALREADY_REVERSED, entry_id=entry.id)
    reversal = await record_change(
        session,
        citizen_id=citizen.id,
        delta=-entry.delta,
        dimension=Dimension(entry.dimension),
        reason=f"Appeal granted: reverses entry #{entry.id} ({entry.reason})"[:300],
        source_kind=SourceKind.APPEAL,
        source_ref=str(appeal_id),
        rule_key=entry.rule_key,
        reverses_entry_id=entry.id,
        now=now,
    )
    appeal.reversal_entry_id = reversal.entry_id
    await session.flush()
    return AppealDecision(appeal=_view(appeal, citizen, entry), reversal=reversal)


async def deny_appeal(
    session: AsyncSession, *, guild_id: int, appeal_id: int, moderator_id: int, now: datetime
) -> AppealDecision:
    """Deny a pending appeal; the entry stands."""
    appeal, citizen, entry = await _decide(
        session,
        guild_id=guild_id,
        appeal_id=appeal_id,
        moderator_id=moderator_id,
        now=now,
        status=RequestStatus.DENIED,
    )
    return AppealDecision(appeal=_view(appeal, citizen, entry), reversal=None)


async def pending_appeals(session: AsyncSession, *, guild_id: int, limit: int = 25) -> tuple[AppealView, ...]:
    """Appeals of the guild's live season waiting for a decision, oldest first."""
    rows = await session.exec(
        _joined()
        .where(
            col(Season.guild_id) == guild_id,
            col(Season.status) != SeasonStatus.ENDED,
            col(Appeal.status) == RequestStatus.PENDING,
        )
        .order_by(col(Appeal.id))
        .limit(limit)
    )
    return tuple(_view(appeal, citizen, entry) for appeal, citizen, entry, _ in rows.all())


async def appeals_of(
    session: AsyncSession, *, guild_id: int, user_id: int, limit: int = 25
) -> tuple[AppealView, ...]:
    """The member's appeals in the live season, newest first."""
    rows = await session.exec(
        _joined()
        .where(
            col(Season.guild_id) == guild_id,
            col(Season.status) != SeasonStatus.ENDED,
            col(Citizen.user_id) == user_id,
        )
        .order_by(col(Appeal.id).desc())
        .limit(limit)
    )
    return tuple(_view(appeal, citizen, entry) for appeal, citizen, entry, _ in rows.all())


async def appealable_entries(
    session: AsyncSession, *, guild_id: int, user_id: int, limit: int = 25, look_back: int = 100
) -> tuple[LedgerLine, ...]:
    """The member's entries they may appeal now, newest first, from their latest ``look_back``
    (what ``file_appeal`` would accept; empty when they are not a citizen of the live season)."""
    season = await live_season_row(session, guild_id=guild_id)
    if season is None or season.id is None:
        return ()
    citizen = await citizen_row(session, season_id=season.id, user_id=user_id)
    if citizen is None or citizen.id is None:
        return ()
    entries = await latest_entries(session, citizen_id=citizen.id, limit=look_back)
    appealed = set(
        (
            await session.exec(
                select(Appeal.ledger_entry_id).where(
                    col(Appeal.ledger_entry_id).in_([entry.entry_id for entry in entries])
                )
            )
        ).all()
    )
    reversed_ids = set(
        (
            await session.exec(
                select(LedgerEntry.reverses_entry_id).where(
                    col(LedgerEntry.reverses_entry_id).in_([entry.entry_id for entry in entries])
                )
            )
        ).all()
    )
    open_to_appeal = [
        entry
        for entry in entries
        if entry.entry_id not in reversed_ids
        and appeal_refusal(
            delta=entry.delta,
            source_kind=entry.source_kind,
            reverses_entry_id=entry.reverses_entry_id,
            appealed=entry.entry_id in appealed,
        )
        is None
    ]
    return tuple(open_to_appeal[:limit])
