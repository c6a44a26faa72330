"""The one place a single citizen's score changes outside the audit: moderators' adjustments, appeals.

Each change locks the citizen's row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every write
transaction starts with ``BEGIN IMMEDIATE``, which already serialises writers), clamps the score to
the season's range, writes a ledger entry with the delta actually applied and the score before and
after (so ``start + sum(deltas) == score`` always holds), moves the citizen in ``score_count``, and
queues a ``ROLE_SYNC`` outbox row when the tier changes. History is never edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import ErrorCode, InvalidInput, NotAllowed, NotFound
from game.inputs import clean_reason
from game.models import (
    Citizen,
    Dimension,
    LedgerEntry,
    Season,
    SeasonStatus,
    SourceKind,
)
from game.payloads import RoleSync
from game.rules.economy import apply_delta
from game.services.lookup import hold_season, require_citizen_row, require_live_season_row, scenario_of
from game.services.outbox import outbox_row
from game.services.ranks import move_score_count

__all__ = ["LedgerChange", "adjust_score", "record_change"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerChange:
    """A change written to the ledger. ``delta`` is what was applied (after clamping), ``requested``
    what was asked; ``tier_changed`` means a role sync was queued."""

    entry_id: int
    season_id: int
    citizen_id: int
    user_id: int
    dimension: Dimension
    requested: int
    delta: int
    score_before: int
    score_after: int
    tier_before: str
    tier_after: str
    reason: str

    @property
    def clamped(self) -> bool:
        return self.delta != self.requested

    @property
    def tier_changed(self) -> bool:
        return self.tier_before != self.tier_after


async def record_change(
    session: AsyncSession,
    *,
    citizen_id: int,
    delta: int,
    dimension: Dimension,
    reason: str,
    source_kind: SourceKind,
    now: datetime,
    source_ref: str | None = None,
    rule_key: str | None = None,
    related_citizen_id: int | None = None,
    reverses_entry_id: int | None = None,
) -> LedgerChange:
    """Apply ``delta`` to one citizen, clamped, and record it. The building block of
    :func:`adjust_score` and appeal reversals; it does not check who may do it."""
    season_id = (await session.exec(select(Citizen.season_id).where(Citizen.id == citizen_id))).first()
    if season_id is None:
        raise NotFound(ErrorCode.CITIZEN_GONE)
    await hold_season(session, season_id=season_id)
    citizen = (
        await session.exec(
            # FOR UPDATE: PostgreSQL locks the row; SQLite's BEGIN IMMEDIATE already serialises writers.
            select(Citizen)
            .where(Citizen.id == citizen_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
    if citizen is None:
        raise NotFound(ErrorCode.CITIZEN_GONE)
    season = await session.get(Season, citizen.season_id)
    assert season is not None
    assert citizen.id is not None
    if season.status == SeasonStatus.ENDED:
        raise NotAllowed(ErrorCode.SEASON_ENDED, what="scores")
    scenario = scenario_of(season)
    change = apply_delta(citizen.score, delta, scenario.score)
    tier_before = citizen.tier_key
    tier_after = scenario.tier_for(change.after).key
    citizen.score = change.after
    citizen.tier_key = tier_after
    entry = LedgerEntry(
        season_id=citizen.season_id,
        citizen_id=citizen.id,
        audit_number=None,
        dimension=dimension,
        delta=change.applied,
        score_before=change.before,
        score_after=change.after,
        reason=reason[:300],
        source_kind=source_kind,
        source_ref=source_ref,
        rule_key=rule_key,
        related_citizen_id=related_citizen_id,
        reverses_entry_id=reverses_entry_id,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    await move_score_count(
        session, season_id=citizen.season_id, old_score=change.before, new_score=change.after
    )
    if tier_after != tier_before:
        session.add(
            outbox_row(
                guild_id=citizen.guild_id,
                season_id=citizen.season_id,
                payload=RoleSync(
                    user_id=citizen.user_id,
                    season_id=citizen.season_id,
                    old_tier=tier_before,
                    new_tier=tier_after,
                ),
                now=now,
            )
        )
        await session.flush()
    assert entry.id is not None
    return LedgerChange(
        entry_id=entry.id,
        season_id=citizen.season_id,
        citizen_id=citizen.id,
        user_id=citizen.user_id,
        dimension=dimension,
        requested=delta,
        delta=change.applied,
        score_before=change.before,
        score_after=change.after,
        tier_before=tier_before,
        tier_after=tier_after,
        reason=entry.reason,
    )


async def adjust_score(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    delta: int,
    reason: str,
    moderator_id: int,
    now: datetime,
) -> LedgerChange:
    """``/adjust``: a moderator changes a citizen's score in the ``bureau`` dimension, with a reason.

    Works while the season runs or is paused. ``InvalidInput`` for a zero or out-of-range delta or a
    missing reason, ``NotEnrolled`` when the member is not a citizen.
    """
    season = await require_live_season_row(session, guild_id=guild_id)
    rules = scenario_of(season).score
    span = rules.maximum - rules.minimum
    if delta == 0 or abs(delta) > span:
        raise InvalidInput(ErrorCode.ADJUSTMENT_OUT_OF_RANGE, span=span)
    text = clean_reason(reason, purpose="adjustment")
    assert season.id is not None
    citizen = await require_citizen_row(session, season_id=season.id, user_id=user_id, yourself=False)
    assert citizen.id is not None
    return await record_change(
        session,
        citizen_id=citizen.id,
        delta=delta,
        dimension=Dimension.BUREAU,
        reason=text,
        source_kind=SourceKind.MODERATOR,
        source_ref=str(moderator_id),
        now=now,
    )
