"""The courier: takes what the game wrote to the outbox and tells Discord, once.

The game writes an outbox row in the same transaction as what caused it (an audit's bulletin and tier
changes, a season's end, a permit request). The courier delivers rows in three steps, each safe to
repeat:

1. **Claim** a batch (``claim_undelivered``: one ``UPDATE ... RETURNING``), so no other process or
   pass holds the same rows; a claim left by a crash expires and the row is offered again.
2. **Deliver.** A post carries a marker in its footer (``Bureau file 17``). Before posting, the
   courier looks for that marker among the channel's recent messages: a row whose post went out but
   whose ``mark_delivered`` never happened (crash, restart, lost database connection) is found there
   and not posted twice. Role changes are idempotent by construction: the member's roles are compared
   with the tier the database holds *now*, and only a difference is sent.
3. **Mark** it delivered, or failed (offered again after a back-off, at most ``MAX_ATTEMPTS`` times).

A background loop runs a pass every few seconds; ``wake()`` runs one at once (after an audit, a permit
request). A Discord refusal (missing permission, role hierarchy) becomes one warning in the moderators'
channel, not a crash and not silence; the data in the database is untouched by delivery problems.
"""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import tasks

from bot.bureau import BUREAU_COLOUR, role_problem, truncate, warning_embed
from game.errors import NoActiveSeason
from game.models import OutboxKind, Season
from game.report import ReportData, ledger_csv, ledger_json, render_html
from game.report.build import build_report_data
from game.scenario import Scenario, restore_scenario
from game.services import citizens, guilds, seasons
from game.services.outbox import DEFAULT_CLAIM_TTL, OutboxItem, claim_undelivered, mark_delivered, mark_failed

if TYPE_CHECKING:
    from bot.client import CitizenBot

__all__ = [
    "Courier",
    "DeliveryProblem",
    "Post",
    "bulletin_embed",
    "file_marker",
    "standings_embed",
]

log = logging.getLogger(__name__)

MINUS = "\N{MINUS SIGN}"
# How far back the courier looks for a post it may already have made (a re-claimed row is retried
# within minutes, so its post, if any, is among the channel's latest messages).
MARKER_LOOKBACK = 50
# The same warning is not repeated to the moderators within this time.
WARNING_QUIET = timedelta(hours=1)


def _signed(delta: int) -> str:
    if delta > 0:
        return f"+{delta:,}"
    if delta < 0:
        return f"{MINUS}{-delta:,}"
    return "\N{PLUS-MINUS SIGN}0"


def _who(person: Mapping[str, Any]) -> str:
    user_id = person.get("user_id")
    return f"<@{user_id}>" if user_id else str(person.get("display_name", "a citizen"))


def file_marker(item_id: int, part: str = "") -> str:
    """The footer that identifies a post of outbox row ``item_id`` (and which part of it)."""
    return f"Bureau file {item_id}{part}"


class DeliveryProblem(Exception):
    """Delivery cannot succeed until a moderator acts (a channel not set, a permission missing).

    ``key`` identifies the problem, so the moderators are told once, not at every retry.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class Post:
    """One message to post; ``marker`` goes in the (last) embed's footer."""

    marker: str
    embeds: Sequence[discord.Embed] = ()
    content: str | None = None
    files: Callable[[], Sequence[discord.File]] | None = None
    view: discord.ui.View | None = None


# ---------------------------------------------------------------------------------------------------
# What the posts look like


def _tier_names(scenario: Scenario | None) -> dict[str, str]:
    return {tier.key: tier.name for tier in scenario.tiers} if scenario else {}


def _lines(entries: Sequence[str], total: int, limit: int = 1024) -> str:
    text = ""
    shown = 0
    for entry in entries:
        if len(text) + len(entry) + 40 > limit:
            break
        text += entry + "\n"
        shown += 1
    if total > shown:
        text += f"*and {total - shown:,} more*"
    return text.strip()


