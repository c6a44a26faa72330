from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.client import CitizenBot
from bot.exts.leaderboard._views import LeaderboardView, leaderboard_embed, order_title
from bot.utils.guild import guild_of
from bot.utils.web import link_button, page_link
from game.errors import InvalidInput, NoActiveSeason
from game.services import queries, seasons
from game.services.queries import LeaderboardOrder
from game.services.seasons import SeasonView

MAX_PAGE = 100_000


class Leaderboard(commands.Cog):
    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    @app_commands.command(name="leaderboard", description="The citizens with the best, or the worst, scores.")
    @app_commands.describe(
        order="The top of the board or the bottom", page="Which page of ten (1 is the first)"
    )
    @app_commands.guild_only()
    async def leaderboard(
        self,
        interaction: discord.Interaction[Any],
        order: Literal["top", "bottom"] = "top",
        page: app_commands.Range[int, 1, MAX_PAGE] = 1,
    ) -> None:
        guild = guild_of(interaction)
        wanted = LeaderboardOrder(order)
        note = None
        async with self.bot.reading() as session:
            season = await self._season(session, guild.id)
            try:
                shown = await queries.leaderboard_page(session, season_id=season.id, order=wanted, page=page)
            except InvalidInput:
                # A page past the end: show the last one and say so, rather than nothing at all.
                first = await queries.leaderboard_page(session, season_id=season.id, order=wanted, page=1)
                last = first.total_pages
                shown = await queries.leaderboard_page(session, season_id=season.id, order=wanted, page=last)
                pages = "There is only one page" if last == 1 else f"There are only {last} pages"
                note = f"{pages}; here is the last."
        title = order_title(wanted, season.number, final=not season.is_live)
        embed = leaderboard_embed(shown, title=title, viewer_id=interaction.user.id, note=note)
        view = LeaderboardView(self.bot, owner_id=interaction.user.id, page=shown, title=title)
        path = "" if season.is_live else f"/seasons/{season.number}"
        if url := await page_link(self.bot, guild.id, f"{path}?order={wanted.value}"):
            view.add_item(link_button(url))
        await interaction.response.send_message(embed=embed, view=view)
        view.message = await interaction.original_response()

    async def _season(self, session: AsyncSession, guild_id: int) -> SeasonView:
        """The running season, or else the last one played: past seasons stay readable."""
        season = await seasons.current_season(session, guild_id=guild_id)
        if season is None:
            past = await seasons.past_seasons(session, guild_id=guild_id, limit=1)
            if not past:
                raise NoActiveSeason()
            season = past[0]
        return season
