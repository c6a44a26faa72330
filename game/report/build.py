"""The debrief's input, read from the database: one season's ledger, citizens, friendships, permits, appeals.

The renderer (the rest of :mod:`game.report`) is pure; this is the only part that touches storage.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import ErrorCode, NotFound
from game.models import (
    Appeal,
    Audit,
    Citizen,
    DecreeRecord,
    Friendship,
    LedgerEntry,
    Permit,
    RequestStatus,
    Season,
)
from game.report._data import (
    Friendship as ReportFriendship,
)
from game.report._data import (
    ReportAppeal,
    ReportCitizen,
    ReportData,
    ReportEntry,
    ReportPermit,
    SourceKind,
    TierBand,
)
from game.report._timeline import ReportDecree
from game.scenario import Scenario, restore_scenario

__all__ = ["build_report_data"]

_APPEAL_STATUS = {RequestStatus.APPROVED: "granted", RequestStatus.DENIED: "denied"}


async def build_report_data(
    session: AsyncSession, season_id: int, *, guild_name: str | None = None, now: datetime | None = None
) -> ReportData:
    """Everything the debrief shows about season ``season_id`` (ended or still running).

    ``guild_name`` is the server's name (the database does not keep it). ``now`` becomes
    ``generated_at``; without it the report is dated by the data itself (the season's end, else its
    latest ledger entry, else its start), so the same season always renders the same file.

    Entries written outside an audit (moderators' adjustments, appeal reversals) are filed under the
    last audit before them (0 before the first), as they happened between audits.
    """
    season = await session.get(Season, season_id)
    if season is None:
        raise NotFound(ErrorCode.SEASON_NOT_FOUND)
    scenario = restore_scenario(season.rules, source=f"season {season.number}")
    citizens = (
        await session.exec(
            select(Citizen).where(Citizen.season_id == season_id).order_by(col(Citizen.number))
        )
    ).all()
    number_of = {citizen.id: citizen.number for citizen in citizens}
    audits = (
        await session.exec(
            select(Audit.started_at, Audit.number)
            .where(Audit.season_id == season_id)
            .order_by(col(Audit.number))
        )
    ).all()
    audit_times = [started for started, _ in audits]
    audit_numbers = [number for _, number in audits]

    def audit_of(entry: LedgerEntry) -> int:
        if entry.audit_number is not None:
            return entry.audit_number
        index = bisect_right(audit_times, entry.created_at)
        return audit_numbers[index - 1] if index else 0

    ledger = (
        await session.exec(
            select(LedgerEntry).where(LedgerEntry.season_id == season_id).order_by(col(LedgerEntry.id))
        )
    ).all()
    entries = tuple(
        ReportEntry(
            entry_id=entry.id or 0,
            citizen_number=number_of[entry.citizen_id],
            audit_number=audit_of(entry),
            dimension=str(entry.dimension),
            delta=entry.delta,
            score_before=entry.score_before,
            score_after=entry.score_after,
            reason=entry.reason,
            source=SourceKind(str(entry.source_kind)),
            rule_key=entry.rule_key,
            created_at=entry.created_at,
            related_citizen_number=number_of.get(entry.related_citizen_id),
            reverses_entry_id=entry.reverses_entry_id,
        )
        for entry in ledger
        if entry.citizen_id in number_of
    )
    pairs = (
        await session.exec(
            select(Friendship.citizen_id, Friendship.friend_id).where(
                Friendship.season_id == season_id, col(Friendship.citizen_id) < col(Friendship.friend_id)
            )
        )
    ).all()
    generated_at = now or season.ended_at or (ledger[-1].created_at if ledger else season.started_at)
    permits = (
        await session.exec(select(Permit).where(Permit.season_id == season_id).order_by(col(Permit.id)))
    ).all()
    appeals = (
        await session.exec(select(Appeal).where(Appeal.season_id == season_id).order_by(col(Appeal.id)))
    ).all()
    decrees = (
        await session.exec(
            select(DecreeRecord).where(DecreeRecord.season_id == season_id).order_by(col(DecreeRecord.id))
        )
    ).all()
    return ReportData(
        decrees=tuple(_report_decree(record) for record in decrees),
        guild_name=guild_name or f"Server {season.guild_id}",
        season_title=f"Season {season.number}",
        scenario_name=scenario.name,
        started_at=season.started_at,
        ended_at=season.ended_at,
        generated_at=generated_at,
        start_score=scenario.score.start,
        score_floor=scenario.score.minimum,
        score_ceiling=scenario.score.maximum,
        tiers=tuple(
            TierBand(name=t.name, min_score=t.min_score, max_score=t.max_score) for t in scenario.tiers
        ),
        discussion_prompts=tuple(scenario.discussion_prompts),
        citizens=tuple(
            ReportCitizen(
                number=citizen.number,
                display_name=citizen.display_name,
                final_score=citizen.score,
                tier=_tier_name(scenario, citizen.tier_key),
            )
            for citizen in citizens
        ),
        entries=entries,
        friendships=tuple(
            ReportFriendship(citizen_a=number_of[a], citizen_b=number_of[b])
            for a, b in sorted(pairs)
            if a in number_of and b in number_of
        ),
        permits=tuple(
            ReportPermit(
                citizen_number=number_of[permit.citizen_id],
                topic=permit.topic,
                status=_permit_status(permit, season.ended_at or generated_at),
                requested_at=permit.requested_at,
                expires_at=permit.expires_at,
            )
            for permit in permits
            if permit.citizen_id in number_of
        ),
        appeals=tuple(
            ReportAppeal(
                citizen_number=number_of[appeal.citizen_id],
                entry_id=appeal.ledger_entry_id,
                status=_APPEAL_STATUS.get(RequestStatus(appeal.status), str(appeal.status)),
                reason=appeal.reason,
            )
            for appeal in appeals
            if appeal.citizen_id in number_of
        ),
    )


def _report_decree(record: DecreeRecord) -> ReportDecree:
    last = record.until_audit
    if record.revoked_after_audit is not None:
        last = record.revoked_after_audit if last is None else min(last, record.revoked_after_audit)
    return ReportDecree(
        key=record.decree_key,
        name=record.decree_name,
        source=str(record.source),
        took_effect_at=record.took_effect_at,
        from_audit=record.after_audit + 1,
        until_audit=last,
        revoked_at=record.revoked_at,
        reversed_entries=record.reversed_entries,
    )


def _tier_name(scenario: Scenario, key: str) -> str:
    try:
        return scenario.tier(key).name
    except KeyError:
        return key


def _permit_status(permit: Permit, at: datetime) -> str:
    """``active`` for an approved permit still in force at ``at``; otherwise the stored status."""
    if permit.status == RequestStatus.APPROVED:
        return "active" if permit.expires_at is not None and at < permit.expires_at else "expired"
    return str(permit.status)