def bulletin_embed(payload: Mapping[str, Any], scenario: Scenario | None) -> discord.Embed | None:
    """The announcement of one audit, or ``None`` when the audit changed nothing worth announcing."""
    names = _tier_names(scenario)
    gains = payload.get("top_gains") or []
    losses = payload.get("top_losses") or []
    cascades = payload.get("friend_cascades") or []
    promotions = payload.get("promotions") or []
    demotions = payload.get("demotions") or []
    if not (gains or losses or cascades or promotions or demotions):
        return None
    number = payload.get("audit_number", "?")
    summary = (
        f"{payload.get('messages_scored', 0):,} messages reviewed · "
        f"{payload.get('purchases_applied', 0):,} purchases · "
        f"{payload.get('citizens_changed', 0):,} scores changed"
    )
    embed = discord.Embed(title=f"\N{SCROLL} Bureau bulletin · audit {number}", description=summary)
    embed.colour = BUREAU_COLOUR
    if gains:
        embed.add_field(
            name="\N{CHART WITH UPWARDS TREND} Biggest gains",
            value=_lines(
                [f"{_who(g)} **{_signed(g['delta'])}** → {g['score']:,}" for g in gains], len(gains)
            ),
            inline=False,
        )
    if losses:
        embed.add_field(
            name="\N{CHART WITH DOWNWARDS TREND} Biggest losses",
            value=_lines(
                [f"{_who(g)} **{_signed(g['delta'])}** → {g['score']:,}" for g in losses], len(losses)
            ),
            inline=False,
        )
    if cascades:
        embed.add_field(
            name="\N{HANDSHAKE} Friends' penalties",
            value=_lines(
                [
                    f"{_who(c)} lost {-c['delta']:,} because of their friend {_who(c['friend'])}"
                    for c in cascades
                ],
                int(payload.get("friend_cascades_total", len(cascades))),
            ),
            inline=False,
        )
    if promotions:
        by_tier: dict[str, list[str]] = {}
        for promotion in promotions:
            by_tier.setdefault(promotion["new_tier"], []).append(_who(promotion))
        embed.add_field(
            name="\N{PASSPORT CONTROL} New holders",
            value=_lines(
                [f"**{names.get(tier, tier)}**: {', '.join(people)}" for tier, people in by_tier.items()],
                len(by_tier),
            )
            + _more(payload, "promotions_total", len(promotions)),
            inline=False,
        )
    if demotions:
        embed.add_field(
            name="\N{DOWNWARDS BLACK ARROW} Demoted",
            value=_lines(
                [f"{_who(d)} is now **{names.get(d['new_tier'], d['new_tier'])}**" for d in demotions],
                int(payload.get("demotions_total", len(demotions))),
            ),
            inline=False,
        )
    return embed


def _more(payload: Mapping[str, Any], key: str, shown: int) -> str:
    total = int(payload.get(key, shown))
    return f"\n*and {total - shown:,} more*" if total > shown else ""


def standings_embed(payload: Mapping[str, Any], scenario: Scenario | None) -> discord.Embed:
    """The final standings of a season, for the announcements channel."""
    number = payload.get("season_number", "?")
    citizens = int(payload.get("citizens", 0))
    average = payload.get("average_score")
    description = (
        f"{citizens:,} citizens · {int(payload.get('audits', 0)):,} audits"
        + (f" · average score {average:,}" if average is not None else "")
        + "\nThank you for your cooperation. The debrief is with the Bureau."
    )
    embed = discord.Embed(
        title=f"\N{CHEQUERED FLAG} Season {number} is over: final standings",
        description=description,
        colour=BUREAU_COLOUR,
    )
    top = payload.get("top") or []
    medals = ["\N{FIRST PLACE MEDAL}", "\N{SECOND PLACE MEDAL}", "\N{THIRD PLACE MEDAL}"]
    if top:
        embed.add_field(
            name="Most trusted",
            value=_lines(
                [
                    f"{medals[i] if i < 3 else f'`#{i + 1}`'} {_who(row)} · **{row['score']:,}**"
                    for i, row in enumerate(top)
                ],
                len(top),
            ),
            inline=False,
        )
    bottom = payload.get("bottom") or []
    if len(bottom) > 1 or (bottom and citizens > len(top)):
        embed.add_field(
            name="Under review",
            value=_lines([f"{_who(row)} · **{row['score']:,}**" for row in bottom[:5]], min(len(bottom), 5)),
            inline=False,
        )
    tiers = payload.get("tiers") or {}
    names = _tier_names(scenario)
    if tiers and citizens:
        embed.add_field(
            name="Tiers",
            value="\n".join(f"{names.get(key, key)}: {count:,}" for key, count in tiers.items() if count)
            or "nobody",
            inline=False,
        )
    return embed


