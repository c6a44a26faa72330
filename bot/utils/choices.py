"""Autocomplete: the one way the bot filters and labels suggestions, and the season look-ups they use.

A suggestion is shown when what the member typed appears, in any letter case, in its label or in one
of its other names (an item's key, a topic's key). At most 25 (Discord's limit), labels cut to 100.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.utils.formatting import truncate
from game.errors import NoActiveSeason, ScenarioError
from game.scenario import Scenario, available_scenarios
from game.services import seasons

if TYPE_CHECKING:
    from bot.client import CitizenBot

__all__ = [
    "MAX_CHOICES",
    "choices",
    "current_scenario",
    "scenario_choices",
    "season_item_choices",
    "season_topic_choices",
]

MAX_CHOICES = 25
LABEL_LIMIT = 100

V = TypeVar("V", str, int, float)


def choices(options: Iterable[tuple[str, V, *tuple[str, ...]]], current: str) -> list[app_commands.Choice[V]]:
    """``(label, value, *other names)`` narrowed to what ``current`` matches, as Discord choices."""
    typed = current.strip().casefold()
    found: list[app_commands.Choice[V]] = []
    for label, value, *others in options:
        if typed and not any(typed in text.casefold() for text in (label, *others)):
            continue
        found.append(app_commands.Choice(name=truncate(label, LABEL_LIMIT), value=value))
        if len(found) == MAX_CHOICES:
            break
    return found


async def current_scenario(bot: CitizenBot, guild_id: int) -> Scenario | None:
    """The rules of the guild's season that is not over (running or paused), or ``None``."""
    async with bot.reading() as session:
        try:
            return await seasons.season_rules(session, guild_id=guild_id)
        except NoActiveSeason:
            return None


async def scenario_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The shipped scenario packs."""
    try:
        summaries = available_scenarios()
    except ScenarioError:
        return []
    return choices(((f"{s.name} ({s.key})", s.key) for s in summaries), current)


async def season_topic_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The running season's speech topics."""
    if interaction.guild is None:
        return []
    scenario = await current_scenario(interaction.client, interaction.guild.id)
    if scenario is None:
        return []
    return choices(
        ((f"{rule.name} ({rule.key})", rule.key) for _, _, rule in scenario.speech.topics()), current
    )


async def season_item_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The running season's catalogue."""
    if interaction.guild is None:
        return []
    scenario = await current_scenario(interaction.client, interaction.guild.id)
    if scenario is None:
        return []
    return choices(((f"{item.name} ({item.key})", item.key) for item in scenario.catalogue), current)
