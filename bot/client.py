"""The bot: one ``commands.Bot`` subclass, given everything it needs by whoever builds it."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import pkgutil
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

import bot.exts
from bot.courier import Courier
from bot.errors import GameCommandTree
from bot.settings import Settings
from bot.utils.web import serve_pages
from game import migrations
from game.clock import Clock
from game.db import reading, transaction
from game.models import GuildSettings
from game.scheduling import SeasonScheduler
from game.services.audits import AuditResult
from game.services.recorder import MessageRecorder

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """Guilds, members, messages and message content: the audit reads what citizens say."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.members = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


def default_instance_name(settings: Settings) -> str:
    """Names this process in audit and outbox claims (distinct per process unless configured)."""
    return settings.instance_name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def discover_extensions() -> list[str]:
    """Every feature package under ``bot/exts/`` that defines ``setup``."""
    found = []
    for module in pkgutil.walk_packages(bot.exts.__path__, f"{bot.exts.__name__}."):
        if any(part.startswith("_") for part in module.name.split(".")):
            continue
        if hasattr(importlib.import_module(module.name), "setup"):
            found.append(module.name)
    return sorted(found)


class CitizenBot(commands.Bot):
    def __init__(
        self,
        *,
        settings: Settings,
        engine: AsyncEngine,
        clock: Clock,
        scheduler: AsyncIOScheduler,
        migrate_on_start: bool = True,
        sync_commands: bool = True,
        recorder: MessageRecorder | None = None,
        season_scheduler: SeasonScheduler | None = None,
        instance_name: str | None = None,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            tree_cls=GameCommandTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
        )
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.scheduler = scheduler
        self.migrate_on_start = migrate_on_start
        self.sync_commands = sync_commands
        self.instance_name = instance_name or default_instance_name(settings)
        self._on_close: list[Callable[[], Awaitable[None]]] = []
        self._on_game_state_change: list[Callable[[int], None]] = []
        # The game's moving parts: messages recorded, audits on schedule, the outbox delivered.
        self.recorder = recorder or MessageRecorder(engine)
        self.season_scheduler = season_scheduler or SeasonScheduler(
            engine, clock, scheduler, claimed_by=self.instance_name, recorder=self.recorder
        )
        self.season_scheduler.on_audit = self.after_audit
        self.courier = Courier(self)
        self.on_game_state_change(self.recorder.invalidate)
        self.on_close(self.recorder.aclose)
        self.on_close(self.courier.stop)

    async def after_audit(self, result: AuditResult) -> None:
        """What follows every audit, however it was started (the schedule, /audit, /season end):
        its bulletin and role changes go out now, and a season it ended stops being scheduled and
        recorded."""
        self.courier.wake()
        if result.season_ended:
            self.season_over(guild_id=result.guild_id, season_id=result.season_id)
        elif result.decrees_changed:
            # A decree may have made enrolment mandatory (or voluntary again): the recorder re-reads it.
            self.game_state_changed(result.guild_id)

    def season_over(self, *, guild_id: int, season_id: int) -> None:
        """A season has ended (by its last audit, here or in another process): stop its jobs and
        refresh what is recorded in its guild."""
        self.season_scheduler.unschedule_season(season_id)
        self.game_state_changed(guild_id)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One session and transaction for one command or job."""
        async with transaction(self.engine) as session:
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """One session and read-only transaction: on SQLite it never waits for a write in progress."""
        async with reading(self.engine) as session:
            yield session

    def on_close(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` when the bot shuts down (flush buffers, stop loops)."""
        self._on_close.append(callback)

    def on_game_state_change(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(guild_id)`` whenever enrolment, game channels or the season change."""
        self._on_game_state_change.append(callback)

    def game_state_changed(self, guild_id: int) -> None:
        """Commands that change who or what is recorded call this, so caches (the recorder's) refresh."""
        for callback in self._on_game_state_change:
            callback(guild_id)

    async def setup_hook(self) -> None:
        if self.migrate_on_start:
            await migrations.upgrade(self.engine)
        self.scheduler.start()
        # The listener and the loops in the extensions flush the recorder; audits flush it too.
        await self.recorder.start(background=False)
        await self.season_scheduler.start()
        for extension in discover_extensions():
            await self.load_extension(extension)
        log.info("Loaded %d extensions", len(self.extensions))
        self.courier.start()
        await serve_pages(self)
        if self.sync_commands:
            await self.sync_application_commands()

    async def sync_application_commands(self) -> None:
        guild_id = self.settings.dev_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("Synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("Synced %d global commands", len(synced))

    async def moderator_role_id(self, guild_id: int) -> int | None:
        async with self.reading() as session:
            settings = await session.get(GuildSettings, guild_id)
        return settings.moderator_role_id if settings else None

    async def on_ready(self) -> None:
        log.info("Logged in as %s in %d guilds", self.user, len(self.guilds))

    async def close(self) -> None:
        for callback in reversed(self._on_close):
            try:
                await callback()
            except Exception:
                log.exception("error while shutting down %s", callback)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await super().close()
        await self.engine.dispose()

    def spawn(self, coroutine: Awaitable[Any], *, name: str) -> asyncio.Task[Any]:
        """A background task whose failure is logged, never lost."""
        task = asyncio.ensure_future(coroutine)
        task.set_name(name)

        def report(done: asyncio.Task[Any]) -> None:
            if not done.cancelled() and done.exception() is not None:
                log.error("background task %s failed", name, exc_info=done.exception())

        task.add_done_callback(report)
        return task
