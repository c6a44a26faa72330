from __future__ import annotations

import logging

import discord
from discord.ext import commands, tasks

from bot.client import CitizenBot

log = logging.getLogger(__name__)

# How often buffered messages are checked for writing (the recorder writes those older than its
# flush interval, and a full batch at once); audits flush it themselves before scoring.
FLUSH_EVERY_S = 5.0


class Recording(commands.Cog):
    """Feeds the recorder. Never blocks the event loop: ``record`` is a dictionary look-up and an
    append; writing happens in batches, off the message path."""

    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot
        self._ticks_since_refresh = 0
        self.flush_loop.start()

    async def cog_unload(self) -> None:
        self.flush_loop.cancel()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        guild = message.guild
        # Only participants are ever recorded: no bots, webhooks, system messages or direct messages.
        if guild is None or message.author.bot or message.webhook_id is not None:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        if not message.content:
            return
        self.bot.recorder.record(
            guild.id,
            message.channel.id,
            message.author.id,
            message.id,
            message.content,
            message.created_at,
            display_name=message.author.display_name,
        )

    @tasks.loop(seconds=FLUSH_EVERY_S)
    async def flush_loop(self) -> None:
        recorder = self.bot.recorder
        try:
            await recorder.flush_due()
            self._ticks_since_refresh += 1
            if self._ticks_since_refresh * FLUSH_EVERY_S >= recorder.refresh_interval:
                self._ticks_since_refresh = 0
                await recorder.refresh()
        except Exception:
            # The rows stay buffered; the next tick retries. The loop must not die.
            log.exception("recorder flush failed")