# ---------------------------------------------------------------------------------------------------
# Pacing role changes


class Pacer:
    """At most ``rate`` actions a second after a burst of ``burst``: role edits stay well inside
    Discord's limits (50 requests a second per token, stricter undocumented ones for roles)."""

    def __init__(self, *, rate: float, burst: int, monotonic: Callable[[], float] | None = None) -> None:
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic
        self._tokens = float(burst)
        self._last: float | None = None

    def _now(self) -> float:
        return self._monotonic() if self._monotonic else asyncio.get_running_loop().time()

    async def wait(self) -> None:
        now = self._now()
        if self._last is None:
            self._last = now
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            await asyncio.sleep((1 - self._tokens) / self.rate)
            self._tokens = 1
            self._last = self._now()
        self._tokens -= 1


# ---------------------------------------------------------------------------------------------------
# The courier


Renderer = Callable[["Courier", OutboxItem], Awaitable[Sequence[tuple[str, Post]]]]


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
        self.pacer = Pacer(rate=role_rate, burst=role_burst)
        self._lock = asyncio.Lock()
        self._again = False
        self._warned: dict[tuple[int, str], datetime] = {}
        # Cards with buttons (permit and appeal requests) are rendered by the Bureau's extension.
        self.renderers: dict[OutboxKind, Renderer] = {}
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
        if item.kind is OutboxKind.ROLE_SYNC:
            await self.sync_roles(guild, [int(item.payload["user_id"])])
            return
        renderer = self.renderers.get(item.kind) or _RENDERERS.get(item.kind)
        if renderer is None:
            log.warning("no renderer for outbox kind %s (row %s); skipping it", item.kind, item.id)
            return
        for channel_role, post in await renderer(self, item):
            await self.post_once(guild, channel_role, post, what=_WHAT.get(item.kind, "a message"))
        if item.kind is OutboxKind.SEASON_END:
            # After the standings: nobody keeps a tier role once the season is over. A role the bot
            # may not manage is reported, and does not hold back the season's end.
            try:
                await self.clear_tier_roles(guild)
            except DeliveryProblem as problem:
                await self.warn(guild.id, problem.key, str(problem))

    # -- posting ------------------------------------------------------------------------------------

    async def channel_for(
        self, guild: discord.Guild, role: str, *, what: str
    ) -> discord.TextChannel | discord.Thread:
        """The guild's ``announcements`` or ``moderators`` channel, or a problem a moderator must fix."""
        async with self.bot.transaction() as session:
            settings = await guilds.get_guild_settings(session, guild_id=guild.id)
        channel_id = getattr(settings, f"{role}_channel_id")
        channel = guild.get_channel(channel_id) if channel_id else None
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            raise DeliveryProblem(
                f"no-{role}-channel",
                f"I have {what} to post but no {role} channel: choose one with /setup channels.",
            )
        return channel

    async def post_once(self, guild: discord.Guild, role: str, post: Post, *, what: str) -> discord.Message:
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
        async with self.bot.transaction() as session:
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

    # -- roles --------------------------------------------------------------------------------------

    async def sync_roles(self, guild: discord.Guild, user_ids: Sequence[int]) -> None:
        """Give each member the role of the tier the database holds *now*, and take the other tier roles.

        The outbox row only says "this member's tier may have changed"; the citizen's current tier is
        the truth, so rows delivered late, twice or out of order all end in the right roles. A member
        who left, or whose season is over, keeps no tier role. Members whose roles are already right
        cost no request.
        """
        async with self.bot.transaction() as session:
            mapping = dict(await guilds.get_tier_roles(session, guild_id=guild.id))
            tiers: dict[int, str | None] = {}
            for user_id in user_ids:
                try:
                    citizen = await citizens.get_citizen(session, guild_id=guild.id, user_id=user_id)
                except NoActiveSeason:
                    citizen = None
                tiers[user_id] = citizen.tier_key if citizen else None
        if not mapping:
            return
        for user_id, tier_key in tiers.items():
            await self.set_tier_role(guild, user_id, mapping, mapping.get(tier_key) if tier_key else None)

    async def resync_guild(self, guild: discord.Guild) -> None:
        """Bring every citizen's tier role in line with the database (after /setup roles, or once a
        role problem is fixed). Members already right cost nothing; a refusal is reported once."""
        async with self.bot.transaction() as session:
            season = await seasons.current_season(session, guild_id=guild.id)
            lines = await seasons.standings(session, season_id=season.id) if season else ()
        try:
            await self.sync_roles(guild, [line.user_id for line in lines])
        except DeliveryProblem as problem:
            await self.warn(guild.id, problem.key, str(problem))

    async def set_tier_role(
        self, guild: discord.Guild, user_id: int, mapping: Mapping[str, int], wanted_id: int | None
    ) -> bool:
        """Make ``user_id`` hold exactly ``wanted_id`` among the tier roles; ``True`` if roles changed."""
        member = guild.get_member(user_id)
        if member is None:
            return False
        tier_role_ids = set(mapping.values())
        held = {role.id for role in member.roles}
        to_add = {wanted_id} - held if wanted_id else set()
        to_remove = (held & tier_role_ids) - {wanted_id}
        if not to_add and not to_remove:
            return False
        changes: list[tuple[discord.Role, bool]] = []
        for role_id, adding in [(r, False) for r in sorted(to_remove)] + [(r, True) for r in sorted(to_add)]:
            role = guild.get_role(role_id)
            problem = (
                "a tier role was deleted: run /setup roles to recreate it."
                if role is None
                else role_problem(role, guild.me)
            )
            if problem or role is None:
                raise DeliveryProblem(
                    f"role-{role_id}",
                    f"I cannot update tier roles: {problem} Scores and tiers are safe in the ledger; "
                    "roles catch up once this is fixed (run /setup roles to hurry them).",
                )
            changes.append((role, adding))
        # One role at a time (PUT or DELETE of that role only): never overwrites roles others change.
        for role, adding in changes:
            await self.pacer.wait()
            try:
                if adding:
                    await member.add_roles(role, reason="Citizen Score: tier changed")
                else:
                    await member.remove_roles(role, reason="Citizen Score: tier changed")
            except discord.Forbidden as error:
                raise DeliveryProblem(
                    "roles-forbidden",
                    f"Discord refused to change tier roles ({error.text or 'missing permission'}). "
                    "Give me Manage Roles and drag my role above the tier roles in Server Settings → Roles. "
                    "Scores and tiers are safe in the ledger; roles catch up once this is fixed.",
                ) from error
            except discord.NotFound:
                return False
        return True

    async def clear_tier_roles(self, guild: discord.Guild) -> None:
        """At a season's end nobody keeps a tier role."""
        async with self.bot.transaction() as session:
            mapping = dict(await guilds.get_tier_roles(session, guild_id=guild.id))
        tier_role_ids = set(mapping.values())
        for member in list(guild.members):
            if any(role.id in tier_role_ids for role in member.roles):
                await self.set_tier_role(guild, member.id, mapping, None)


