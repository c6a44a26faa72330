"""The bot under SimCord: real discord.py against a simulated Discord, on a temporary database.

The game's clock is the simulator's, so ``env.advance_time`` moves the game's time too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import simcord

from bot.app import create_bot
from bot.client import CitizenBot
from bot.settings import Settings
from game.clock import Clock
from game.services import seasons
from game.services.seasons import SeasonView


class SimulatorClock:
    """Reads the simulator's clock once the simulator is running."""

    def __init__(self) -> None:
        self.env: simcord.Env | None = None

    def now(self) -> datetime:
        assert self.env is not None, "the simulator is not running yet"
        return self.env.now()


def build_test_bot(database_url: str, clock: Clock) -> CitizenBot:
    settings = Settings(discord_token=None, database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    return create_bot(settings, clock=clock)


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[simcord.Env]:
    clock = SimulatorClock()
    bot = build_test_bot(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", clock)
    env = simcord.Env(bot)
    clock.env = env
    await env.start()
    try:
        yield env
    finally:
        await env.shutdown()


async def start_test_season(
    env: simcord.Env,
    guild: simcord.GuildHandle,
    *,
    scenario: str = "classic",
    duration: timedelta | None = None,
    audit_every: timedelta | None = None,
) -> SeasonView:
    """Start a season in ``guild`` the way ``/season start`` would, without going through the command
    (for tests of the citizens' side). The season's clock is the simulator's."""
    bot: CitizenBot = env.bot  # type: ignore[assignment]
    async with bot.transaction() as session:
        season = await seasons.start_season(
            session,
            guild_id=guild.id,
            scenario_key=scenario,
            now=bot.clock.now(),
            duration=duration,
            audit_every=audit_every,
        )
    bot.game_state_changed(guild.id)
    return season
