from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import GameView, reply_ephemeral
from bot.utils.embeds import bureau_embed
from bot.utils.guild import guild_of

if TYPE_CHECKING:
    from bot.exts.seasons._cog import Seasons


class ConfirmEnd(GameView):
    """ "End the season now?": only the moderator who asked can answer, within two minutes."""

    def __init__(self, cog: Seasons, *, owner_id: int, season_number: int) -> None:
        super().__init__(timeout=120)
        self.cog = cog
        self.owner_id = owner_id
        self.season_number = season_number
        self.interaction: discord.Interaction[Any] | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await reply_ephemeral(interaction, "Only the moderator who asked can confirm this.")
        return False

    def _finish(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        self.stop()

    @discord.ui.button(label="End the season", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        self._finish()
        await interaction.response.defer()
        ended = await self.cog.end_now(guild_of(interaction))
        if ended is None:
            text = "The season had already ended; its standings are on their way."
        else:
            text = (
                f"Season {ended.number} is over. The final standings go to the announcements channel "
                "and the debrief to the moderators' channel."
            )
        await interaction.edit_original_response(
            embed=bureau_embed(f"Season {self.season_number} ended", text), view=self
        )

    @discord.ui.button(label="Keep playing", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        self._finish()
        await interaction.response.edit_message(
            embed=bureau_embed("Nothing changed", f"Season {self.season_number} goes on."), view=self
        )

    async def on_timeout(self) -> None:
        self._finish()
        if self.interaction is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.edit_original_response(
                    embed=bureau_embed("Nothing changed", f"Season {self.season_number} goes on."), view=self
                )
