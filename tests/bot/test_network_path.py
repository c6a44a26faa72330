"""The real network path: ``citizen-score run`` against a Discord-compatible server on loopback.

SimCord tests the bot's behaviour with a simulated Discord inside the process. This test checks the
part SimCord replaces: that the installed command, configured only through environment variables,
logs in over HTTP, identifies on a zlib-compressed gateway websocket, syncs its slash commands, and
answers interactions through the callback route, as it would on discord.com. The server
(``tests.support.loopback``) is written from Discord's documented protocol, not from discord.py.

Run it alone with ``pytest tests/bot/test_network_path.py`` (it is marked ``slow``: ``-m slow``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from tests.support.loopback import LoopbackDiscord

pytestmark = pytest.mark.slow

T = TypeVar("T")

# Generous bounds for a loaded CI machine; every wait below is bounded by one of them.
WAIT_SECONDS = 60.0
SHUTDOWN_SECONDS = 30.0
MESSAGE_CONTENT_INTENT = 1 << 15


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    output: list[str] = field(default_factory=list)

    async def collect_output(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.output.append(line.decode(errors="replace").rstrip())

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output[-lines:])


def citizen_score_command() -> list[str]:
    """The installed console script when there is one, else the same entry point through -m."""
    script = Path(sys.executable).with_name("citizen-score")
    return [str(script), "run"] if script.exists() else [sys.executable, "-m", "bot", "run"]


async def until(bot: BotProcess, awaitable: Awaitable[T], what: str) -> T:
    """``awaitable``'s result; fails with the bot's output if the bot exits or time runs out first."""
    wanted = asyncio.ensure_future(awaitable)
    exited = asyncio.ensure_future(bot.process.wait())
    done, _ = await asyncio.wait({wanted, exited}, timeout=WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    exited.cancel()
    if wanted in done:
        return wanted.result()
    wanted.cancel()
    why = f"the bot exited with {bot.process.returncode}" if exited in done else f"{WAIT_SECONDS} s passed"
    pytest.fail(f"waiting for {what}: {why}. Bot output:\n{bot.tail()}")


@pytest.fixture
async def discord_server() -> AsyncIterator[LoopbackDiscord]:
    async with LoopbackDiscord(citizens=3) as server:
        yield server


@pytest.fixture
async def bot_process(discord_server: LoopbackDiscord, tmp_path: Path) -> AsyncIterator[BotProcess]:
    env = {
        **os.environ,
        "DISCORD_TOKEN": discord_server.token,
        "DISCORD_API_BASE": discord_server.api_base,
        "DISCORD_GATEWAY_URL": discord_server.gateway_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'citizen-score.db'}",
        "DEV_GUILD_ID": "",
        "LOG_LEVEL": "INFO",
    }
    process = await asyncio.create_subprocess_exec(
        *citizen_score_command(),
        cwd=tmp_path,  # no developer's .env is read
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    bot = BotProcess(process)
    reader = asyncio.create_task(bot.collect_output())
    try:
        yield bot
    finally:
        if process.returncode is None:
            process.kill()
            await asyncio.wait_for(process.wait(), SHUTDOWN_SECONDS)
        await asyncio.wait_for(reader, SHUTDOWN_SECONDS)


async def test_the_cli_runs_the_bot_over_the_real_protocol(
    discord_server: LoopbackDiscord, bot_process: BotProcess
) -> None:
    server = discord_server
    ana = server.guild.citizens[0]

    # Logged in through the loopback REST API, with the bot token.
    await until(bot_process, server.wait_for_request("GET", "/users/@me"), "GET /users/@me")
    # Synced its slash commands there.
    synced = await until(bot_process, server.wait_for_commands(), "the slash command sync (PUT)")
    names = {command["name"] for command in synced}
    assert {"join", "score"} <= names, f"synced commands: {sorted(names)}"
    # Identified on the loopback gateway, compressed as on Discord, asking for message content.
    session = await until(bot_process, server.wait_for_session(), "IDENTIFY on the gateway")
    assert session.compress, "discord.py asks for zlib-stream; the bot should too"
    assert session.identify is not None
    assert session.identify["token"] == server.token
    assert session.intents & MESSAGE_CONTENT_INTENT

    # A moderator (the guild owner) starts a season; a citizen joins and looks at their card.
    started = await until(
        bot_process, server.push_slash_command("season start", {"scenario": "classic"}), "/season start"
    )
    assert started.embeds, f"/season start answered without an embed: {started.message}"

    joined = await until(bot_process, server.push_slash_command("join", user=ana), "the answer to /join")
    assert not joined.ephemeral
    [welcome] = joined.embeds
    assert welcome["title"] == "Welcome, citizen #1"
    assert "600" in welcome["description"]  # the classic start score

    card = await until(bot_process, server.push_slash_command("score", user=ana), "the answer to /score")
    assert not card.ephemeral
    [embed] = card.embeds
    assert embed["title"] == f"{ana.name.title()} \N{MIDDLE DOT} Citizen #1"
    assert "600" in embed["description"]
    assert [field["name"] for field in embed["fields"]][:1] == ["Breakdown"]
    # The card image came up as a multipart upload, a PNG, and is what the embed shows.
    [upload] = [file for request in server.requests for file in request.files]
    assert upload.filename == "score-card.png"
    assert upload.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert [attachment["filename"] for attachment in card.message["attachments"]] == ["score-card.png"]
    assert embed["image"]["url"] == "attachment://score-card.png"

    # A clean shutdown on SIGTERM, as from systemd or docker stop.
    bot_process.process.send_signal(signal.SIGTERM)
    returncode = await asyncio.wait_for(bot_process.process.wait(), SHUTDOWN_SECONDS)
    assert returncode == 0, bot_process.tail()
    assert server.unknown_routes == [], f"routes the loopback server lacks: {server.unknown_routes}"
