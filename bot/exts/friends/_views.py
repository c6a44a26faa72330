"""The Accept / Decline buttons on a friend request.

They must work after a restart, for a request made days ago, so they are persistent: each button's
custom_id carries the request and both members (``friend:accept:<request>:<asker>:<asked>``), and
the class is registered once with ``bot.add_dynamic_items`` when the cog loads. discord.py then
rebuilds the button from the custom_id of whatever message is clicked; no per-message state is kept.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.errors import handle_interaction_error, reply_ephemeral
from game.services import friends

if TYPE_CHECKING:
    from bot.client import CitizenBot

TEMPLATE = r"friend:(?P<action>accept|decline):(?P<request>[0-9]+):(?P<asker>[0-9]+):(?P<asked>[0-9]+)"


class FriendAnswer(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    def __init__(self, *, action: str, request_id: int, asker_id: int, asked_id: int) -> None:
        accept = action == "accept"
        super().__init__(
            discord.ui.Button(
                label="Accept" if accept else "Decline",
                style=discord.ButtonStyle.success if accept else discord.ButtonStyle.secondary,
                custom_id=f"friend:{action}:{request_id}:{asker_id}:{asked_id}",
            )
        )
        self.action = action
        self.request_id = request_id
        self.asker_id = asker_id
        self.asked_id = asked_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FriendAnswer:
        return cls(
            action=match["action"],
            request_id=int(match["request"]),
            asker_id=int(match["asker"]),
            asked_id=int(match["asked"]),
        )

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.user.id == self.asked_id:
            return True
        if interaction.user.id == self.asker_id:
            text = "You sent this request; the other member answers it. /friend list shows what is pending."
        else:
            text = "This friend request is not addressed to you; /friend add sends one of your own."
        await reply_ephemeral(interaction, text)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Dynamic items bypass View.on_error: send failures through the one handler ourselves.
        try:
            await self._answer(interaction)
        except Exception as error:  # noqa: BLE001 - handed to the error handler, which logs what it does not expect
            await handle_interaction_error(interaction, error)

    async def _answer(self, interaction: discord.Interaction[Any]) -> None:
        bot = cast("CitizenBot", interaction.client)
        if interaction.guild is None:
            return
        now = bot.clock.now()
        async with bot.transaction() as session:
            if self.action == "accept":
                await friends.accept_friend(
                    session,
                    guild_id=interaction.guild.id,
                    user_id=self.asked_id,
                    from_user_id=self.asker_id,
                    now=now,
                )
            else:
                await friends.decline_friend(
                    session,
                    guild_id=interaction.guild.id,
                    user_id=self.asked_id,
                    from_user_id=self.asker_id,
                    now=now,
                )
        if self.action == "accept":
            text = f"\N{HANDSHAKE} <@{self.asker_id}> and <@{self.asked_id}> are friends now."
        else:
            text = f"<@{self.asked_id}> declined <@{self.asker_id}>'s friend request."
        # An edit never pings; the buttons go, so the request cannot be answered twice.
        await interaction.response.edit_message(content=text, view=None)


def request_view(*, request_id: int, asker_id: int, asked_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in ("accept", "decline"):
        view.add_item(
            FriendAnswer(action=action, request_id=request_id, asker_id=asker_id, asked_id=asked_id)
        )
    return view
