from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitizenBot
from bot.utils import formatting as fmt
from bot.utils.embeds import GAME_COLOUR
from bot.utils.guild import guild_of
from game.errors import GameError
from game.services import decrees, permits, seasons


class Permits(commands.Cog):
    permit = app_commands.Group(
        name="permit", description="Permits to speak on topics that need one.", guild_only=True
    )

    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    @permit.command(name="request", description="Ask the Bureau for a permit to speak on a topic.")
    @app_commands.describe(topic="The topic you want to speak on", reason="Why the Bureau should allow it")
    async def request(
        self,
        interaction: discord.Interaction[Any],
        topic: app_commands.Range[str, 1, 100],
        reason: app_commands.Range[str, 1, permits.MAX_PERMIT_REASON],
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            permit = await permits.request_permit(
                session,
                guild_id=guild.id,
                user_id=interaction.user.id,
                topic=topic,
                reason=reason,
                now=self.bot.clock.now(),
            )
            scenario = await seasons.season_rules(session, guild_id=guild.id)
        self.bot.courier.wake()  # the request goes to the moderators' channel now, not at the next tick
        embed = discord.Embed(
            title=f"\N{SCROLL} Permit requested: {fmt.truncate(permit.topic_name, 200)}",
            description=(
                "Your request is with the Bureau. Once approved, the permit lasts "
                f"{fmt.duration(scenario.permits.default_duration)} and shows on your `/score` card; "
                "until then, speaking on this topic still costs you."
            ),
            colour=GAME_COLOUR,
        )
        embed.add_field(
            name="Your reason", value=fmt.truncate(discord.utils.escape_markdown(permit.reason), 1024)
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @request.autocomplete("topic")
    async def _topics(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild is None:
            return []
        try:
            async with self.bot.reading() as session:
                scenario = await decrees.rules_in_force(session, guild_id=interaction.guild.id)
        except GameError:
            return []
        typed = current.strip().casefold()
        return [
            app_commands.Choice(name=fmt.truncate(f"{topic.name} ({topic.key})", 100), value=topic.key)
            for topic in scenario.speech.permit_required
            if typed in topic.key or typed in topic.name.casefold()
        ][:25]
