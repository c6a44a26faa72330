"""What the sandbox reads back from the database to tell the person watching: read-only, never played.

The season is played through the bot's commands and buttons only; these queries just look at the
outcome (the progress lines and the final standings), as a moderator reading the database would.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.models import Citizen, LedgerEntry, Season


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditSummary:
    number: int
    citizens: int
    entries: int
    mover: str | None  # the citizen whose score moved most in this audit
    mover_delta: int
    mover_reason: str | None  # the biggest single reason behind it


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    rank: int
    number: int
    user_id: int
    name: str
    score: int
    change: int
    tier_key: str
    ledger_sum: int  # start score + this == score, the ledger's invariant


async def latest_season(engine: AsyncEngine, guild_id: int) -> Season | None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        query = select(Season).where(Season.guild_id == guild_id).order_by(col(Season.number).desc())
        return (await session.exec(query)).first()


async def audit_summary(engine: AsyncEngine, season_id: int, number: int) -> AuditSummary:
    async with AsyncSession(engine) as session:
        citizens = (
            await session.exec(
                select(func.count()).select_from(Citizen).where(Citizen.season_id == season_id)
            )
        ).one()
        rows = (
            await session.exec(
                select(Citizen.display_name, LedgerEntry.delta, LedgerEntry.reason)
                .join(Citizen, col(Citizen.id) == col(LedgerEntry.citizen_id))
                .where(LedgerEntry.season_id == season_id, LedgerEntry.audit_number == number)
                .order_by(col(LedgerEntry.id))
            )
        ).all()
    totals: dict[str, int] = defaultdict(int)
    biggest: dict[str, tuple[int, str]] = {}
    for name, delta, reason in rows:
        totals[name] += delta
        if name not in biggest or abs(delta) > abs(biggest[name][0]):
            biggest[name] = (delta, reason)
    mover = max(totals, key=lambda name: (abs(totals[name]), name), default=None)
    return AuditSummary(
        number=number,
        citizens=citizens,
        entries=len(rows),
        mover=mover,
        mover_delta=totals[mover] if mover else 0,
        mover_reason=biggest[mover][1] if mover else None,
    )


async def standings(engine: AsyncEngine, season_id: int, start_score: int) -> list[Standing]:
    async with AsyncSession(engine) as session:
        citizens = (
            await session.exec(
                select(Citizen)
                .where(Citizen.season_id == season_id)
                .order_by(col(Citizen.score).desc(), col(Citizen.number))
            )
        ).all()
        sums = dict(
            (
                await session.exec(
                    select(LedgerEntry.citizen_id, func.sum(LedgerEntry.delta))
                    .where(LedgerEntry.season_id == season_id)
                    .group_by(col(LedgerEntry.citizen_id))
                )
            ).all()
        )
    return [
        Standing(
            rank=rank,
            number=citizen.number,
            user_id=citizen.user_id,
            name=citizen.display_name,
            score=citizen.score,
            change=citizen.score - start_score,
            tier_key=citizen.tier_key,
            ledger_sum=int(sums.get(citizen.id, 0) or 0) if citizen.id is not None else 0,
        )
        for rank, citizen in enumerate(citizens, start=1)
    ]
