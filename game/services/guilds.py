"""A guild's set-up: the Bureau's channels, the moderator role, the game channels, the tier roles.

These rows outlive seasons. Moderator checks are the bot's business; these functions only store.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import ErrorCode, InvalidInput
from game.models import GameChannel, GuildSettings, TierRole

__all__ = [
    "UNCHANGED",
    "GuildSetup",
    "Unchanged",
    "add_game_channel",
    "get_guild_settings",
    "get_tier_roles",
    "is_game_channel",
    "list_game_channels",
    "remove_game_channel",
    "set_tier_role",
    "update_guild_settings",
]


class Unchanged(enum.Enum):
    """Marks a setting :func:`update_guild_settings` should leave as it is (``None`` clears it)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED

MAX_GAME_CHANNELS = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class GuildSetup:
    """A guild's settings; every id is ``None`` until a moderator chooses it in ``/setup``."""

    guild_id: int
    announcements_channel_id: int | None = None
    brag_channel_id: int | None = None
    moderators_channel_id: int | None = None
    moderator_role_id: int | None = None
    configured: bool = False


def _view(row: GuildSettings | None, guild_id: int) -> GuildSetup:
    if row is None:
        return GuildSetup(guild_id=guild_id)
    return GuildSetup(
        guild_id=row.guild_id,
        announcements_channel_id=row.announcements_channel_id,
        brag_channel_id=row.brag_channel_id,
        moderators_channel_id=row.moderators_channel_id,
        moderator_role_id=row.moderator_role_id,
        configured=True,
    )


async def get_guild_settings(session: AsyncSession, *, guild_id: int) -> GuildSetup:
    """The guild's settings (all ``None``, ``configured=False``, when ``/setup`` was never run)."""
    return _view(await session.get(GuildSettings, guild_id), guild_id)


async def update_guild_settings(
    session: AsyncSession,
    *,
    guild_id: int,
    now: datetime,
    announcements_channel_id: int | Unchanged | None = UNCHANGED,
    brag_channel_id: int | Unchanged | None = UNCHANGED,
    moderators_channel_id: int | Unchanged | None = UNCHANGED,
    moderator_role_id: int | Unchanged | None = UNCHANGED,
) -> GuildSetup:
    """Set the given settings (``None`` clears one, :data:`UNCHANGED` keeps it); creates the row if needed."""
    changes = {
        name: value
        for name, value in (
            ("announcements_channel_id", announcements_channel_id),
            ("brag_channel_id", brag_channel_id),
            ("moderators_channel_id", moderators_channel_id),
            ("moderator_role_id", moderator_role_id),
        )
        if value is not UNCHANGED
    }
    # Lock the row so two /setup commands at once do not lose each other's changes.
    row = (
        await session.exec(select(GuildSettings).where(GuildSettings.guild_id == guild_id).with_for_update())
    ).first()
    if row is None:
        row = GuildSettings(guild_id=guild_id, created_at=now)
        session.add(row)
    for name, value in changes.items():
        setattr(row, name, value)
    await session.flush()
    return _view(row, guild_id)


async def add_game_channel(session: AsyncSession, *, guild_id: int, channel_id: int) -> bool:
    """Record the channel's messages from now on. ``False`` when it already was a game channel."""
    existing = await session.get(GameChannel, (guild_id, channel_id))
    if existing is not None:
        return False
    count = (
        await session.exec(
            select(sa.func.count()).select_from(GameChannel).where(GameChannel.guild_id == guild_id)
        )
    ).one()
    if count >= MAX_GAME_CHANNELS:
        raise InvalidInput(ErrorCode.TOO_MANY_GAME_CHANNELS, limit=MAX_GAME_CHANNELS)
    session.add(GameChannel(guild_id=guild_id, channel_id=channel_id))
    await session.flush()
    return True


async def remove_game_channel(session: AsyncSession, *, guild_id: int, channel_id: int) -> bool:
    """Stop recording the channel. ``False`` when it was not a game channel."""
    result = await session.exec(
        sa.delete(GameChannel).where(
            col(GameChannel.guild_id) == guild_id, col(GameChannel.channel_id) == channel_id
        )
    )
    return bool(result.rowcount)


async def list_game_channels(session: AsyncSession, *, guild_id: int) -> tuple[int, ...]:
    """The guild's game channel ids, in ascending order."""
    rows = await session.exec(
        select(GameChannel.channel_id)
        .where(GameChannel.guild_id == guild_id)
        .order_by(col(GameChannel.channel_id))
    )
    return tuple(rows.all())


async def is_game_channel(session: AsyncSession, *, guild_id: int, channel_id: int) -> bool:
    return await session.get(GameChannel, (guild_id, channel_id)) is not None


async def set_tier_role(session: AsyncSession, *, guild_id: int, tier_key: str, role_id: int | None) -> None:
    """Map a tier (by its key in the scenario) to a Discord role; ``None`` removes the mapping."""
    key = tier_key.strip()
    if not key or len(key) > 40:
        raise InvalidInput(ErrorCode.TIER_KEY_INVALID)
    row = await session.get(TierRole, (guild_id, key))
    if role_id is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(TierRole(guild_id=guild_id, tier_key=key, role_id=role_id))
    else:
        row.role_id = role_id
    await session.flush()


async def get_tier_roles(session: AsyncSession, *, guild_id: int) -> Mapping[str, int]:
    """``{tier_key: role_id}`` for the guild (read-only)."""
    rows = await session.exec(select(TierRole).where(TierRole.guild_id == guild_id))
    return MappingProxyType({row.tier_key: row.role_id for row in rows.all()})
