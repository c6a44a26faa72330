"""The season, played: a moderator and simulated citizens drive the real bot through SimCord.

Everything here is what a member could do in a Discord client: run a slash command, post in a
channel, pick from a command's suggestions, click a button on a message they can see. No game service
is called to play. After each move of the simulated clock the bot's season scheduler is asked to run
what is due (``run_pending``), because APScheduler's own timers run on real time.

Determinism: one ``random.Random`` makes every choice, in a fixed order (citizens are visited in an
order drawn from it, never in the order a set happens to give), and SimCord's clock and IDs start
from a fixed epoch, so the same seed plays the same season.
"""

from __future__ import annotations

import asyncio
import io
import math
import random
import zipfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import discord
import simcord

from bot.client import CitizenBot
from bot.sandbox._personas import Phrasebook, Talk, appeal_reason, shelf
from bot.sandbox._progress import Progress
from bot.sandbox._readout import audit_summary, latest_season
from bot.sandbox._world import SimCitizen, World
from game.models import SeasonStatus
from game.rules.durations import compact_duration
from game.scenario import Scenario

T = TypeVar("T")

# The Bureau's buttons: friend requests (Accept/Decline), permits (Approve/Deny), appeals (Grant/Deny).
YES_LABELS = ("Accept", "Approve", "Grant")
NO_LABELS = ("Decline", "Deny")

# How the simulated Warden decides.
PERMIT_APPROVAL = 0.7
APPEAL_GRANT = 0.35

# In the preview, how many of the latest messages in the square are searched for a person's friend
# request to a simulated citizen.
FRIEND_REQUEST_LOOKBACK = 30

