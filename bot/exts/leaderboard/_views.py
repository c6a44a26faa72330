from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.utils import formatting as fmt
from bot.utils.embeds import GAME_COLOUR
from bot.utils.views import OwnedView
from game.services import queries
from game.services.queries import LeaderboardOrder, LeaderboardPage

if TYPE_CHECKING:
    from bot.client import CitizenBot


def leaderboard_embed(
    page: LeaderboardPage, *, title: str, viewer_id: int | None = None, note: str | None = None
) -> discord.Embed:
    """One page: rank, name, score and tier on each line; the viewer's own line marked."""
    lines = []
    for row in page.rows:
        name = discord.utils.escape_markdown(fmt.truncate(row.display_name, 32))
        line = f"`#{row.rank:>3}` **{fmt.number(row.score)}** {name} \N{MIDDLE DOT} {row.tier_name}"
        if row.user_id == viewer_id:
            line = f"{line} \N{LEFTWARDS ARROW} you"
        lines.append(line)
    if not lines:
        lines.append("No citizens yet. Be the first: `/join`.")
    if note:
        lines = [f"*{note}*", "", *lines]
    embed = discord.Embed(title=title, description="\n".join(lines), colour=GAME_COLOUR)
    citizens = fmt.plural(page.total_citizens, "citizen")
    embed.set_footer(text=f"Page {page.page} of {page.total_pages} \N{MIDDLE DOT} {citizens}")
    return embed


class LeaderboardView(OwnedView):
    """Previous / Next for the member who asked; the page travels with the view as keyset cursors."""

    def __init__(self, bot: CitizenBot, *, owner_id: int, page: LeaderboardPage, title: str) -> None:
        super().__init__(
            owner_id=owner_id,
            refusal="These buttons belong to whoever asked for this board; run /leaderboard for your own.",
        )
        self.bot = bot
        self.page = page
        self.title = title
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        self.previous.disabled = self.page.prev_cursor is None
        self.next.disabled = self.page.next_cursor is None

    async def _show(self, interaction: discord.Interaction[Any], page: LeaderboardPage) -> None:
        self.page = page
        self._refresh_buttons()
        embed = leaderboard_embed(page, title=self.title, viewer_id=self.owner_id)
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(
        label="Previous", emoji="\N{BLACK LEFT-POINTING TRIANGLE}", style=discord.ButtonStyle.secondary
    )
    async def previous(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        cursor = self.page.prev_cursor
        async with self.bot.reading() as session:
            if cursor is None:
                page = await queries.leaderboard_after(
                    session, season_id=self.page.season_id, order=self.page.order
                )
            else:
                page = await queries.leaderboard_before(
                    session, season_id=self.page.season_id, order=self.page.order, before=cursor
                )
        await self._show(interaction, page)

    @discord.ui.button(
        label="Next", emoji="\N{BLACK RIGHT-POINTING TRIANGLE}", style=discord.ButtonStyle.secondary
    )
    async def next(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        async with self.bot.reading() as session:
            page = await queries.leaderboard_after(
                session, season_id=self.page.season_id, order=self.page.order, after=self.page.next_cursor
            )
        if not page.rows:
            # Citizens left since this page was shown: stay put rather than show an empty page.
            async with self.bot.reading() as session:
                page = await queries.leaderboard_after(
                    session, season_id=self.page.season_id, order=self.page.order
                )
        await self._show(interaction, page)


def order_title(order: LeaderboardOrder, season_number: int, *, final: bool) -> str:
    where = "Top" if order is LeaderboardOrder.TOP else "Bottom"
    if final:
        return f"\N{TROPHY} Season {season_number} final standings: {where.lower()}"
    return f"\N{TROPHY} {where} citizens, season {season_number}"
