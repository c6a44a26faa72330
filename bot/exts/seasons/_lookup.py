"""Look-ups the Bureau's commands share: the guild's current scenario, scenario autocomplete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from sqlmodel import col, select

from game.models import Season, SeasonStatus
from game.scenario import Scenario, available_scenarios, restore_scenario

if TYPE_CHECKING:
    from bot.client import CitizenBot


async def current_scenario(bot: CitizenBot, guild_id: int) -> Scenario | None:
    """The rules of the guild's season that is not over (running or paused), or ``None``."""
    async with bot.transaction() as session:
        season = (
            await session.exec(
                select(Season).where(Season.guild_id == guild_id, col(Season.status) != SeasonStatus.ENDED)
            )
        ).first()
    if season is None:
        return None
    return restore_scenario(season.rules, source=f"season {season.number}")


async def scenario_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    typed = current.strip().lower()
    return [
        app_commands.Choice(name=f"{summary.name} ({summary.key})"[:100], value=summary.key)
        for summary in available_scenarios()
        if typed in summary.key or typed in summary.name.lower()
    ][:25]
