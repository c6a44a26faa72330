from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import formatting as fmt
from bot.bureau import guild_of
from bot.client import CitizenBot
from bot.embeds import GAME_COLOUR
from game.errors import GameError
from game.models import SourceKind
from game.services import appeals, citizens, queries

# How far back the suggestions look, newest first.
SUGGESTED_ENTRIES = 100
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
        """The member's own recent penalties that have no appeal yet, newest first."""
        if interaction.guild is None:
            return []
        guild_id, user_id = interaction.guild.id, interaction.user.id
        now = self.bot.clock.now()
        try:
            async with self.bot.transaction() as session:
                me = await citizens.get_citizen(session, guild_id=guild_id, user_id=user_id)
                if me is None:
                    return []
                entries = await queries.latest_entries(session, citizen_id=me.id, limit=SUGGESTED_ENTRIES)
                filed = await appeals.appeals_of(
                    session, guild_id=guild_id, user_id=user_id, limit=SUGGESTED_ENTRIES
                )
        except GameError:
            return []
        # Only a suggestion list: file_appeal decides what may be appealed and says why not.
        appealed = {appeal.entry_id for appeal in filed}
        typed = current.strip().lstrip("#").casefold()
        choices = []
        for line in entries:
            if line.delta >= 0 or line.source_kind is SourceKind.APPEAL or line.entry_id in appealed:
                continue
            label = (
                f"#{line.entry_id} {fmt.signed(line.delta)} {fmt.DIMENSION_NAMES[line.dimension]}: "
                f"{line.reason} ({fmt.ago(line.created_at, now)})"
            )
            if typed and typed not in label.casefold():
                continue
            choices.append(app_commands.Choice(name=fmt.truncate(label, 100), value=line.entry_id))
        return choices[:25]
