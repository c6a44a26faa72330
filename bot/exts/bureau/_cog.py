from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.client import CitizenBot
from bot.exts.bureau._views import appeal_card, decision_view, permit_card
from bot.utils import formatting as fmt
from bot.utils.embeds import bureau_embed
from bot.utils.guild import guild_of
from game.errors import NoActiveSeason
from game.services import appeals, audits, ledger, permits, seasons

log = logging.getLogger(__name__)

# Cards shown at once by /permits and /appeals (each its own message, with its own buttons).
CARDS_AT_ONCE = 10


class Bureau(commands.Cog):
    """The Bureau's tools: audit now, adjust a score, decide permits and appeals."""

    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    # ------------------------------------------------------------------------------------------ audit

    @app_commands.command(name="audit", description="Audit the season now (its schedule is unchanged).")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def audit(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            season = await seasons.current_season(session, guild_id=guild.id)
        if season is None:
            raise NoActiveSeason()
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await audits.run_audit_now(
            self.bot.engine,
            season_id=season.id,
            now=self.bot.clock.now(),
            claimed_by=self.bot.instance_name,
            recorder=self.bot.recorder,
        )
        if result is None:
            await interaction.followup.send(
                embed=bureau_embed(
                    "An audit is already under way",
                    "Another audit of this season is running; its bulletin follows.",
                ),
                ephemeral=True,
            )
            return
        await self.bot.after_audit(result)
        embed = bureau_embed(
            f"Audit {result.number} done",
            f"{fmt.plural(result.messages_scored, 'message')} reviewed · "
            f"{fmt.plural(result.purchases_applied, 'purchase')} applied · "
            f"{fmt.plural(result.ledger_entries, 'ledger entry', 'ledger entries')} · "
            f"{fmt.plural(result.tier_changes, 'tier change')}",
        )
        embed.set_footer(text="The bulletin goes to the announcements channel.")
        if result.season_ended:
            embed.add_field(name="Season over", value="The deadline had passed: this was the last audit.")
        await interaction.followup.send(embed=embed, ephemeral=True)

    # ----------------------------------------------------------------------------------------- adjust

    @app_commands.command(name="adjust", description="Change a citizen's score by hand, with a reason.")
    @app_commands.describe(
        citizen="The citizen whose score changes",
        delta="Points to add (negative to take away); the score stays within the scenario's range",
        reason="Why, in a few words: it goes in the citizen's ledger",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def adjust(
        self, interaction: discord.Interaction[Any], citizen: discord.Member, delta: int, reason: str
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            change = await ledger.adjust_score(
                session,
                guild_id=guild.id,
                user_id=citizen.id,
                delta=delta,
                reason=reason,
                moderator_id=interaction.user.id,
                now=self.bot.clock.now(),
            )
            scenario = await seasons.season_rules(session, guild_id=guild.id)
        tier_names = {tier.key: tier.name for tier in scenario.tiers}
        if change.tier_changed:
            self.bot.courier.wake()
        embed = bureau_embed(
            f"{citizen.display_name}: {fmt.signed(change.delta)}",
            f"{citizen.mention}: {fmt.number(change.score_before)} → **{fmt.number(change.score_after)}**\n"
            f"> {change.reason}",
        )
        if change.clamped:
            embed.add_field(
                name="Clamped",
                value=f"You asked for {fmt.signed(change.requested)}; the score range let "
                f"{fmt.signed(change.delta)} through.",
                inline=False,
            )
        if change.tier_changed:
            embed.add_field(
                name="Tier",
                value=f"{tier_names.get(change.tier_before, change.tier_before)} → "
                f"**{tier_names.get(change.tier_after, change.tier_after)}**",
                inline=False,
            )
        embed.set_footer(text=f"Ledger entry #{change.entry_id} · {fmt.dimension_label(change.dimension)}")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # ------------------------------------------------------------------------------ permits, appeals

    @app_commands.command(name="permits", description="Permit requests waiting for the Bureau's decision.")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def permits_pending(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.reading() as session:
            waiting = await permits.pending_permits(session, guild_id=guild.id, limit=CARDS_AT_ONCE + 1)
        cards = [
            (permit_card(permit.as_request()), decision_view("permit", permit.id))
            for permit in waiting[:CARDS_AT_ONCE]
        ]
        await self._send_cards(interaction, cards, more=len(waiting) > CARDS_AT_ONCE, what="permit request")

    @app_commands.command(name="appeals", description="Appeals waiting for the Bureau's decision.")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def appeals_pending(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.reading() as session:
            waiting = await appeals.pending_appeals(session, guild_id=guild.id, limit=CARDS_AT_ONCE + 1)
        cards = [
            (appeal_card(appeal.as_request()), decision_view("appeal", appeal.id))
            for appeal in waiting[:CARDS_AT_ONCE]
        ]
        await self._send_cards(interaction, cards, more=len(waiting) > CARDS_AT_ONCE, what="appeal")

    async def _send_cards(
        self,
        interaction: discord.Interaction[Any],
        cards: Sequence[tuple[discord.Embed, discord.ui.View]],
        *,
        more: bool,
        what: str,
    ) -> None:
        if not cards:
            await interaction.response.send_message(
                embed=bureau_embed(f"No {what}s waiting", "The Bureau is up to date."), ephemeral=True
            )
            return
        header = f"{fmt.plural(len(cards), what)} waiting, oldest first."
        if more:
            header += f" Decide these to see more (at most {CARDS_AT_ONCE} at a time)."
        first_embed, first_view = cards[0]
        await interaction.response.send_message(header, embed=first_embed, view=first_view, ephemeral=True)
        for embed, view in cards[1:]:
            await interaction.followup.send(embed=embed, view=view, ephemeral=True)