# ---------------------------------------------------------------------------------------------------
# Renderers of the kinds the courier knows itself


async def _season_scenario(courier: Courier, season_id: int | None) -> Scenario | None:
    if season_id is None:
        return None
    async with courier.bot.transaction() as session:
        season = await session.get(Season, season_id)
    if season is None:
        return None
    return restore_scenario(season.rules, source=f"season {season.number}")


async def _render_bulletin(courier: Courier, item: OutboxItem) -> Sequence[tuple[str, Post]]:
    embed = bulletin_embed(item.payload, await _season_scenario(courier, item.season_id))
    if embed is None:
        return ()
    return [("announcements", Post(marker=file_marker(item.id), embeds=[embed]))]


async def _render_season_end(courier: Courier, item: OutboxItem) -> Sequence[tuple[str, Post]]:
    scenario = await _season_scenario(courier, item.season_id)
    posts: list[tuple[str, Post]] = [
        ("announcements", Post(marker=file_marker(item.id), embeds=[standings_embed(item.payload, scenario)]))
    ]
    try:
        report = await courier_report(courier, item)
    except Exception:
        # The standings must not wait on the charts: report the failure, the rest goes out.
        log.exception("could not build the debrief of season %s", item.season_id)
        await courier.warn(
            item.guild_id,
            f"debrief-{item.season_id}",
            "I could not build the season's debrief. The final standings are posted; "
            "try /season report for the debrief.",
        )
        report = None
    if report is not None:
        posts.append(("moderators", report))
    return posts


