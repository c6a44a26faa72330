"""Look-ups every service shares: a guild's live season, a member's citizen row, a season's rules,
and holding a season against a concurrent audit. They return ORM rows, for services only; the bot
gets views.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import (
    ErrorCode,
    NoActiveSeason,
    NotEnrolled,
)
from game.models import (
    Citizen,
    Dimension,
    Season,
    SeasonStatus,
)
from game.scenario import (
    CatalogueItem,
    Scenario,
    restore_scenario,
)

if TYPE_CHECKING:
    pass


__all__ = [
    "citizen_row",
    "hold_citizens",
    "hold_season",
    "live_season_row",
    "lock_citizens",
    "require_citizen_row",
    "require_live_season_row",
    "scenario_of",
    "shop_row",
]


def scenario_of(season: Season) -> Scenario:
    """The season's rules as they stand (the pack copied at start, with moderators' edits)."""
    return restore_scenario(season.rules, source=f"season {season.number}")


async def live_season_row(session: AsyncSession, *, guild_id: int, lock: bool = False) -> Season | None:
    """The guild's running or paused season (the ORM row, for services; never hand it to the bot)."""
    statement = (
        select(Season)
        .where(Season.guild_id == guild_id, col(Season.status) != SeasonStatus.ENDED)
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


async def require_live_season_row(session: AsyncSession, *, guild_id: int, lock: bool = False) -> Season:
    season = await live_season_row(session, guild_id=guild_id, lock=lock)
    if season is None:
        raise NoActiveSeason()
    return season


async def hold_season(session: AsyncSession, *, season_id: int) -> None:
    """Keep the season's audit out while this transaction changes one citizen's score or wallet.

    The audit locks the season row ``FOR UPDATE`` and writes whole scores and balances back; a
    purchase or an adjustment committed in the middle would be overwritten. Writers take ``FOR KEY
    SHARE`` on the same row first: they wait for a running audit, the next audit waits for them, and
    they never wait for each other (nor for joins, which update the row's non-key columns). Always
    taken before any citizen row, the order the audit takes them in. On SQLite ``BEGIN IMMEDIATE``
    already serialises every writer, so nothing is sent.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    await session.exec(
        select(Season.id).where(Season.id == season_id).with_for_update(read=True, key_share=True)
    )


async def citizen_row(
    session: AsyncSession, *, season_id: int, user_id: int, lock: bool = False
) -> Citizen | None:
    """The member's citizen row in a season (the ORM row, for services), or ``None``."""
    statement = (
        select(Citizen)
        .where(Citizen.season_id == season_id, Citizen.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


async def require_citizen_row(
    session: AsyncSession, *, season_id: int, user_id: int, lock: bool = False, yourself: bool = True
) -> Citizen:
    """The member's citizen row; ``NotEnrolled`` (worded for ``yourself`` or for someone else) if none."""
    citizen = await citizen_row(session, season_id=season_id, user_id=user_id, lock=lock)
    if citizen is None:
        raise (NotEnrolled() if yourself else NotEnrolled(ErrorCode.MEMBER_NOT_ENROLLED))
    return citizen


async def lock_citizens(session: AsyncSession, citizen_ids: Iterable[int]) -> set[int]:
    """Lock citizen rows ``FOR UPDATE``, in id order (the lock order's second step; on SQLite
    ``BEGIN IMMEDIATE`` already serialises writers, so the rows are only read). Take the season first
    (:func:`hold_season`). Returns the ids still on the register: a row read before the lock may have
    been deleted by a ``/leave`` the lock waited for."""
    ids = sorted(set(citizen_ids))
    if not ids:
        return set()
    # One statement: the rows are locked in the order the sort returns them.
    statement = select(Citizen.id).where(col(Citizen.id).in_(ids)).order_by(col(Citizen.id))
    if session.get_bind().dialect.name != "sqlite":
        statement = statement.with_for_update()
    return {int(found) for found in (await session.exec(statement)).all() if found is not None}


async def hold_citizens(session: AsyncSession, *, season_id: int, citizen_ids: Iterable[int]) -> None:
    """The lock order's first two steps for a change to some citizens of one season: the season row
    (:func:`hold_season`), then those citizens by id (:func:`lock_citizens`). ``NotEnrolled`` if one of
    them left while the lock was awaited."""
    ids = set(citizen_ids)
    await hold_season(session, season_id=season_id)
    if await lock_citizens(session, ids) != ids:
        raise NotEnrolled()


def shop_row(season_id: int, item: CatalogueItem) -> dict[str, Any]:
    """A season's ``shop_item`` row for a catalogue entry (at start, a moderator's or a decree's item)."""
    return {
        "season_id": season_id,
        "key": item.key,
        "name": item.name,
        "description": item.description[:300],
        "price": item.price,
        "effect": item.effect,
        "dimension": Dimension(item.dimension.value),
        "min_tier": item.min_tier,
        "stock": item.stock,
        "hidden": item.hidden_until_audit,
        "travel": item.travel,
        "active": True,
    }
