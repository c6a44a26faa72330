"""Permit and appeal cards with Approve/Deny buttons that survive restarts.

A card's buttons carry the request's id in their ``custom_id`` (``bureau:permit:approve:12``) and are
:class:`discord.ui.DynamicItem` s registered once with the bot, so a click on a card posted before a
restart still reaches the right request. Every click is checked by the bot (moderators only) and the
decision itself is one conditional UPDATE in the service: a second click, by anyone, is refused politely.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.checks import is_moderator
from bot.errors import NotModerator, handle_interaction_error, reply_ephemeral
from bot.refusals import refusal_text
from bot.utils import formatting as fmt
from bot.utils.embeds import BUREAU_COLOUR, FIELD_LIMIT
from game.errors import Conflict, NotAllowed, NotFound
from game.payloads import AppealRequest, PermitRequest
from game.services import appeals, permits

if TYPE_CHECKING:
    from bot.client import CitizenBot

log = logging.getLogger(__name__)

APPROVED_COLOUR = discord.Colour.from_rgb(46, 160, 67)
DENIED_COLOUR = discord.Colour.from_rgb(110, 110, 110)

_LABELS = {
    ("permit", "approve"): "Approve",
    ("permit", "deny"): "Deny",
    ("appeal", "approve"): "Grant",
    ("appeal", "deny"): "Deny",
}


def permit_card(request: PermitRequest) -> discord.Embed:
    """A permit request, as its outbox row or ``/permits`` shows it."""
    embed = discord.Embed(
        title=f"\N{PASSPORT CONTROL} Permit request #{request.permit_id}",
        description=(
            f"<@{request.user_id}> (citizen #{request.citizen_number}) asks to speak on "
            f"**{fmt.escape(fmt.truncate(request.topic_name or request.topic, 100))}**."
        ),
        colour=BUREAU_COLOUR,
    )
    embed.add_field(
        name="Reason",
        value=fmt.truncate(fmt.escape(request.reason) or "none given", FIELD_LIMIT),
        inline=False,
    )
    return embed


def appeal_card(request: AppealRequest) -> discord.Embed:
    """An appeal, as its outbox row or ``/appeals`` shows it."""
    dimension = fmt.dimension_label(request.entry_dimension)
    embed = discord.Embed(
        title=f"\N{SCALES} Appeal #{request.appeal_id}",
        description=(
            f"<@{request.user_id}> (citizen #{request.citizen_number}) contests ledger entry "
            f"#{request.entry_id}: **{fmt.signed(request.entry_delta)}** {dimension}\n"
            f"> {fmt.escape(fmt.truncate(request.entry_reason, 300))}"
        ),
        colour=BUREAU_COLOUR,
    )
    embed.add_field(
        name="Their case",
        value=fmt.truncate(fmt.escape(request.reason) or "none given", FIELD_LIMIT),
        inline=False,
    )
    return embed


def decision_view(kind: str, item_id: int) -> discord.ui.View:
    """The Approve/Deny (Grant/Deny) buttons of one card; persistent (no timeout)."""
    view = discord.ui.View(timeout=None)
    view.add_item(DecisionButton(kind, "approve", item_id))
    view.add_item(DecisionButton(kind, "deny", item_id))
    return view


class DecisionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"bureau:(?P<kind>permit|appeal):(?P<action>approve|deny):(?P<id>[0-9]{1,19})",
):
    def __init__(self, kind: str, action: str, item_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=_LABELS[(kind, action)],
                style=discord.ButtonStyle.success if action == "approve" else discord.ButtonStyle.danger,
                custom_id=f"bureau:{kind}:{action}:{item_id}",
            )
        )
        self.kind = kind
        self.action = action
        self.item_id = item_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DecisionButton:
        return cls(match["kind"], match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self._decide(interaction)
        except Exception as error:  # noqa: BLE001 (the one handler logs what is not a game error)
            await handle_interaction_error(interaction, error)

    async def _decide(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.guild is None or not await is_moderator(interaction):
            raise NotModerator
        bot: CitizenBot = interaction.client
        now = bot.clock.now()
        try:
            if self.kind == "permit":
                outcome = await self._decide_permit(bot, interaction.guild.id, interaction.user.id, now)
            else:
                outcome = await self._decide_appeal(bot, interaction.guild.id, interaction.user.id, now)
        except (Conflict, NotFound, NotAllowed) as error:
            # Already decided (perhaps by another moderator a moment ago), withdrawn, or the season is over:
            # say so privately, and take the buttons off the card so nobody tries again.
            await reply_ephemeral(interaction, refusal_text(error))
            await self._close_card(interaction, None)
            return
        bot.courier.wake()
        await self._close_card(interaction, outcome)

    async def _decide_permit(self, bot: CitizenBot, guild_id: int, moderator_id: int, now: datetime) -> str:
        async with bot.transaction() as session:
            if self.action == "approve":
                permit = await permits.approve_permit(
                    session, guild_id=guild_id, permit_id=self.item_id, moderator_id=moderator_id, now=now
                )
            else:
                permit = await permits.deny_permit(
                    session, guild_id=guild_id, permit_id=self.item_id, moderator_id=moderator_id, now=now
                )
        if self.action == "approve":
            expiry = f", until {discord.utils.format_dt(permit.expires_at, 'f')}" if permit.expires_at else ""
            return f"\N{WHITE HEAVY CHECK MARK} Approved by <@{moderator_id}>{expiry}."
        return f"\N{NO ENTRY SIGN} Denied by <@{moderator_id}>."

    async def _decide_appeal(self, bot: CitizenBot, guild_id: int, moderator_id: int, now: datetime) -> str:
        async with bot.transaction() as session:
            if self.action == "approve":
                decision = await appeals.grant_appeal(
                    session, guild_id=guild_id, appeal_id=self.item_id, moderator_id=moderator_id, now=now
                )
            else:
                decision = await appeals.deny_appeal(
                    session, guild_id=guild_id, appeal_id=self.item_id, moderator_id=moderator_id, now=now
                )
        reversal = decision.reversal
        if reversal is not None:
            return (
                f"\N{WHITE HEAVY CHECK MARK} Granted by <@{moderator_id}>: entry reversed, "
                f"{fmt.signed(reversal.delta)} → score {fmt.number(reversal.score_after)}."
            )
        return f"\N{NO ENTRY SIGN} Denied by <@{moderator_id}>: the entry stands."

    async def _close_card(self, interaction: discord.Interaction[Any], outcome: str | None) -> None:
        message = interaction.message
        embeds = [embed.copy() for embed in message.embeds] if message else []
        if embeds and outcome is not None:
            embeds[0].add_field(name="Decision", value=outcome, inline=False)
            embeds[0].colour = APPROVED_COLOUR if self.action == "approve" else DENIED_COLOUR
        try:
            if interaction.response.is_done():
                if message is not None:
                    await interaction.followup.edit_message(message.id, embeds=embeds, view=None)
            else:
                await interaction.response.edit_message(embeds=embeds, view=None)
        except discord.HTTPException as error:
            log.warning("could not update the card of %s %s: %s", self.kind, self.item_id, error)
