"""What the Bureau's commands share: the look of their replies and checks on what Discord lets the bot do.

Presentation and Discord permissions only; every game decision is made in ``game/``.
"""

from __future__ import annotations

from typing import Any

import discord

__all__ = [
    "BUREAU_COLOUR",
    "DEFAULT_MODERATOR_PERMISSIONS",
    "WARNING_COLOUR",
    "bureau_embed",
    "guild_of",
    "missing_permissions",
    "permission_names",
    "role_problem",
    "truncate",
    "warning_embed",
]

BUREAU_COLOUR = discord.Colour.from_rgb(178, 34, 34)
WARNING_COLOUR = discord.Colour.from_rgb(230, 160, 20)

# Discord hides the Bureau's commands from members without Manage Server; the bot's own check
# (Manage Server or the moderator role) is what counts.
DEFAULT_MODERATOR_PERMISSIONS = discord.Permissions(manage_guild=True)

EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_LIMIT = 1024


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: Discord refuses longer embed parts."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "\N{HORIZONTAL ELLIPSIS}"


def bureau_embed(title: str, description: str | None = None) -> discord.Embed:
    """A reply from the Bureau: short title, the details underneath."""
    text = truncate(description, EMBED_DESCRIPTION_LIMIT) if description else None
    return discord.Embed(title=truncate(title, 256), description=text, colour=BUREAU_COLOUR)


def warning_embed(title: str, description: str) -> discord.Embed:
    return discord.Embed(
        title=f"\N{WARNING SIGN} {truncate(title, 250)}",
        description=truncate(description, EMBED_DESCRIPTION_LIMIT),
        colour=WARNING_COLOUR,
    )


def guild_of(interaction: discord.Interaction[Any]) -> discord.Guild:
    """The interaction's guild: every Bureau command is guild-only, so its absence is a bug."""
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
