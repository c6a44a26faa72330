"""What is stored about a member, exported (``/mydata``) or deleted (``/leave``).

``/leave`` deletes every row about the member in the guild, in every season, and rewrites other
citizens' ledger entries that named them so they no longer do (deltas untouched, so every other
citizen's ``start + sum(deltas) == score`` still holds). ``/mydata`` exports it all first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import ErrorCode, NotEnrolled
from game.models import (
    Appeal,
    Citizen,
    FriendRequest,
    Friendship,
    LedgerEntry,
    OutboxKind,
    OutboxMessage,
    PendingMessage,
    Permit,
    Purchase,
    Season,
    SeasonStatus,
    SeenMessage,
    SourceKind,
)
from game.payloads import RoleSync
from game.services.lookup import hold_season, lock_citizens, scenario_of
from game.services.outbox import outbox_row
from game.services.ranks import move_score_count

__all__ = ["FORMER_CITIZEN_REASON", "FORMER_FRIEND_REASON", "LeaveResult", "export_data", "leave"]

# What other citizens' ledger entries say once the citizen they named has left.
FORMER_FRIEND_REASON = "A friend's penalty (that citizen has since left the game)"
FORMER_CITIZEN_REASON = "An entry about a citizen who has since left the game"
# Outbox rows that concern one member; the payload names them by ``user_id``.
_PERSONAL_OUTBOX = (OutboxKind.ROLE_SYNC, OutboxKind.PERMIT_REQUEST, OutboxKind.APPEAL_REQUEST)


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaveResult:
    """What ``/leave`` deleted: citizen records (one per season) and their ledger entries; and how many
    of other citizens' entries were anonymised."""

    seasons: int
    ledger_entries: int
    anonymised_entries: int


