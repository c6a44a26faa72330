"""The courier: takes what the game wrote to the outbox and tells Discord, once.

The game writes an outbox row in the same transaction as what caused it (an audit's bulletin and tier
changes, a season's start and end, a permit request). The courier delivers rows in three steps, each
safe to repeat:

1. **Claim** a batch (``claim_undelivered``), so no other process or pass holds the same rows; a claim
   left by a crash expires and the row is offered again.
2. **Deliver.** A post carries a marker in its footer (``Bureau file 17``). Before posting, the courier
   looks for that marker among the channel's recent messages: a row whose post went out but whose
   ``mark_delivered`` never happened (crash, restart, lost database connection) is found there and not
   posted twice. Role changes are idempotent by construction (:mod:`.roles`).
3. **Mark** it delivered, or failed (offered again after a back-off, at most ``MAX_ATTEMPTS`` times).

A background loop runs a pass every minute; ``wake()`` runs one at once (after an audit, a request). A
Discord refusal (missing permission, role hierarchy) becomes one warning in the moderators' channel,
not a crash and not silence; the data in the database is untouched by delivery problems.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord.ext import tasks

from bot.courier.post import ChannelRole, DeliveryProblem, Post, Renderer
from bot.courier.posts import RENDERERS, WHAT
from bot.courier.roles import RoleKeeper
from bot.utils.embeds import warning_embed
from game.models import OutboxKind
from game.payloads import RoleSync
from game.services import guilds
from game.services.outbox import DEFAULT_CLAIM_TTL, OutboxItem, claim_undelivered, mark_delivered, mark_failed

if TYPE_CHECKING:
    from bot.client import CitizenBot

__all__ = ["MARKER_LOOKBACK", "WARNING_QUIET", "Courier"]

log = logging.getLogger(__name__)

# How far back the courier looks for a post it may already have made (a re-claimed row is retried
# within minutes, so its post, if any, is among the channel's latest messages).
MARKER_LOOKBACK = 50
# The same warning is not repeated to the moderators within this time.
WARNING_QUIET = timedelta(hours=1)


class Courier:
    """Delivers the outbox. One per bot; ``start`` in ``setup_hook``, ``stop`` on close."""

    def __init__(
        self,
        bot: CitizenBot,
        *,
        batch_size: int = 20,
        interval: timedelta = timedelta(seconds=60),
        claim_ttl: timedelta = DEFAULT_CLAIM_TTL,
        role_rate: float = 2.0,
        role_burst: int = 5,
    ) -> None:
        self.bot = bot
        self.batch_size = batch_size
        self.claim_ttl = claim_ttl
        self.roles = RoleKeeper(bot, rate=role_rate, burst=role_burst)
        self._lock = asyncio.Lock()
        self._again = False
        self._warned: dict[tuple[int, str], datetime] = {}
        # Cards with buttons (permit and appeal requests) are rendered by the Bureau's extension.
        self.renderers: dict[OutboxKind, Renderer] = dict(RENDERERS)
        self._loop = tasks.loop(seconds=interval.total_seconds())(self._tick)

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        if not self._loop.is_running():
            self._loop.start()

    async def stop(self) -> None:
        self._loop.cancel()

    def wake(self) -> None:
        """Deliver now (after an audit or a request) rather than at the next tick."""
        if self._lock.locked():
            self._again = True
            return
        self.bot.spawn(self.deliver_pending(), name="outbox delivery")

    async def _tick(self) -> None:
        await self.bot.wait_until_ready()
        try:
            await self.deliver_pending()
        except Exception:
            # The loop must survive a database hiccup; the rows stay claimable.
            log.exception("outbox delivery pass failed")

    # -- the pass -----------------------------------------------------------------------------------

    async def deliver_pending(self) -> int:
        """Claim and deliver until nothing is left; returns how many rows were delivered."""
        delivered = 0
        async with self._lock:
            while True:
                self._again = False
                items = await claim_undelivered(
                    self.bot.engine,
                    limit=self.batch_size,
                    claimed_by=self.bot.instance_name,
                    now=self.bot.clock.now(),
                    claim_ttl=self.claim_ttl,
                    guild_ids=[guild.id for guild in self.bot.guilds],
                )
                for item in items:
                    if await self._deliver_one(item):
                        delivered += 1
                if len(items) < self.batch_size and not self._again:
                    return delivered

    async def _deliver_one(self, item: OutboxItem) -> bool:
        try:
            await self._dispatch(item)
        except DeliveryProblem as problem:
            await self._fail(item, str(problem))
            await self.warn(item.guild_id, problem.key, str(problem))
            return False
        except discord.HTTPException as error:
            retry = getattr(error, "retry_after", None)
            await self._fail(
                item,
                f"Discord said {error.status}: {error.text}",
                timedelta(seconds=retry) if retry else None,
            )
            return False
        except Exception as error:
            log.exception("delivering outbox row %s (%s) failed", item.id, item.kind)
            await self._fail(item, f"{type(error).__name__}: {error}")
            return False
        await mark_delivered(self.bot.engine, ids=item.id, now=self.bot.clock.now())
        return True

    async def _fail(self, item: OutboxItem, error: str, retry_in: timedelta | None = None) -> None:
        await mark_failed(
            self.bot.engine,
            item_id=item.id,
            now=self.bot.clock.now(),
            error=error,
            claim_ttl=self.claim_ttl,
            retry_in=retry_in,
        )

    async def _dispatch(self, item: OutboxItem) -> None:
        guild = self.bot.get_guild(item.guild_id)
        if guild is None:
            raise DeliveryProblem("guild", f"I am no longer in guild {item.guild_id}.")
        if isinstance(item.payload, RoleSync):
            await self.roles.sync(guild, [item.payload.user_id])
            return
        renderer = self.renderers.get(item.kind)
        if renderer is None:
            log.warning("no renderer for outbox kind %s (row %s); skipping it", item.kind, item.id)
            return
        for channel_role, post in await renderer(self, item):
            await self.post_once(guild, channel_role, post, what=WHAT.get(item.kind, "a message"))
        if item.kind is OutboxKind.SEASON_END:
            # After the standings: nobody keeps a tier role once the season is over. A role the bot
            # may not manage is reported, and does not hold back the season's end.
            try:
                await self.roles.clear(guild)
            except DeliveryProblem as problem:
                await self.warn(guild.id, problem.key, str(problem))

    async def resync_guild(self, guild: discord.Guild) -> None:
        """Every citizen's tier role in line with the database; a refusal is reported once."""
        try:
            await self.roles.resync_guild(guild)
        except DeliveryProblem as problem:
            await self.warn(guild.id, problem.key, str(problem))

    # -- posting ------------------------------------------------------------------------------------

    async def channel_for(
        self, guild: discord.Guild, role: ChannelRole, *, what: str
    ) -> discord.TextChannel | discord.Thread:
        """The guild's ``announcements`` or ``moderators`` channel, or a problem a moderator must fix."""
        async with self.bot.reading() as session:
            settings = await guilds.get_guild_settings(session, guild_id=guild.id)
        channel_id = (
            settings.announcements_channel_id if role == "announcements" else settings.moderators_channel_id
        )
        channel = guild.get_channel(channel_id) if channel_id else None
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            raise DeliveryProblem(
                f"no-{role}-channel",
                f"I have {what} to post but no {role} channel: choose one with /setup channels.",
            )
        return channel

    async def post_once(
        self, guild: discord.Guild, role: ChannelRole, post: Post, *, what: str
    ) -> discord.Message:
        """Post ``post`` in the guild's ``role`` channel unless a post with its marker is already there."""
        channel = await self.channel_for(guild, role, what=what)
        existing = await self._find_marker(channel, post.marker)
        if existing is not None:
            log.info("outbox post %r was already in #%s; not posting it again", post.marker, channel)
            return existing
        embeds = list(post.embeds)
        if embeds:
            embeds[-1].set_footer(text=post.marker)
        content = post.content if embeds else f"{post.content or ''}\n-# {post.marker}".strip()
        try:
            return await channel.send(
                content=content,
                embeds=embeds,
                files=list(post.files()) if post.files else [],
                view=post.view or discord.utils.MISSING,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.Forbidden as error:
            raise DeliveryProblem(
                f"forbidden-{channel.id}",
                f"Discord refused to let me post {what} in {channel.mention} "
                f"({error.text or 'missing permission'}). "
                "Give my role View Channel, Send Messages, Embed Links and Attach Files there; "
                "I will try again.",
            ) from error

    async def _find_marker(self, channel: discord.abc.Messageable, marker: str) -> discord.Message | None:
        me = self.bot.user
        try:
            async for message in channel.history(limit=MARKER_LOOKBACK):
                if me is None or message.author.id != me.id:
                    continue
                if any(embed.footer.text == marker for embed in message.embeds) or message.content.endswith(
                    marker
                ):
                    return message
        except discord.Forbidden:
            # Without Read Message History the check is impossible; posting is still right.
            log.warning("cannot read the history of %s to check for %r", channel, marker)
        return None

    # -- warnings -----------------------------------------------------------------------------------

    async def warn(self, guild_id: int, key: str, text: str) -> None:
        """Tell the moderators once (per ``key``, per hour) about a problem only they can fix."""
        now = self.bot.clock.now()
        last = self._warned.get((guild_id, key))
        if last is not None and now - last < WARNING_QUIET:
            return
        self._warned[(guild_id, key)] = now
        log.warning("guild %s: %s", guild_id, text)
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return
        async with self.bot.reading() as session:
            settings = await guilds.get_guild_settings(session, guild_id=guild_id)
        channel = (
            guild.get_channel(settings.moderators_channel_id) if settings.moderators_channel_id else None
        )
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return
        try:
            await channel.send(
                embed=warning_embed("The Bureau needs a hand", text),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as error:
            log.warning("could not warn the moderators of guild %s: %s", guild_id, error)
