"""The preview a person plays in: every channel they may see, their actions never refused as
overlapping the simulated citizens', a season that keeps to real time, the result left in view."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.sandbox import SandboxConfig
from bot.sandbox._driver import message_text
from bot.sandbox._preview import Seat, serve_preview, steps_per_tick
from bot.sandbox._progress import Progress


class Served:
    def __init__(self, seat: Seat, task: asyncio.Task[int], stop: asyncio.Event) -> None:
        self.seat, self.task, self.stop = seat, task, stop

    async def page(self) -> dict[str, Any]:
        """What a browser gets when it (re)loads the preview's address."""
        url = urlsplit(self.seat.url)
        headers = {"X-Simcord-Capability": url.fragment}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{url.port}/api/pages", json={}, headers=headers) as opened,
        ):
            assert opened.status == 200
            return dict(await opened.json())

    async def act(self, page: dict[str, Any], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """An action as the page posts it (its envelope as SimCord's page script builds it)."""
        url = urlsplit(self.seat.url)
        headers = {"X-Simcord-Capability": url.fragment, "X-Simcord-Context": page["context"]["id"]}
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{url.port}/api/action", json=envelope(page, body), headers=headers
            ) as done,
        ):
            return done.status, dict(await done.json())


def envelope(page: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    return {
        "protocol_version": 3,
        "sequence": 1,
        "request_id": "r1",
        "generation": page["context"]["generation"],
        "bot_generation": page["botGeneration"],
        "published_revision": page["publishedRevision"],
        **body,
    }


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Served]]]:
    running: list[Served] = []

    async def serve(**overrides: Any) -> Served:
        config = SandboxConfig(
            **{
                "citizens": 3,
                "hours": 1,
                "audits": 4,
                "seed": 5,
                "out": tmp_path / "report",
                "quiet": True,
                **overrides,
            }
        )
        stop = asyncio.Event()
        seats: list[Seat] = []

        async def on_seat(seat: Seat) -> None:
            seats.append(seat)

        task = asyncio.create_task(
            serve_preview(config, progress=Progress(quiet=True), pace=0.05, stop=stop, on_seat=on_seat)
        )
        async with asyncio.timeout(60):
            while not seats:
                assert not task.done(), task.result()
                await asyncio.sleep(0.02)
        running.append(Served(seats[0], task, stop))
        return running[-1]

    yield serve
    for one in running:
        one.stop.set()
        async with asyncio.timeout(60):
            assert await one.task == 0


async def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    """Poll what the sandbox shows (no event to wait on: it is the page's state)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_a_page_action_waits_for_the_citizens_turn_instead_of_failing(
    served: Callable[..., Awaitable[Served]],
) -> None:
    one = await served()
    env, world = one.seat.env, one.seat.world
    page = await one.page()
    switch = {"kind": "viewer", "viewer_id": str(world.moderator.id)}

    async def driver_busy(then: asyncio.Event) -> None:
        # What the driver does while a citizen speaks or the clock moves: it holds SimCord.
        async with one.seat.driver.turn:
            env._begin_operation("a citizen's turn")
            then.set()
            await asyncio.sleep(0.3)
            env._end_operation()

    # Without waiting its turn (SimCord's own page), the action is refused: the page says "Action
    # outcome uncertain", or shows no suggestions for an autocomplete.
    busy = asyncio.Event()
    holder = asyncio.create_task(driver_busy(busy))
    await busy.wait()
    with pytest.raises(Exception, match="overlaps"):
        await type(one.seat.preview)._action(one.seat.preview, page["context"]["id"], envelope(page, switch))
    await holder

    busy.clear()
    holder = asyncio.create_task(driver_busy(busy))
    await busy.wait()
    status, answer = await one.act(page, switch)
    await holder
    assert status == 200, answer
    assert "error" not in answer, answer
    assert not answer.get("rejected"), answer


async def test_every_channel_opens_in_the_page_as_the_viewer_may_see_it(
    served: Callable[..., Awaitable[Served]],
) -> None:
    one = await served(minutes=30)
    seat, world, driver = one.seat, one.seat.world, one.seat.driver
    address = seat.url
    assert (await one.page())["channel"]["name"] == "town-square"

    assert world.visitor is not None
    # (Discord's picker, like SimCord, offers a member only the channels they can see: the visitor
    # cannot even name #bureau.)
    visits = (
        (world.visitor, world.announcements),
        (world.visitor, world.brag),
        (world.moderator, world.bureau),
    )
    for who, channel in visits:
        await driver.exclusive(
            lambda who=who, channel=channel: who.slash(world.square, "preview channel", channel=channel)
        )
        await wait_for(lambda channel=channel: seat.channel.id == channel.id)
        assert seat.url == address, "the same address shows the new channel"
        page = await one.page()
        assert page["channel"]["name"] == channel.name
        names = {viewer["username"] for viewer in page["viewers"]}
        if channel is world.bureau:
            assert names == {"warden"}
        else:
            assert {"visitor", "warden"} <= names


async def test_the_bot_is_called_citizen_score(served: Callable[..., Awaitable[Served]]) -> None:
    one = await served()
    assert one.seat.env.bot.user is not None
    assert one.seat.env.bot.user.name == "Citizen Score"


async def test_after_the_season_the_result_stays_in_the_square(
    served: Callable[..., Awaitable[Served]],
) -> None:
    one = await served(audits=2, hours=0.1, minutes=1)
    world = one.seat.world

    def over() -> bool:
        return any("The season is over" in message_text(m) for m in world.square.history())

    await wait_for(over, 120)
    final = next(m for m in reversed(world.square.history()) if "The season is over" in m.content)
    for citizen in world.citizens:
        assert citizen.name.capitalize() in final.content
    assert "/season start" in final.content


def test_the_preview_keeps_to_the_minutes_asked_for() -> None:
    # 24 audits, two ticks each: 48 ticks; 25 minutes at about 3 s a step is about 10 steps a tick.
    assert steps_per_tick(SandboxConfig(minutes=25), 48) == 10
    assert steps_per_tick(SandboxConfig(minutes=1), 48) == 1
