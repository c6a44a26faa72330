"""Guild look-ups and what Discord lets the bot do there: presentation and permissions only."""

from __future__ import annotations

from typing import Any

import discord

__all__ = [
    "DEFAULT_MODERATOR_PERMISSIONS",
    "guild_of",
    "missing_permissions",
    "permission_names",
    "role_problem",
]

# Discord hides the Bureau's commands from members without Manage Server; the bot's own check
# (Manage Server or the moderator role) is what counts.
DEFAULT_MODERATOR_PERMISSIONS = discord.Permissions(manage_guild=True)


def guild_of(interaction: discord.Interaction[Any]) -> discord.Guild:
    """The interaction's guild: every game command is guild-only, so its absence is a bug."""
    guild = interaction.guild
    if guild is None:
        raise RuntimeError("a guild-only command ran outside a guild")
    return guild


def permission_names(permissions: list[str]) -> str:
    return ", ".join(name.replace("_", " ").replace("guild", "server").title() for name in permissions)


def missing_permissions(
    channel: discord.abc.GuildChannel | discord.Thread, member: discord.Member, *wanted: str
) -> list[str]:
    """The permissions in ``wanted`` that ``member`` lacks in ``channel``."""
    have = channel.permissions_for(member)
    return [name for name in wanted if not getattr(have, name)]


def role_problem(role: discord.Role, me: discord.Member) -> str | None:
    """Why the bot could not give or take ``role``, in a sentence; ``None`` when it can."""
    if role.is_default():
        return "@everyone cannot be a tier role."
    if role.managed:
        return f"{role.mention} is managed by an integration; Discord lets nobody assign it."
    if not me.guild_permissions.manage_roles:
        return "I do not have the Manage Roles permission."
    if role >= me.top_role:
        return (
            f"{role.mention} is above my highest role ({me.top_role.mention}): "
            "drag my role above it in Server Settings → Roles."
        )
    return None
