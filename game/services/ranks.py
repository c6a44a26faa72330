"""The rank table: ``score_count`` holds how many citizens of a season hold each score.

Ranks are competition ranks (1, 2, 2, 4): one plus the number of citizens with a higher score, read
from ``score_count`` (at most a few hundred rows a season), never by counting citizens. Anything that
changes a citizen's score keeps the table right with :func:`move_score_count` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import ErrorCode, NotFound
from game.models import Citizen, ScoreCount

__all__ = ["citizen_rank", "move_score_count", "rank_of_score", "ranks_by_score", "score_counts"]


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def move_score_count(
    session: AsyncSession, *, season_id: int, old_score: int | None, new_score: int | None
) -> None:
    """Keep ``score_count`` right when one citizen's score changes (``None``: joined or left)."""
    if old_score == new_score:
        return
    # Rows in ascending score order, whatever the direction: two changes crossing each other
    # (600 -> 597 and 597 -> 600) then lock them in the same order and cannot deadlock.
    steps = sorted(
        [(score, change) for score, change in ((old_score, -1), (new_score, 1)) if score is not None]
    )
    for score, change in steps:
        if change < 0:
            await session.exec(
                sa.update(ScoreCount)
                .where(col(ScoreCount.season_id) == season_id, col(ScoreCount.score) == score)
                .values(citizens=col(ScoreCount.citizens) - 1)
            )
        else:
            statement = _insert(session)(ScoreCount).values(season_id=season_id, score=score, citizens=1)
            await session.exec(
                statement.on_conflict_do_update(
                    index_elements=["season_id", "score"],
                    set_={"citizens": col(ScoreCount.citizens) + statement.excluded.citizens},
                )
            )


async def score_counts(session: AsyncSession, season_id: int) -> list[tuple[int, int]]:
    """``(score, citizens)`` for every score held in the season, highest first."""
    rows = await session.exec(
        select(ScoreCount.score, ScoreCount.citizens)
        .where(ScoreCount.season_id == season_id, col(ScoreCount.citizens) > 0)
        .order_by(col(ScoreCount.score).desc())
    )
    return [(score, citizens) for score, citizens in rows.all()]


def ranks_by_score(counts: Sequence[tuple[int, int]]) -> dict[int, int]:
    ranks: dict[int, int] = {}
    above = 0
    for score, citizens in counts:
        ranks[score] = above + 1
        above += citizens
    return ranks


async def rank_of_score(session: AsyncSession, *, season_id: int, score: int) -> int:
    """One plus the number of citizens with a higher score."""
    above = (
        await session.exec(
            select(sa.func.coalesce(sa.func.sum(ScoreCount.citizens), 0)).where(
                ScoreCount.season_id == season_id, col(ScoreCount.score) > score
            )
        )
    ).one()
    return int(above) + 1


async def citizen_rank(session: AsyncSession, *, citizen_id: int) -> int:
    citizen = await session.get(Citizen, citizen_id)
    if citizen is None:
        raise NotFound(ErrorCode.CITIZEN_GONE)
    return await rank_of_score(session, season_id=citizen.season_id, score=citizen.score)
