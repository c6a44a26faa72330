"""Views the citizens' commands share: buttons that belong to one member.

A button clicked by anyone else gets a polite private refusal, and nothing happens. Every view derives
from :class:`bot.errors.GameView`, so an error in a button goes through the one error handler.
"""

from __future__ import annotations

import contextlib
from typing import Any

import discord

from bot.errors import GameView, reply_ephemeral

__all__ = ["OwnedView", "disable_all"]


class OwnedView(GameView):
    """A view only ``owner_id`` may use; ``refusal`` is what anyone else is told."""

    def __init__(self, *, owner_id: int, refusal: str, timeout: float | None = 180) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.refusal = refusal
        self.message: discord.Message | discord.InteractionMessage | discord.WebhookMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await reply_ephemeral(interaction, self.refusal)
        return False

    async def on_timeout(self) -> None:
        # Grey the buttons out so nobody clicks a control that no longer answers.
        if self.message is None:
            return
        disable_all(self)
        # The message may be gone, or the interaction token expired: then there is nothing to grey out.
        with contextlib.suppress(discord.HTTPException):
            await self.message.edit(view=self)


def disable_all(view: discord.ui.View) -> None:
    for item in view.children:
        if isinstance(item, discord.ui.Button | discord.ui.Select):
            item.disabled = True
