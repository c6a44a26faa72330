from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitizenBot
from bot.utils import formatting as fmt
from bot.utils.choices import choices
from bot.utils.embeds import GAME_COLOUR
from bot.utils.guild import guild_of
from game.services import appeals

# Suggestions shown at most (Discord's limit).
SUGGESTED_ENTRIES = 25
# Ledger entry ids as Discord lets an integer option carry them.
MAX_ENTRY_ID = 2**53 - 1


class Appeals(commands.Cog):
    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    @app_commands.command(name="appeal", description="Contest one of your penalties; the Bureau decides.")
    @app_commands.describe(entry="The ledger entry (its number in /history)", reason="Why it was wrong")
    @app_commands.guild_only()
    async def appeal(
        self,
        interaction: discord.Interaction[Any],
        entry: app_commands.Range[int, 1, MAX_ENTRY_ID],
        reason: app_commands.Range[str, 1, appeals.MAX_APPEAL_REASON],
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            filed = await appeals.file_appeal(
                session,
                guild_id=guild.id,
                user_id=interaction.user.id,
                entry_id=entry,
                reason=reason,
                now=self.bot.clock.now(),
            )
        self.bot.courier.wake()  # the appeal reaches the moderators now, not at the next tick
        embed = discord.Embed(
            title=f"\N{SCALES} Appeal filed against entry #{filed.entry_id}",
            description=(
                f"**{fmt.signed(filed.entry_delta)}** {fmt.dimension_label(filed.entry_dimension)} "
                f"\N{MIDDLE DOT} {discord.utils.escape_markdown(fmt.truncate(filed.entry_reason, 300))}\n\n"
                "The Bureau will hear it. If it is granted, a new entry reverses this one; "
                "history itself is never edited."
            ),
            colour=GAME_COLOUR,
        )
        reason_shown = fmt.truncate(discord.utils.escape_markdown(filed.reason), 1024)
        embed.add_field(name="Your reason", value=reason_shown)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @appeal.autocomplete("entry")
    async def _entries(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        """The member's own recent penalties that may still be appealed, newest first."""
        if interaction.guild is None:
            return []
        now = self.bot.clock.now()
        async with self.bot.reading() as session:
            entries = await appeals.appealable_entries(
                session, guild_id=interaction.guild.id, user_id=interaction.user.id, limit=SUGGESTED_ENTRIES
            )
        return choices(
            (
                (
                    (
                        f"#{line.entry_id} {fmt.signed(line.delta)} {fmt.DIMENSION_NAMES[line.dimension]}: "
                        f"{line.reason} ({fmt.ago(line.created_at, now)})"
                    ),
                    line.entry_id,
                )
                for line in entries
            ),
            current.lstrip("#"),
        )
