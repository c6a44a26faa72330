from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.utils import formatting as fmt
from bot.utils.views import OwnedView
from game.services import privacy

if TYPE_CHECKING:
    from bot.client import CitizenBot


class ConfirmLeave(OwnedView):
    """``/leave`` asks once more before it deletes everything; only the member who asked may answer."""

    def __init__(self, bot: CitizenBot, *, owner_id: int, guild_id: int) -> None:
        super().__init__(owner_id=owner_id, refusal="Only the citizen who asked to leave can confirm it.")
        self.bot = bot
        self.guild_id = guild_id

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        self.stop()
        async with self.bot.transaction() as session:
            result = await privacy.leave(
                session, guild_id=self.guild_id, user_id=self.owner_id, now=self.bot.clock.now()
            )
        self.bot.game_state_changed(self.guild_id)
        self.bot.courier.wake()  # the tier role, if any, is taken away by the outbox
        embed = discord.Embed(
            title="You have left the game",
            description=(
                f"Deleted {fmt.plural(result.seasons, 'citizen record')} and "
                f"{fmt.plural(result.ledger_entries, 'ledger entry', 'ledger entries')}, "
                "with your purchases, friendships, permits and appeals. "
                "Other citizens' entries no longer name you.\n"
                "You can `/join` again at any time, from a fresh start."
            ),
            colour=discord.Colour.dark_grey(),
        )
        await interaction.response.edit_message(content=None, embed=embed, view=None)

    @discord.ui.button(label="Keep me", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Nothing was deleted. The Bureau is glad you stay.", embed=None, view=None
        )
