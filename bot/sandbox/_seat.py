"""The preview's own command, which only the sandbox adds to the bot: open another channel in the page.

SimCord's page shows one channel at a time. ``/preview channel`` asks the sandbox to show another one
the member may see; the sandbox reopens the preview there, at the same address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.sandbox._run import SandboxResult

if TYPE_CHECKING:
    from bot.sandbox._preview import Seat

# How many of the final standings the Warden posts in the square at the season's end.
FINAL_ROWS = 10


class SeatCog(commands.Cog, name="Preview"):
    """``/preview channel``: the sandbox's preview only, never part of the bot on a real server."""

    preview = app_commands.Group(name="preview", description="The sandbox's preview: what the page shows.")

    def __init__(self, seat: Seat) -> None:
        self.seat = seat

    @preview.command(name="channel", description="Show another channel of this server in the page.")
    @app_commands.describe(channel="The channel to show (#announcements, #brag, #bureau, ...)")
    async def channel(self, interaction: discord.Interaction[Any], channel: discord.TextChannel) -> None:
        member = interaction.user
        if not isinstance(member, discord.Member) or not channel.permissions_for(member).read_messages:
            await interaction.response.send_message(
                f"{member.display_name} cannot see {channel.mention}: choose a viewer who can "
                "(the Warden sees the Bureau's channel).",
                ephemeral=True,
            )
            return
        handle = next((c for c in self.seat.world.channels() if c.id == channel.id), None)
        if handle is None:
            await interaction.response.send_message(
                "That channel is not part of the sandbox.", ephemeral=True
            )
            return
        self.seat.ask(handle)
        await interaction.response.send_message(
            f"Opening {channel.mention}: reload the page in a moment (the address stays the same).",
            ephemeral=True,
        )


def final_standings_text(result: SandboxResult) -> str:
    """What the Warden posts in the square when the season is over, so the result stays in view."""
    tiers = {tier.key: tier.name for tier in result.scenario.tiers}
    rows = result.standings
    lines = [
        f"**The season is over.** Final standings ({len(rows)} citizens):",
        *(
            f"{row.rank}. {discord.utils.escape_markdown(row.name)}: {row.score} "
            f"({tiers.get(row.tier_key, row.tier_key)})"
            for row in rows[:FINAL_ROWS]
        ),
    ]
    if len(rows) > FINAL_ROWS:
        lines.append(f"... and {len(rows) - FINAL_ROWS} more in the debrief.")
    lines.append(
        "The debrief is in #bureau (`/preview channel` as the Warden). To play again, the Warden can "
        "start a new season with `/season start`; everyone then runs `/join`."
    )
    return "\n".join(lines)