async def _records(session: AsyncSession, guild_id: int, user_id: int) -> list[tuple[Citizen, Season]]:
    rows = await session.exec(
        select(Citizen, Season)
        .join(Season, col(Season.id) == Citizen.season_id)
        .where(Citizen.guild_id == guild_id, Citizen.user_id == user_id)
        .order_by(col(Season.number))
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def _neighbours(session: AsyncSession, ids: list[int]) -> set[int]:
    """The citizens whose rows change when ``ids`` leave: friends, requests' other sides, and the
    owners of entries that name them."""
    found: set[int] = set()
    for statement in (
        select(Friendship.friend_id).where(col(Friendship.citizen_id).in_(ids)),
        select(FriendRequest.to_citizen_id).where(col(FriendRequest.from_citizen_id).in_(ids)),
        select(FriendRequest.from_citizen_id).where(col(FriendRequest.to_citizen_id).in_(ids)),
        select(LedgerEntry.citizen_id).where(col(LedgerEntry.related_citizen_id).in_(ids)).distinct(),
    ):
        found.update((await session.exec(statement)).all())
    return found


def _mentions(payload: Any, user_id: int) -> bool:
    return str(user_id) in json.dumps(payload, default=str)


async def leave(session: AsyncSession, *, guild_id: int, user_id: int, now: datetime) -> LeaveResult:
    """Delete everything stored about the member in this guild, in every season.

    Removes their citizen records, ledger, messages waiting for audit, purchases, friendships (both
    ways), friend requests, permits, appeals and the outbox rows about them; other citizens' entries
    that named them keep their deltas but lose the name. While a season is live and their tier carries
    a role, a ``ROLE_SYNC`` to no tier is queued so the bot takes the role away. ``NotEnrolled`` when
    there is nothing stored.
    """
    records = await _records(session, guild_id, user_id)
    if not records:
        raise NotEnrolled(ErrorCode.NO_RECORD)
    ids = [citizen.id for citizen, _ in records if citizen.id is not None]
    # The lock order: the live seasons (not in the middle of an audit), then by id every citizen whose
    # rows this changes (the member, their friends, the other side of their requests, the citizens whose
    # entries name them); then the records again, as the audit we may have waited for left them.
    live = {season.id for _, season in records if season.status != SeasonStatus.ENDED and season.id}
    for season_id in sorted(live):
        await hold_season(session, season_id=season_id)
    await lock_citizens(session, [*ids, *await _neighbours(session, ids)])
    records = await _records(session, guild_id, user_id)
    anonymised = await session.exec(
        sa.update(LedgerEntry)
        .where(col(LedgerEntry.related_citizen_id).in_(ids), col(LedgerEntry.citizen_id).not_in(ids))
        .values(
            related_citizen_id=None,
            reason=sa.case(
                (col(LedgerEntry.source_kind) == SourceKind.FRIEND, FORMER_FRIEND_REASON),
                else_=FORMER_CITIZEN_REASON,
            ),
            source_ref=sa.case(
                (col(LedgerEntry.source_kind) == SourceKind.FRIEND, None), else_=LedgerEntry.source_ref
            ),
        )
    )
    deleted_entries = (
        await session.exec(
            select(sa.func.count()).select_from(LedgerEntry).where(col(LedgerEntry.citizen_id).in_(ids))
        )
    ).one()
    # Explicit deletes, children first (the foreign keys cascade too, but we do not rely on it).
    for statement in (
        sa.delete(Appeal).where(col(Appeal.citizen_id).in_(ids)),
        sa.delete(Permit).where(col(Permit.citizen_id).in_(ids)),
        sa.delete(Purchase).where(col(Purchase.citizen_id).in_(ids)),
        sa.delete(PendingMessage).where(col(PendingMessage.citizen_id).in_(ids)),
        sa.delete(SeenMessage).where(col(SeenMessage.citizen_id).in_(ids)),
        sa.delete(FriendRequest).where(
            or_(col(FriendRequest.from_citizen_id).in_(ids), col(FriendRequest.to_citizen_id).in_(ids))
        ),
        sa.delete(Friendship).where(
            or_(col(Friendship.citizen_id).in_(ids), col(Friendship.friend_id).in_(ids))
        ),
        sa.delete(LedgerEntry).where(col(LedgerEntry.citizen_id).in_(ids)),
        sa.delete(Citizen).where(col(Citizen.id).in_(ids)),
    ):
        await session.exec(statement)
    for citizen, _ in records:
        await move_score_count(session, season_id=citizen.season_id, old_score=citizen.score, new_score=None)
    # Outbox rows about them: their role syncs, permit and appeal requests, and delivered announcements
    # that named them. Undelivered bulletins are left to go out: they concern everyone.
    outbox = await session.exec(select(OutboxMessage).where(OutboxMessage.guild_id == guild_id))
    for message in outbox.all():
        personal = message.kind in _PERSONAL_OUTBOX and str(message.payload.get("user_id")) == str(user_id)
        delivered_mention = message.delivered_at is not None and _mentions(message.payload, user_id)
        if personal or delivered_mention:
            await session.delete(message)
    for citizen, season in records:
        if season.status == SeasonStatus.ENDED:
            continue
        try:
            has_role = scenario_of(season).tier(citizen.tier_key).role is not None
        except KeyError:
            has_role = False
        if has_role:
            session.add(
                outbox_row(
                    guild_id=guild_id,
                    season_id=season.id,
                    payload=RoleSync(
                        user_id=user_id, season_id=season.id, old_tier=citizen.tier_key, new_tier=None
                    ),
                    now=now,
                )
            )
    await session.flush()
    return LeaveResult(
        seasons=len(records),
        ledger_entries=int(deleted_entries),
        anonymised_entries=int(anonymised.rowcount or 0),
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def export_data(session: AsyncSession, *, guild_id: int, user_id: int, now: datetime) -> dict[str, Any]:
    """``/mydata``: everything stored about the member in this guild, across seasons, as JSON-able data.

    Top-level ``score``, ``balance``, ``tier`` and ``season`` are the latest season's (``None`` if the
    member never joined one); ``ledger``, ``purchases``, ``friends``, ``friend_requests``, ``permits``,
    ``appeals`` and ``pending_messages`` cover every season, each item naming its ``season``;
    ``seasons`` has one record per season joined.
    """
    records = await _records(session, guild_id, user_id)
    by_id = {citizen.id: (citizen, season) for citizen, season in records}
    ids = list(by_id)
    number_of = {citizen.id: season.number for citizen, season in records}
    latest = records[-1][0] if records else None

    def season_of(citizen_id: int | None) -> int | None:
        return number_of.get(citizen_id)

    ledger = (
        await session.exec(
            select(LedgerEntry).where(col(LedgerEntry.citizen_id).in_(ids)).order_by(col(LedgerEntry.id))
        )
    ).all()
    purchases = (
        await session.exec(
            select(Purchase).where(col(Purchase.citizen_id).in_(ids)).order_by(col(Purchase.id))
        )
    ).all()
    friend_rows = (
        await session.exec(
            select(Friendship, Citizen)
            .join(Citizen, col(Citizen.id) == Friendship.friend_id)
            .where(col(Friendship.citizen_id).in_(ids))
            .order_by(col(Friendship.created_at))
        )
    ).all()
    other = aliased(Citizen)
    requests = (
        await session.exec(
            select(FriendRequest, other)
            .join(
                other,
                or_(
                    sa.and_(
                        col(other.id) == FriendRequest.to_citizen_id,
                        col(FriendRequest.from_citizen_id).in_(ids),
                    ),
                    sa.and_(
                        col(other.id) == FriendRequest.from_citizen_id,
                        col(FriendRequest.to_citizen_id).in_(ids),
                    ),
                ),
            )
            .order_by(col(FriendRequest.id))
        )
    ).all()
    permits = (
        await session.exec(select(Permit).where(col(Permit.citizen_id).in_(ids)).order_by(col(Permit.id)))
    ).all()
    appeals = (
        await session.exec(select(Appeal).where(col(Appeal.citizen_id).in_(ids)).order_by(col(Appeal.id)))
    ).all()
    seen = (
        await session.exec(
            select(SeenMessage.citizen_id, SeenMessage.message_id)
            .where(col(SeenMessage.citizen_id).in_(ids))
            .order_by(col(SeenMessage.message_id))
        )
    ).all()
    pending = (
        await session.exec(
            select(PendingMessage)
            .where(col(PendingMessage.citizen_id).in_(ids))
            .order_by(col(PendingMessage.id))
        )
    ).all()
    return {
        "guild_id": str(guild_id),
        "user_id": str(user_id),
        "exported_at": now.isoformat(),
        "season": None if latest is None else number_of[latest.id],
        "score": None if latest is None else latest.score,
        "balance": None if latest is None else latest.balance,
        "tier": None if latest is None else latest.tier_key,
        "ledger": [
            {
                "season": season_of(entry.citizen_id),
                "id": entry.id,
                "audit_number": entry.audit_number,
                "dimension": str(entry.dimension),
                "delta": entry.delta,
                "score_before": entry.score_before,
                "score_after": entry.score_after,
                "reason": entry.reason,
                "source_kind": str(entry.source_kind),
                "source_ref": entry.source_ref,
                "rule_key": entry.rule_key,
                "reverses_entry_id": entry.reverses_entry_id,
                "created_at": entry.created_at.isoformat(),
            }
            for entry in ledger
        ],
        "purchases": [
            {
                "season": season_of(purchase.citizen_id),
                "id": purchase.id,
                "item_key": purchase.item_key,
                "item_name": purchase.item_name,
                "quantity": purchase.quantity,
                "unit_price": purchase.unit_price,
                "total_price": purchase.total_price,
                # A hidden effect stays a surprise until the audit applies it, even in an export.
                "effect": None if purchase.hidden and purchase.audit_number is None else purchase.effect,
                "dimension": str(purchase.dimension),
                "audited": purchase.audit_number is not None,
                "created_at": purchase.created_at.isoformat(),
            }
            for purchase in purchases
        ],
        "friends": [
            {
                "season": season_of(friendship.citizen_id),
                "user_id": str(friend.user_id),
                "display_name": friend.display_name,
                "since": friendship.created_at.isoformat(),
            }
            for friendship, friend in friend_rows
        ],
        "friend_requests": [
            {
                "season": season_of(request.from_citizen_id) or season_of(request.to_citizen_id),
                "direction": "sent" if request.from_citizen_id in by_id else "received",
                "other_user_id": str(counterpart.user_id),
                "other_display_name": counterpart.display_name,
                "status": str(request.status),
                "created_at": request.created_at.isoformat(),
                "decided_at": _iso(request.decided_at),
            }
            for request, counterpart in requests
        ],
        "permits": [
            {
                "season": season_of(permit.citizen_id),
                "id": permit.id,
                "topic": permit.topic,
                "reason": permit.reason,
                "status": str(permit.status),
                "requested_at": permit.requested_at.isoformat(),
                "decided_at": _iso(permit.decided_at),
                "expires_at": _iso(permit.expires_at),
            }
            for permit in permits
        ],
        "appeals": [
            {
                "season": season_of(appeal.citizen_id),
                "id": appeal.id,
                "ledger_entry_id": appeal.ledger_entry_id,
                "reason": appeal.reason,
                "status": str(appeal.status),
                "created_at": appeal.created_at.isoformat(),
                "decided_at": _iso(appeal.decided_at),
                "reversal_entry_id": appeal.reversal_entry_id,
            }
            for appeal in appeals
        ],
        "pending_messages": [
            {
                "season": season_of(message.citizen_id),
                "channel_id": str(message.channel_id),
                "message_id": str(message.message_id),
                "content": message.content,
                "created_at": message.created_at.isoformat(),
            }
            for message in pending
        ],
        "recorded_messages": [
            {"season": season_of(citizen_id), "message_id": str(message_id)}
            for citizen_id, message_id in seen
        ],
        "seasons": [
            {
                "season": season.number,
                "scenario": season.scenario_key,
                "status": str(season.status),
                "citizen_number": citizen.number,
                "display_name": citizen.display_name,
                "score": citizen.score,
                "tier": citizen.tier_key,
                "balance": citizen.balance,
                "debt": citizen.debt,
                "joined_at": citizen.joined_at.isoformat(),
                "lookups_day": citizen.lookups_day,
                "lookups_count": citizen.lookups_count,
                "last_reward_at": _iso(citizen.last_reward_at),
                "recent_message_digests": list(citizen.recent_digests),
            }
            for citizen, season in records
        ],
    }
