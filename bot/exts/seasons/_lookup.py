"""Look-ups the Bureau's commands share: the guild's current scenario, scenario autocomplete."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
import sqlalchemy as sa
from discord import app_commands
from sqlalchemy.ext.asyncio import AsyncEngine

from game.errors import NoActiveSeason, ScenarioError
from game.models import Season, SeasonStatus
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


async def next_due(engine: AsyncEngine, *, season_ids: Iterable[int]) -> datetime | None:
    """The earliest ``next_audit_at`` or ``ends_at`` among these running seasons (``None``: none run).

    Only tells the heartbeat when to look again; whether an audit is due is decided by the audit
    service itself. (Belongs with the SeasonScheduler; kept here until it offers one.)
    """
    ids = list(season_ids)
    if not ids:
        return None
    query = sa.select(sa.func.min(season_t.c.next_audit_at), sa.func.min(season_t.c.ends_at)).where(
        season_t.c.id.in_(ids), season_t.c.status == SeasonStatus.RUNNING.value
    )
    async with engine.connect() as connection:
        row = (await connection.execute(query)).one()
    # min() keeps the column's type, so both come back as aware UTC datetimes on either engine.
    return min((value for value in row if value is not None), default=None)
