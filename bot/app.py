"""The one place that builds the bot: settings in, a ready ``CitizenBot`` out."""

from __future__ import annotations

from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.client import CitizenBot, default_instance_name
from bot.network import use_discord_endpoints
from bot.settings import Settings
from game.clock import Clock, SystemClock
from game.db import create_engine, transaction
from game.scheduling import SeasonScheduler
from game.services import citizens
from game.services.recorder import Enrol, MessageRecorder


def mandatory_enrolment(engine: AsyncEngine) -> Enrol:
    """What the recorder calls for a member who speaks in a game channel without being a citizen:
    enrol them when the season's enrolment is mandatory (off the message path, in its own transaction)."""

    async def enrol(guild_id: int, user_id: int, display_name: str | None, now: datetime) -> int | None:
        async with transaction(engine) as session:
            citizen = await citizens.enrol_if_mandatory(
                session, guild_id=guild_id, user_id=user_id, display_name=display_name, now=now
            )
        return citizen.id if citizen else None

    return enrol


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
    clock = clock or SystemClock()
    instance_name = default_instance_name(settings)
    recorder = MessageRecorder(engine, enrol=mandatory_enrolment(engine))
    season_scheduler = SeasonScheduler(engine, clock, scheduler, claimed_by=instance_name, recorder=recorder)
    return CitizenBot(
        settings=settings,
        engine=engine,
        clock=clock,
        scheduler=scheduler,
        migrate_on_start=migrate_on_start,
        sync_commands=sync_commands,
        recorder=recorder,
        season_scheduler=season_scheduler,
        instance_name=instance_name,
    )
