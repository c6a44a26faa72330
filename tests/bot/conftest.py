"""The bot under SimCord: real discord.py against a simulated Discord, on a temporary database.

The game's clock is the simulator's, so ``env.advance_time`` moves the game's time too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import simcord

from bot.app import create_bot
from bot.client import CitizenBot
from bot.settings import Settings
from game.clock import Clock


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
