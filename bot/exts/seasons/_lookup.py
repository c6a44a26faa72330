"""Look-ups the Bureau's commands share: the guild's current scenario, scenario autocomplete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
import sqlalchemy as sa
from discord import app_commands

from game.errors import NoActiveSeason, ScenarioError
from game.models import Season
from game.scenario import Scenario, available_scenarios
from game.services import seasons

if TYPE_CHECKING:
    from bot.client import CitizenBot

season_t: sa.Table = Season.__table__  # type: ignore[attr-defined]


async def current_scenario(bot: CitizenBot, guild_id: int) -> Scenario | None:
    """The rules of the guild's season that is not over (running or paused), or ``None``."""
    async with bot.transaction() as session:
        try:
            return await seasons.season_rules(session, guild_id=guild_id)
        except NoActiveSeason:
            return None


async def scenario_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    typed = current.strip().lower()
    try:
        summaries = available_scenarios()
    except ScenarioError:
        return []
    return [
        app_commands.Choice(name=f"{summary.name} ({summary.key})"[:100], value=summary.key)
        for summary in summaries
        if typed in summary.key or typed in summary.name.lower()
    ][:25]


async def season_topic_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The running season's speech topics, for /rules autocomplete."""
    if interaction.guild is None:
        return []
    scenario = await current_scenario(interaction.client, interaction.guild.id)
    if scenario is None:
        return []
    typed = current.strip().lower()
    return [
        app_commands.Choice(name=f"{rule.name} ({rule.key})"[:100], value=rule.key)
        for _, _, rule in scenario.speech.topics()
        if typed in rule.key or typed in rule.name.lower()
    ][:25]


async def season_item_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The running season's catalogue, for /catalog autocomplete."""
    if interaction.guild is None:
        return []
    scenario = await current_scenario(interaction.client, interaction.guild.id)
    if scenario is None:
        return []
    typed = current.strip().lower()
    return [
        app_commands.Choice(name=f"{item.name} ({item.key})"[:100], value=item.key)
        for item in scenario.catalogue
        if typed in item.key or typed in item.name.lower()
    ][:25]
