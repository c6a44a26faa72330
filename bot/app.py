"""The one place that builds the bot: settings in, a ready ``CitizenBot`` out."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.client import CitizenBot
from bot.network import use_discord_endpoints
from bot.settings import Settings
from game.clock import Clock, SystemClock
from game.db import create_engine


def create_bot(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate_on_start: bool = True,
    sync_commands: bool = True,
) -> CitizenBot:
    use_discord_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    engine = create_engine(settings.database_url)
    scheduler = AsyncIOScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    )
    return CitizenBot(
        settings=settings,
        engine=engine,
        clock=clock or SystemClock(),
        scheduler=scheduler,
        migrate_on_start=migrate_on_start,
        sync_commands=sync_commands,
    )
