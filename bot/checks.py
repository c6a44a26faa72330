"""Who may use the Bureau's commands: checked by the bot itself, not only hidden by Discord."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.errors import NotModerator

if TYPE_CHECKING:
    from bot.client import CitizenBot


async def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    member = interaction.user
    if not isinstance(member, discord.Member) or interaction.guild is None:
        return False
    if member.guild_permissions.manage_guild:
        return True
    bot: CitizenBot = interaction.client
    role_id = await bot.moderator_role_id(interaction.guild.id)
    return role_id is not None and any(role.id == role_id for role in member.roles)


T = TypeVar("T")


def moderator_only() -> Callable[[T], T]:
    """An app-command check: Manage Server, or the moderator role chosen in /setup."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if await is_moderator(interaction):
            return True
        raise NotModerator

    return app_commands.check(predicate)
