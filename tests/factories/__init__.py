"""Quick set-ups for storage tests: a guild with a season, citizens, scores and balances.

Every helper takes the engine and commits in a transaction of its own, through the real services,
so what it builds is what the game would have built. Stable API: other engineers' tests use it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from game.db import transaction
from game.models import Citizen, Dimension, Enrollment, SourceKind
from game.services import citizens, ledger, seasons
from game.services.citizens import CitizenView
from game.services.seasons import SeasonView

__all__ = [
    "GUILD_ID",
    "NOW",
    "OTHER_GUILD_ID",
    "make_citizen",
    "make_citizens",
    "make_season",
    "set_balance",
    "set_score",
    "user_id",
]

# Real-sized snowflakes: they overflow a 32-bit column, so a wrong column type fails loudly.
GUILD_ID = 700_000_000_000_000_001
OTHER_GUILD_ID = 700_000_000_000_000_002
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def user_id(n: int) -> int:
    """The Discord id of test member ``n``."""
    return 800_000_000_000_000_000 + n


async def make_season(
    engine: AsyncEngine,
    *,
    guild_id: int = GUILD_ID,
    scenario: str = "classic",
    now: datetime = NOW,
    duration: timedelta | None = None,
    audit_every: timedelta | None = None,
    enrollment: Enrollment = Enrollment.VOLUNTARY,
) -> SeasonView:
    """Start a season (the scenario's default duration and audit interval unless given)."""
    async with transaction(engine) as session:
        return await seasons.start_season(
            session,
            guild_id=guild_id,
            scenario_key=scenario,
            now=now,
            duration=duration,
            audit_every=audit_every,
            enrollment=enrollment,
        )


async def make_citizen(
    engine: AsyncEngine, *, n: int, guild_id: int = GUILD_ID, name: str | None = None, now: datetime = NOW
) -> CitizenView:
    """Member ``n`` (``user_id(n)``) joins the guild's running season, named ``name`` or ``citizen-n``."""
    async with transaction(engine) as session:
        return await citizens.join(
            session, guild_id=guild_id, user_id=user_id(n), display_name=name or f"citizen-{n}", now=now
        )


async def make_citizens(
    engine: AsyncEngine, *, count: int, guild_id: int = GUILD_ID, first: int = 1, now: datetime = NOW
) -> list[CitizenView]:
    """Members ``first .. first + count - 1`` join, in order (citizen numbers follow)."""
    return [await make_citizen(engine, n=n, guild_id=guild_id, now=now) for n in range(first, first + count)]


async def set_score(
    engine: AsyncEngine, *, citizen_id: int, score: int, now: datetime = NOW, reason: str = "test set-up"
) -> int:
    """Move a citizen to ``score`` with one ``bureau`` ledger entry (so the ledger invariant holds).
    Returns the score reached (clamped to the season's range)."""
    async with transaction(engine) as session:
        current = await session.get(Citizen, citizen_id)
        assert current is not None
        change = await ledger.record_change(
            session,
            citizen_id=citizen_id,
            delta=score - current.score,
            dimension=Dimension.BUREAU,
            reason=reason,
            source_kind=SourceKind.MODERATOR,
            now=now,
        )
        return change.score_after


async def set_balance(engine: AsyncEngine, *, citizen_id: int, balance: int) -> None:
    """Give a citizen exactly ``balance`` credits."""
    async with transaction(engine) as session:
        await session.exec(sa.update(Citizen).where(col(Citizen.id) == citizen_id).values(balance=balance))
