"""The one error handler for slash commands, prefix commands and components.

Domain and input errors become one friendly ephemeral sentence; anything else is logged with the
command and a short reference the player can quote to a moderator.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.refusals import refusal_text
from bot.utils import formatting as fmt
from game.errors import GameError

log = logging.getLogger(__name__)


class NotModerator(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__("Only the Bureau can do that: moderators need Manage Server or the moderator role.")


class Refusal(Exception):
    """The bot itself refuses, in its own words (a bot picked as a citizen, a channel not set up).

    The game's refusals are :class:`~game.errors.GameError`; this is for what only Discord knows.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _unwrap(error: BaseException) -> BaseException:
    while (
        isinstance(error, (app_commands.CommandInvokeError, commands.CommandInvokeError)) and error.__cause__
    ):
        error = error.__cause__
    original = getattr(error, "original", None)
    return original if isinstance(original, BaseException) else error


def user_message(error: BaseException) -> str | None:
    """The sentence to show for an expected error, or None when it is a bug to log."""
    error = _unwrap(error)
    if isinstance(error, GameError):
        return refusal_text(error)
    if isinstance(error, Refusal):
        return error.text
    if isinstance(error, app_commands.TransformerError):
        kind = error.type.name.replace("_", " ").lower()
        if isinstance(error.value, str):
            shown = fmt.escape(fmt.truncate(error.value, 60))
            return f"I could not read “{shown}” as a {kind}. Please check it and try again."
        return f"That {kind} is not one I can use here: pick one from this server's list."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down, citizen: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.MissingPermissions | app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        who = "I am" if isinstance(error, app_commands.BotMissingPermissions) else "you are"
        return f"{who.capitalize()} missing the permission to do that ({missing})."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works in a server, not in direct messages."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You are not allowed to do that."
    if isinstance(error, discord.Forbidden):
        return (
            "Discord refused me the permission for that. "
            "A moderator should check my role and channel permissions."
        )
    return None


async def reply_ephemeral(interaction: discord.Interaction[Any], text: str) -> None:
    """Answer the interaction privately, whether or not it was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell %s about an error: %s", interaction.user, text)


async def handle_interaction_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    text = user_message(error)
    if text is None:
        reference = secrets.token_hex(3).upper()
        command = interaction.command.qualified_name if interaction.command else interaction.data
        log.error(
            "Unhandled error in %s for user %s (reference %s)",
            command,
            interaction.user.id,
            reference,
            exc_info=_unwrap(error),
        )
        text = f"Something went wrong on our side. The Bureau has been notified (reference {reference})."
    await reply_ephemeral(interaction, text)


class GameCommandTree(app_commands.CommandTree[Any]):
    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await handle_interaction_error(interaction, error)


class GameView(discord.ui.View):
    """Base for every view: its errors go through the same handler as commands."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await handle_interaction_error(interaction, error)
