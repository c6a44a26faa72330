from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitizenBot


class Meta(commands.Cog):
    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    @app_commands.command(name="ping", description="Is the Bureau listening?")
    async def ping(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("The Bureau is listening.", ephemeral=True)
