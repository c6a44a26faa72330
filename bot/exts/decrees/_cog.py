from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.client import CitizenBot
from bot.exts.decrees._embeds import board_embed, issued_embed
from bot.utils.choices import choices
from bot.utils.guild import DEFAULT_MODERATOR_PERMISSIONS, guild_of
from game.errors import GameError
from game.services import decrees, seasons
from game.services.decrees import DecreeBoard


class Decrees(commands.Cog):
    """The season's decrees, for the Bureau."""

    decree = app_commands.Group(
        name="decree",
        description="The season's decrees: issue an optional one, list them, revoke one in force.",
        guild_only=True,
        default_permissions=DEFAULT_MODERATOR_PERMISSIONS,
    )

    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    async def _board(self, guild_id: int) -> DecreeBoard | None:
        try:
            async with self.bot.transaction() as session:
                return await decrees.decree_board(session, guild_id=guild_id)
        except GameError:
            return None

    @decree.command(name="list", description="Decrees in force, to come, and the optional ones to issue.")
    @moderator_only()
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            board = await decrees.decree_board(session, guild_id=guild.id)
            scenario = await seasons.season_rules(session, guild_id=guild.id)
        await interaction.response.send_message(embed=board_embed(board, scenario.name), ephemeral=True)

    @decree.command(name="issue", description="Issue one of the scenario's optional decrees, at once.")
    @app_commands.describe(decree="The optional decree to issue")
    @moderator_only()
    async def issue(
        self, interaction: discord.Interaction[Any], decree: app_commands.Range[str, 1, 40]
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            line = await decrees.issue_decree(
                session,
                guild_id=guild.id,
                key=decree.strip(),
                moderator_id=interaction.user.id,
                now=self.bot.clock.now(),
            )
        self._changed(guild.id)
        extra = f"{line.reversed_entries} penalties reversed in the ledger." if line.reversed_entries else ""
        await interaction.response.send_message(
            embed=issued_embed(f"Decree issued: {line.name}", line, extra), ephemeral=True
        )

    @decree.command(name="revoke", description="Revoke a decree in force; the next audit plays without it.")
    @app_commands.describe(decree="The decree in force to revoke")
    @moderator_only()
    async def revoke(
        self, interaction: discord.Interaction[Any], decree: app_commands.Range[str, 1, 40]
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            line = await decrees.revoke_decree(
                session,
                guild_id=guild.id,
                key=decree.strip(),
                moderator_id=interaction.user.id,
                now=self.bot.clock.now(),
            )
        self._changed(guild.id)
        await interaction.response.send_message(
            embed=issued_embed(f"Decree revoked: {line.name}", line), ephemeral=True
        )

    def _changed(self, guild_id: int) -> None:
        # Enrolment or the shop may have changed; the announcement goes out now.
        self.bot.game_state_changed(guild_id)
        self.bot.courier.wake()

    @issue.autocomplete("decree")
    async def _optional(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        board = await self._board(interaction.guild.id) if interaction.guild else None
        if board is None:
            return []
        return choices(((line.name, line.key, line.key) for line in board.optional), current)

    @revoke.autocomplete("decree")
    async def _in_force(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        board = await self._board(interaction.guild.id) if interaction.guild else None
        if board is None:
            return []
        return choices(((line.name, line.key, line.key) for line in board.in_force), current)