# The files of the debrief the bot posts at the season's end (prefixed with the season: season-1-...).
DEBRIEF_FILES = ("report.html", "ledger.csv", "ledger.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class SeasonPlan:
    scenario: Scenario
    length: timedelta
    audit_every: timedelta
    tick: timedelta

    @property
    def audits(self) -> int:
        return math.ceil(self.length / self.audit_every)

    @property
    def ticks(self) -> int:
        return math.ceil(self.length / self.tick)


@dataclass
class Tally:
    """What the simulated members did; ``refused`` counts commands the bot answered with a refusal
    (not enough credits, a tier too low, a permit already held), as it would a person."""

    messages: int = 0
    commands: int = 0
    clicks: int = 0
    refused: int = 0
    by_command: dict[str, int] = field(default_factory=dict)
    # The decrees that took effect, lapsed or were revoked, as the Bureau announced them.
    decrees: list[str] = field(default_factory=list)


class SeasonDriver:
    """Plays one season. ``shared``: a person acts in the same world (the preview)."""

    def __init__(
        self,
        *,
        env: simcord.Env,
        bot: CitizenBot,
        world: World,
        plan: SeasonPlan,
        rng: random.Random,
        progress: Progress,
        shared: bool = False,
    ) -> None:
        self.env = env
        self.bot = bot
        self.world = world
        self.plan = plan
        self.rng = rng
        self.progress = progress
        self.shared = shared
        self.phrasebook = Phrasebook.from_scenario(plan.scenario)
        self.tally = Tally()
        self.season_id: int | None = None
        self.started_at: datetime | None = None
        self.audits_seen = 0
        self._decided: set[int] = set()  # request messages already answered
        self._requests_filed = False  # a permit or appeal may be waiting in the Bureau's channel
        # One SimCord operation at a time: the driver's and, in the preview, the person's (the page's
        # actions take the same lock, see bot.sandbox._preview), so neither is refused as overlapping.
        self.turn = asyncio.Lock()

    # ------------------------------------------------------------------------------ member actions

    async def exclusive(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run one SimCord operation. In the preview a person's click may hold the simulator for a
        moment, and SimCord refuses overlapping operations: wait for theirs to finish."""
        while True:
            try:
                async with self.turn:
                    return await action()
            except simcord.SetupError as error:
                if not self.shared or "overlaps" not in str(error):
                    raise
            await asyncio.sleep(0.05)

    async def slash(
        self,
        who: simcord.MemberActor,
        name: str,
        /,
        at: simcord.ChannelHandle | None = None,
        **options: Any,
    ) -> simcord.InteractionResult:
        """Run a slash command in the game channel (or ``at`` another), as ``who``."""
        where = at or self.world.square
        result = await self.exclusive(lambda: who.slash(where, name, **options))
        self.tally.commands += 1
        self.tally.by_command[name] = self.tally.by_command.get(name, 0) + 1
        if refused(result):
            self.tally.refused += 1
        return result

    async def say(self, citizen: SimCitizen, text: str) -> None:
        await self.exclusive(lambda: citizen.actor.send(self.world.square, text))
        self.tally.messages += 1

    async def click(
        self, who: simcord.MemberActor, message: discord.Message | simcord.ResponseMessage, label: str
    ) -> simcord.InteractionResult:
        result = await self.exclusive(lambda: who.click(message, label=label))
        self.tally.clicks += 1
        return result

    # ---------------------------------------------------------------------------------------- set-up

    async def set_up(self) -> None:
        """The Warden sets up the server and opens the season; every citizen joins."""
        world, warden, scenario = self.world, self.world.moderator, self.plan.scenario
        await self.slash(
            warden,
            "setup channels",
            announcements=world.announcements,
            brag=world.brag,
            moderators=world.bureau,
        )
        await self.slash(warden, "setup game-channel add", channel=world.square)
        await self.slash(warden, "setup roles", scenario=scenario.key)
        result = await self.slash(
            warden,
            "season start",
            scenario=scenario.key,
            duration=compact_duration(self.plan.length),
            audit_every=compact_duration(self.plan.audit_every),
        )
        season = await latest_season(self.bot.engine, world.guild.id)
        if season is None or season.id is None:
            raise RuntimeError(f"/season start did not start a season: {describe(result)}")
        self.season_id = season.id
        self.started_at = season.started_at
        for citizen in world.citizens:
            await self.slash(citizen.actor, "join")

    # ------------------------------------------------------------------------------------- the season

    async def play(
        self,
        *,
        between_ticks: Callable[[], Awaitable[None]] | None = None,
        steps_per_tick: int = 1,
    ) -> None:
        """Tick by tick to the season's deadline: citizens act, the Warden decides, the clock moves and
        whatever is due runs. The scheduler ends the season at its deadline, with its last audit.

        ``steps_per_tick`` (the preview) splits a tick's turns into that many steps, the clock moving
        on a step at a time and ``between_ticks`` called after each: the chat flows instead of
        arriving in bursts, and the chances per tick (so the season's story) stay the same."""
        assert self.started_at is not None, "set_up() first"
        audited = False
        steps = max(1, steps_per_tick)
        for tick in range(1, self.plan.ticks + 1):
            order = self.rng.sample(self.world.citizens, len(self.world.citizens))
            before = self.audits_seen
            if tick == self.plan.ticks // 2:
                await self._issue_optional_decree()
            for step in range(steps):
                for citizen in order[len(order) * step // steps : len(order) * (step + 1) // steps]:
                    await self._citizen_turn(citizen, after_audit=audited)
                if step == steps - 1:
                    if self.shared:
                        await self._answer_friend_requests()
                    if self._requests_filed or self.shared:
                        await self._bureau_decides()
                moment = self.started_at + (tick - 1) * self.plan.tick + self.plan.tick * (step + 1) / steps
                await self.move_clock_to(min(moment, self.started_at + self.plan.length))
                await self.run_due()
                if between_ticks is not None:
                    await between_ticks()
            audited = self.audits_seen > before

    async def _issue_optional_decree(self) -> None:
        """Half-way through, the Warden issues the pack's first optional decree (the timeline's own
        decrees come by themselves, at their audits)."""
        optional = self.plan.scenario.timeline.optional
        if optional:
            await self.slash(self.world.moderator, "decree issue", decree=optional[0].key)

    async def move_clock_to(self, instant: datetime) -> None:
        """Advance SimCord's clock (and so the game's) to an absolute instant: if a timer ever moved it
        on real time in between, the plan does not drift."""
        seconds = (instant - self.env.now()).total_seconds()
        if seconds > 0:
            await self.exclusive(lambda: self.env.advance_time(seconds))

    async def run_due(self) -> None:
        """Run what the season scheduler has due by the game clock, let the bot deliver, report audits."""
        await self.bot.season_scheduler.run_pending(self.env.now())
        await self.exclusive(self.env.settle)
        season = await latest_season(self.bot.engine, self.world.guild.id)
        if season is None or season.id is None or season.id != self.season_id:
            return
        assert self.started_at is not None
        while self.audits_seen < season.last_audit_number:
            self.audits_seen += 1
            summary = await audit_summary(self.bot.engine, season.id, self.audits_seen)
            self.progress.audit(
                summary,
                of=self.plan.audits,
                elapsed=self.env.now() - self.started_at,
                messages=self.tally.messages,
            )
        self._read_decrees()

    def _read_decrees(self) -> None:
        """The decree posts in the announcements channel not read yet, printed as they come."""
        posts = [
            embed.title
            for message in self.world.announcements.history()
            for embed in message.embeds
            if embed.title and embed.title.lstrip("\N{SCROLL} ").startswith("Decree")
        ]
        for title in posts[len(self.tally.decrees) :]:
            self.tally.decrees.append(title.lstrip("\N{SCROLL} "))
            self.progress.say(f"  {title}")

    async def end(self) -> None:
        """Make sure the season is over. The scheduler ends it at its deadline; should it still run
        (a clock that stopped short), the Warden ends it by hand, confirming with the button."""
        season = await latest_season(self.bot.engine, self.world.guild.id)
        if season is None or season.id != self.season_id or season.status == SeasonStatus.ENDED:
            return
        result = await self.slash(self.world.moderator, "season end")
        if result.response is not None and "End the season" in buttons(result.response.components):
            await self.click(self.world.moderator, result.response, "End the season")
        await self.run_due()

    async def collect_debrief(self) -> dict[str, bytes]:
        """The debrief the bot posted in the Bureau's channel at the season's end, as the Warden would
        download it: ``{"report.html": ..., "ledger.csv": ..., "ledger.json": ...}`` (empty if none)."""
        for message in reversed(self.world.bureau.history()):
            files: dict[str, bytes] = {}
            for attachment in message.attachments:
                data = await attachment.read()
                if attachment.filename.endswith(".zip"):
                    files.update(unzipped(data))
                else:
                    files[attachment.filename] = data
            debrief = {
                wanted: data
                for name, data in files.items()
                for wanted in DEBRIEF_FILES
                if name.endswith(wanted)
            }
            if set(debrief) == set(DEBRIEF_FILES):
                return debrief
        return {}

    # ------------------------------------------------------------------------------------- a citizen

    async def _citizen_turn(self, citizen: SimCitizen, *, after_audit: bool) -> None:
        persona, rng = citizen.persona, self.rng
        if rng.random() < persona.chattiness:
            kind, text = self.phrasebook.line(persona, rng)
            if kind is Talk.PERMIT and rng.random() < persona.permits:
                await self._request_permit(citizen)
            await self.say(citizen, text)
        if rng.random() < persona.shopping:
            await self._shop(citizen)
        if rng.random() < persona.befriending:
            await self._befriend(citizen)
        # A citizen thinks of appealing when the bulletin is fresh, not at every turn.
        if after_audit and rng.random() < persona.appeals:
            await self._appeal(citizen)

    async def _shop(self, citizen: SimCitizen) -> None:
        items = shelf(self.plan.scenario.catalogue, citizen.persona.taste)
        if items:
            await self.slash(citizen.actor, "buy", item=self.rng.choice(items).key)

    async def _befriend(self, citizen: SimCitizen) -> None:
        others = [c for c in self.world.citizens if c is not citizen and c.name not in citizen.asked]
        if not others:
            return
        other = self.rng.choice(others)
        citizen.asked.add(other.name)
        other.asked.add(citizen.name)
        result = await self.slash(citizen.actor, "friend add", user=other.actor)
        message = result.response
        if message is not None and not message.ephemeral and buttons(message.components) & set(YES_LABELS):
            await self._answer_friend(other, message)

    async def _answer_friend(
        self, asked: SimCitizen, message: discord.Message | simcord.ResponseMessage
    ) -> None:
        accept = self.rng.random() < asked.persona.accepting
        label = first_of(buttons(components_of(message)), YES_LABELS if accept else NO_LABELS)
        if label is not None:
            self._decided.add(message.id)
            await self.click(asked.actor, message, label)

    async def _answer_friend_requests(self) -> None:
        """In the preview: answer the friend requests a person sent to simulated citizens."""
        for message in self.world.square.history()[-FRIEND_REQUEST_LOOKBACK:]:
            if message.id in self._decided or not message.components:
                continue
            asked = self._asked_by_request(message)
            if asked is not None:
                await self._answer_friend(asked, message)

    def _asked_by_request(self, message: discord.Message) -> SimCitizen | None:
        """The simulated citizen a friend request is for, read from its Accept button."""
        for row in components_of(message):
            for button in row.get("components") or [row]:
                parts = str(button.get("custom_id", "")).split(":")
                if len(parts) == 5 and parts[:2] == ["friend", "accept"] and parts[4].isdigit():
                    return self.world.citizen(int(parts[4]))
        return None

    async def _request_permit(self, citizen: SimCitizen) -> None:
        topics = [topic for topic in self.phrasebook.permit_topics if topic[0] not in citizen.permits_asked]
        if not topics:
            return
        key, name = self.rng.choice(topics)
        citizen.permits_asked.add(key)
        reason = self.phrasebook.permit_reason(name, self.rng)
        await self.slash(citizen.actor, "permit request", topic=key, reason=reason)
        self._requests_filed = True

    async def _appeal(self, citizen: SimCitizen) -> None:
        """Appeal a recent penalty, chosen the way a member would: from the command's suggestions."""
        choices = await self.exclusive(
            lambda: citizen.actor.autocomplete(self.world.square, "appeal", "entry", "")
        )
        if not choices:
            return
        entry = int(self.rng.choice(choices)["value"])
        await self.slash(citizen.actor, "appeal", entry=entry, reason=appeal_reason(self.rng))
        self._requests_filed = True

    # ------------------------------------------------------------------------------------- the Bureau

    async def _bureau_decides(self) -> None:
        """The Warden answers every open permit request and appeal in the Bureau's channel."""
        self._requests_filed = False
        for message in self.world.bureau.history():
            if message.id in self._decided or not message.components:
                continue
            labels = buttons(components_of(message))
            if not labels & set(YES_LABELS):
                continue
            self._decided.add(message.id)
            chance = APPEAL_GRANT if "Grant" in labels else PERMIT_APPROVAL
            label = first_of(labels, YES_LABELS if self.rng.random() < chance else NO_LABELS)
            if label is not None:
                await self.click(self.world.moderator, message, label)


# ---------------------------------------------------------------------------------------------------
# Reading messages as a member sees them


def components_of(message: discord.Message | simcord.ResponseMessage) -> list[dict[str, Any]]:
    if isinstance(message, simcord.ResponseMessage):
        return message.components
    return [component.to_dict() for component in message.components]  # type: ignore[misc]


def buttons(components: Sequence[dict[str, Any]]) -> set[str]:
    """The labels of the enabled buttons in a message's component rows."""
    found: set[str] = set()
    stack = list(components)
    while stack:
        component = stack.pop()
        stack.extend(component.get("components") or [])
        if component.get("type") == 2 and not component.get("disabled") and component.get("label"):
            found.add(str(component["label"]))
    return found


def first_of(labels: set[str], wanted: Sequence[str]) -> str | None:
    return next((label for label in wanted if label in labels), None)


def refused(result: simcord.InteractionResult) -> bool:
    """The bot's one error handler answers a refusal with a private line of text, never an embed."""
    message = result.followups[-1] if result.followups else result.response
    return message is not None and message.ephemeral and bool(message.content) and not message.embeds


def unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def message_text(message: discord.Message) -> str:
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or ""]
        parts += [f"{item.name} {item.value}" for item in embed.fields]
    return "\n".join(parts)


def describe(result: simcord.InteractionResult) -> str:
    message = result.followups[-1] if result.followups else result.response
    return "no answer" if message is None else message_text(message.message)