async def courier_report(courier: Courier, item: OutboxItem) -> Post | None:
    """The debrief (HTML, CSV, JSON) for the moderators' channel."""
    if item.season_id is None:
        return None
    guild = courier.bot.get_guild(item.guild_id)
    embed, files = await build_debrief(
        courier.bot, season_id=item.season_id, guild_name=guild.name if guild else None
    )
    return Post(marker=file_marker(item.id, "/debrief"), embeds=[embed], files=lambda: debrief_files(files))


# Discord refuses uploads over 10 MiB a message (more only on boosted servers); leave room.
UPLOAD_LIMIT = 8 * 1024 * 1024


def _render_debrief(data: ReportData) -> list[tuple[str, bytes]]:
    return [
        ("report.html", render_html(data).encode("utf-8")),
        ("ledger.csv", ledger_csv(data).encode("utf-8")),
        ("ledger.json", ledger_json(data).encode("utf-8")),
    ]


def _zipped(files: list[tuple[str, bytes]], name: str) -> list[tuple[str, bytes]]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename, data in files:
            archive.writestr(filename, data)
    return [(name, buffer.getvalue())]


async def build_debrief(
    bot: CitizenBot, *, season_id: int, guild_name: str | None
) -> tuple[discord.Embed, list[tuple[str, bytes]]]:
    """The season's debrief as files (``report.html``, ``ledger.csv``, ``ledger.json``) and an embed.

    Charts are drawn in a worker thread: the event loop keeps answering while the report renders.
    """
    async with bot.transaction() as session:
        season = await session.get(Season, season_id)
        data = await build_report_data(session, season_id, guild_name=guild_name)
    number = season.number if season else "?"
    files = await asyncio.to_thread(_render_debrief, data)
    prefix = f"season-{number}-"
    files = [(prefix + name, content) for name, content in files]
    if sum(len(content) for _, content in files) > UPLOAD_LIMIT:
        files = await asyncio.to_thread(_zipped, files, f"{prefix}debrief.zip")
    embed = discord.Embed(
        title=f"\N{BAR CHART} Season {number} debrief",
        description=(
            f"{len(data.citizens):,} citizens · {len(data.entries):,} ledger entries.\n"
            "Open the HTML file in a browser: scores over time, the final distribution, the friend "
            "network and its penalty cascades, the topics that cost most, what purchases did. "
            "The CSV and JSON hold every ledger entry."
        ),
        colour=BUREAU_COLOUR,
    )
    if data.discussion_prompts:
        embed.add_field(
            name="To talk about",
            value=truncate("\n".join(f"• {prompt}" for prompt in data.discussion_prompts[:4]), 1024),
            inline=False,
        )
    return embed, files


def debrief_files(files: Sequence[tuple[str, bytes]]) -> list[discord.File]:
    return [discord.File(io.BytesIO(content), filename=name) for name, content in files]


async def _render_notice(courier: Courier, item: OutboxItem) -> Sequence[tuple[str, Post]]:
    role = str(item.payload.get("channel", "moderators"))
    if role not in ("moderators", "announcements"):
        role = "moderators"
    embed = discord.Embed(
        title=truncate(str(item.payload.get("title", "From the Bureau")), 256),
        description=truncate(str(item.payload.get("text", "")), 4096) or None,
        colour=BUREAU_COLOUR,
    )
    return [(role, Post(marker=file_marker(item.id), embeds=[embed]))]


_RENDERERS: dict[OutboxKind, Renderer] = {
    OutboxKind.BULLETIN: _render_bulletin,
    OutboxKind.SEASON_END: _render_season_end,
    OutboxKind.NOTICE: _render_notice,
}

_WHAT = {
    OutboxKind.BULLETIN: "an audit bulletin",
    OutboxKind.SEASON_END: "the season's final standings",
    OutboxKind.NOTICE: "a notice",
    OutboxKind.PERMIT_REQUEST: "a permit request",
    OutboxKind.APPEAL_REQUEST: "an appeal",
}
