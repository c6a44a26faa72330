"""``citizen-score sandbox --preview``: the sandbox season, with a seat at the table for you.

SimCord's browser preview serves the simulated server on loopback. You are the member "You": run
``/join``, talk in #town-square, use any command, click any button, while the simulated citizens play
on at a pace a person can follow: the season lasts ``--minutes`` real minutes, the chat spread evenly
over them. The page can also show the server as the Warden (the moderator) or as any citizen.

SimCord's page shows one channel; ``/preview channel`` (a command only the sandbox adds) opens any
other channel the viewer may see (#announcements for the audit bulletins, #brag, the Bureau's channel
for the Warden) at the same address: reload the page. Ctrl+C ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import simcord
from simcord.backend.access import can_access_channel

from bot.images import ScoreCardData, render_score_card
from bot.sandbox._driver import SeasonDriver
from bot.sandbox._progress import Progress
from bot.sandbox._run import Sandbox, SandboxConfig, SandboxResult
from bot.sandbox._seat import SeatCog, final_standings_text
from bot.sandbox._world import World

# About how many real seconds between two steps of the season: someone says something, the clock moves.
STEP_S = 3.0


class _Stopped(Exception):
    """The person asked to stop (Ctrl+C, or "End preview session" in the page)."""


def run_preview(config: SandboxConfig, *, progress: Progress) -> int:
    return asyncio.run(serve_preview(config, progress=progress))


def steps_per_tick(config: SandboxConfig, ticks: int, step: float = STEP_S) -> int:
    """How many steps each tick takes so that the season lasts ``config.minutes`` real minutes."""
    return max(1, round(config.minutes * 60 / ticks / step))


class Seat:
    """The person's seat: the one preview SimCord serves, on the channel they asked for.

    Every page action waits for the driver's turn (``driver.turn``) instead of being refused as an
    overlapping operation (SimCord answers the page with an error, which the page shows as "Action
    outcome uncertain", or an empty list of suggestions). Switching channels closes the preview and
    opens another on the same port with the same capability, so the same address shows it.
    """

    def __init__(self, env: simcord.Env, world: World, driver: SeasonDriver) -> None:
        self.env = env
        self.world = world
        self.driver = driver
        self.preview: Any = None
        self.channel: simcord.ChannelHandle = world.square
        self.wanted: simcord.ChannelHandle | None = None
        self.port: int | None = None
        self.capability: str | None = None
        self.closed_by_page = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return str(self.preview.url)

    def viewers(self, channel: simcord.ChannelHandle) -> list[simcord.MemberActor]:
        world = self.world
        everyone = [world.visitor, world.moderator, *(citizen.actor for citizen in world.citizens)]
        return [
            who
            for who in everyone
            if who is not None and can_access_channel(self.env, channel.id, who, history=True)
        ]

    def ask(self, channel: simcord.ChannelHandle) -> None:
        """What ``/preview channel`` calls: open ``channel`` at the next step."""
        self.wanted = channel

    async def open(self, channel: simcord.ChannelHandle) -> None:
        preview = self.env.preview(channel, viewers=self.viewers(channel), layout="channel", port=self.port)
        if self.capability is not None:
            preview.capability = self.capability
        await preview.__aenter__()
        action = preview._action

        @functools.wraps(action)
        async def in_turn(*args: Any, **kwargs: Any) -> Any:
            async with self.driver.turn:
                return await action(*args, **kwargs)

        preview._action = in_turn  # type: ignore[method-assign]
        self.preview, self.channel = preview, channel
        self.port = int(preview.url.split(":")[2].split("/")[0])
        self.capability = preview.capability
        self._watch = asyncio.create_task(self._watch_closed(preview))

    async def _watch_closed(self, preview: Any) -> None:
        await preview.wait_closed()
        if preview is self.preview:  # not a switch: the page ended the session
            self.closed_by_page.set()

    async def close(self) -> None:
        preview, self.preview = self.preview, None
        if preview is not None:
            async with self.driver.turn:
                await preview.close()
        if self._watch is not None:
            self._watch.cancel()

    async def step(self) -> None:
        """Between two steps of the season: open the channel asked for, show what happened."""
        wanted, self.wanted = self.wanted, None
        if wanted is not None and wanted.id != self.channel.id:
            await self.close()
            await self.open(wanted)
        await self.driver.exclusive(self.preview.refresh)


async def serve_preview(
    config: SandboxConfig,
    *,
    progress: Progress,
    stop: asyncio.Event | None = None,
    pace: float | None = None,
    on_url: Callable[[str], None] | None = None,
    on_seat: Callable[[Seat], Awaitable[None]] | None = None,
) -> int:
    """Serve the preview until ``stop`` is set (Ctrl+C sets it) or the page ends the session.

    ``pace`` (tests): real seconds per step instead of what ``config.minutes`` asks for."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with Sandbox(config, progress=progress, visitor=True) as sandbox:
            # The first card a person asks for would otherwise load every font (a second or more).
            await asyncio.to_thread(warm_up)
            seat = Seat(sandbox.env, sandbox.world, sandbox.driver)
            await sandbox.bot.add_cog(SeatCog(seat))
            await sandbox.bot.sync_application_commands()
            await seat.open(sandbox.world.square)
            try:
                await _play_along(
                    sandbox, seat, config, progress, stop=stop, pace=pace, on_url=on_url, on_seat=on_seat
                )
            finally:
                await seat.close()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
    progress.always("Preview closed.")
    return 0


async def _play_along(
    sandbox: Sandbox,
    seat: Seat,
    config: SandboxConfig,
    progress: Progress,
    *,
    stop: asyncio.Event,
    pace: float | None,
    on_url: Callable[[str], None] | None,
    on_seat: Callable[[Seat], Awaitable[None]] | None,
) -> None:
    steps = steps_per_tick(config, sandbox.plan.ticks)
    every = pace if pace is not None else config.minutes * 60 / (sandbox.plan.ticks * steps)
    progress.always(f"Preview: {seat.url}")
    progress.always(
        "Open it in a browser on this machine: you are 'You' in #town-square. Run /join to play, /help "
        "to read the rules, /preview channel to open #announcements, #brag or (as the Warden) #bureau. "
        f"The season lasts about {config.minutes:g} minutes. Ctrl+C stops the sandbox."
    )
    if on_url is not None:
        on_url(seat.url)
    if on_seat is not None:
        await on_seat(seat)
    started = time.monotonic()
    done = 0

    async def between_steps() -> None:
        nonlocal done
        done += 1
        await seat.step()
        if stop.is_set() or seat.closed_by_page.is_set():
            raise _Stopped
        # Keep to the real schedule: a slow step (an audit) is made up by shorter waits after it.
        wait = max(0.0, started + done * every - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(stop.wait()), wait)
        if stop.is_set() or seat.closed_by_page.is_set():
            raise _Stopped

    try:
        result = await sandbox.play(between_ticks=between_steps, steps_per_tick=steps)
    except _Stopped:
        return
    _show(progress, result)
    await sandbox.driver.exclusive(
        lambda: sandbox.world.moderator.send(sandbox.world.square, final_standings_text(result))
    )
    await seat.step()
    progress.always("The season is over; the preview stays open until Ctrl+C.")
    while not (stop.is_set() or seat.closed_by_page.is_set()):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(stop.wait()), 1.0)
        await seat.step()


def warm_up() -> None:
    """Draw a card once (Latin and CJK), so the fonts are loaded before the person's first command."""
    render_score_card(ScoreCardData(display_name="Ana 陈", citizen_number=1, score=600, tier_name="-"))


def _show(progress: Progress, result: SandboxResult) -> None:
    progress.standings(result.standings, scenario=result.scenario, personas=result.personas)
    progress.report(result.files.html, extra=(result.files.csv, result.files.json))
