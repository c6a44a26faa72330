"""``citizen-score sandbox --preview``: the sandbox season, with a seat at the table for you.

SimCord's browser preview serves the simulated server on loopback. You are the member "You": run
``/join``, talk in #town-square, use any command, click any button, while the simulated citizens play
on at a pace a person can follow (one tick of the season every few seconds). The page can also
show the server as the Warden (the moderator) or as any citizen. Ctrl+C ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

from bot.sandbox._progress import Progress
from bot.sandbox._run import Sandbox, SandboxConfig, SandboxResult

# Real seconds between two ticks of the season (each tick is a third of an audit interval).
PACE_S = 3.0


class _Stopped(Exception):
    """The person asked to stop (Ctrl+C, or "End preview session" in the page)."""


def run_preview(config: SandboxConfig, *, progress: Progress) -> int:
    return asyncio.run(serve_preview(config, progress=progress))


async def serve_preview(
    config: SandboxConfig,
    *,
    progress: Progress,
    stop: asyncio.Event | None = None,
    pace: float = PACE_S,
    on_url: Callable[[str], None] | None = None,
) -> int:
    """Serve the preview until ``stop`` is set (Ctrl+C sets it) or the page ends the session."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with Sandbox(config, progress=progress, visitor=True) as sandbox:
            world = sandbox.world
            assert world.visitor is not None
            viewers = [world.visitor, world.moderator, *(citizen.actor for citizen in world.citizens)]
            async with sandbox.env.preview(world.square, viewers=viewers, layout="channel") as preview:
                progress.always(f"Preview: {preview.url}")
                progress.always(
                    "Open it in a browser on this machine: you are 'You' in #town-square. Run /join to "
                    "play, /help to read the rules. Ctrl+C stops the sandbox."
                )
                if on_url is not None:
                    on_url(preview.url)
                ended = asyncio.ensure_future(preview.wait_closed())

                async def between_ticks() -> None:
                    await sandbox.driver.exclusive(preview.refresh)
                    if stop.is_set() or ended.done():
                        raise _Stopped
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(stop.wait()), pace)
                    if stop.is_set() or ended.done():
                        raise _Stopped

                try:
                    result = await sandbox.play(between_ticks=between_ticks)
                except _Stopped:
                    pass
                else:
                    await sandbox.driver.exclusive(preview.refresh)
                    _show(progress, result)
                    progress.always("The season is over; the preview stays open until Ctrl+C.")
                    waiter = asyncio.ensure_future(stop.wait())
                    await asyncio.wait({waiter, ended}, return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                ended.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
    progress.always("Preview closed.")
    return 0


def _show(progress: Progress, result: SandboxResult) -> None:
    progress.standings(result.standings, scenario=result.scenario, personas=result.personas)
    progress.report(result.files.html, extra=(result.files.csv, result.files.json))
