"""The loopback Discord itself, against plain discord.py clients and a raw websocket (no bot process).

Sharding as Discord does it: each shard's session hears only of its guilds; channel history and
role changes as a bot running in several processes relies on them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import yarl

from tests.support.loopback import FakeGuild, LoopbackDiscord, shard_of

# Generous bounds for a loaded machine; every wait below is bounded by one of them.
WAIT_SECONDS = 30.0
CLOSE_INVALID_SHARD = 4010


class Client(discord.AutoShardedClient):
    """A plain discord.py client that keeps the messages it is told about."""

    def __init__(self, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.members = True
        intents.message_content = True
        # Guilds arrive right after READY here; waiting the default 2 s for more only slows the tests.
        super().__init__(intents=intents, guild_ready_timeout=1.0, **options)
        self.messages: list[discord.Message] = []

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s between two shards' IDENTIFYs (max_concurrency 1); the loopback
        # server announces that limit but does not enforce it, so the tests need not wait.
        return None

    async def on_message(self, message: discord.Message) -> None:
        self.messages.append(message)


@pytest.fixture
def point_discord_py_at(monkeypatch: pytest.MonkeyPatch) -> Any:
    def point(server: LoopbackDiscord) -> None:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))

    return point


@contextlib.asynccontextmanager
async def connected(client: Client, server: LoopbackDiscord) -> AsyncIterator[Client]:
    runner = asyncio.create_task(client.start(server.token))
    ready = asyncio.ensure_future(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait(
            {runner, ready}, timeout=WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        if runner in done:
            runner.result()
        assert ready in done, f"the client was not ready after {WAIT_SECONDS} s"
        yield client
    finally:
        ready.cancel()
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(runner, WAIT_SECONDS)


async def received(client: Client, content: str) -> discord.Message:
    """The message with ``content``, already received or the next to come."""
    for message in client.messages:
        if message.content == content:
            return message
    # wait_for registers its listener when called, before anything else can run: nothing is missed.
    awaited: discord.Message = await client.wait_for(
        "message", check=lambda m: m.content == content, timeout=WAIT_SECONDS
    )
    return awaited


# --- guild IDs and the raw gateway ------------------------------------------------------------------


def test_guild_number_i_lands_on_shard_i_modulo_each_count() -> None:
    server = LoopbackDiscord(guilds=5, shards=4, citizens=1)
    for count in range(1, 5):
        assert [shard_of(guild.id, count) for guild in server.guilds] == [i % count for i in range(5)]
    assert len({guild.id for guild in server.guilds}) == 5
    assert shard_of(server.new_id.on_shard(5, 7), 7) == 5


Dispatches = list[dict[str, Any]]


async def identify(server: LoopbackDiscord, shard: list[int] | None) -> tuple[Dispatches, int | None]:
    """IDENTIFY over a raw websocket; the dispatches received until the guilds are sent, or the close code."""
    data: dict[str, Any] = {"token": server.token, "intents": 0, "properties": {}}
    if shard is not None:
        data["shard"] = shard
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{server.gateway_url}?v=10") as ws:
        hello = await ws.receive_json(timeout=WAIT_SECONDS)
        assert hello["op"] == 10
        await ws.send_json({"op": 2, "d": data})
        dispatches: Dispatches = []
        while True:
            frame = await ws.receive(timeout=WAIT_SECONDS)
            if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                return dispatches, ws.close_code
            dispatches.append(frame.json())
            ready = dispatches[0]["d"]
            if len(dispatches) == 1 + len(ready["guilds"]):
                return dispatches, None


async def test_a_session_hears_only_of_its_shards_guilds() -> None:
    async with LoopbackDiscord(guilds=3, citizens=1) as server:
        dispatches, closed = await identify(server, [1, 2])
    assert closed is None
    ready, *creates = dispatches
    assert ready["t"] == "READY"
    assert ready["d"]["shard"] == [1, 2]
    assert [guild["id"] for guild in ready["d"]["guilds"]] == [str(server.guilds[1].id)]
    assert [(c["t"], c["d"]["id"]) for c in creates] == [("GUILD_CREATE", str(server.guilds[1].id))]


@pytest.mark.parametrize("shard", [None, [0, 1]])
async def test_without_sharding_a_session_hears_of_every_guild(shard: list[int] | None) -> None:
    async with LoopbackDiscord(guilds=3, citizens=1) as server:
        dispatches, closed = await identify(server, shard)
    assert closed is None
    ready, *creates = dispatches
    assert ready["d"]["shard"] == [0, 1]
    assert [c["d"]["id"] for c in creates] == [str(guild.id) for guild in server.guilds]


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0]])
async def test_an_impossible_shard_is_refused(shard: list[int]) -> None:
    async with LoopbackDiscord(guilds=2, citizens=1) as server:
        dispatches, closed = await identify(server, shard)
    assert (dispatches, closed) == ([], CLOSE_INVALID_SHARD)


# --- discord.py's sharded clients -------------------------------------------------------------------


def sessions_by_shard(server: LoopbackDiscord) -> dict[int, Any]:
    return {session.shard[0]: session for session in server.gateway.identified}


async def test_an_auto_sharded_client_gets_each_guild_on_its_shard_only(point_discord_py_at: Any) -> None:
    async with LoopbackDiscord(guilds=2, citizens=2) as server:
        point_discord_py_at(server)
        async with connected(Client(shard_count=2), server) as client:
            by_shard = sessions_by_shard(server)
            assert sorted(session.shard for session in by_shard.values()) == [(0, 2), (1, 2)]
            for shard_id, guild in enumerate(server.guilds):
                assert by_shard[shard_id].events_about(guild.id) == ["GUILD_CREATE"]
                assert by_shard[1 - shard_id].events_about(guild.id) == []
            assert sorted(g.id for g in client.guilds) == sorted(g.id for g in server.guilds)
            assert {g.id: g.shard_id for g in client.guilds} == {g.id: i for i, g in enumerate(server.guilds)}

            for number, guild in enumerate(server.guilds):
                await server.push_message_create(1, guild=guild, contents=[f"to guild {number}"])
            for number, guild in enumerate(server.guilds):
                message = await received(client, f"to guild {number}")
                assert message.guild is not None
                assert (message.guild.id, message.channel.id) == (guild.id, guild.game_channel.id)
            for shard_id, guild in enumerate(server.guilds):
                messages = [about for event, about in by_shard[shard_id].events if event == "MESSAGE_CREATE"]
                assert messages == [guild.id], f"shard {shard_id}"
            assert len(client.messages) == 2
        assert server.unknown_routes == []


async def test_a_client_without_a_shard_count_takes_the_recommended_one(point_discord_py_at: Any) -> None:
    async with LoopbackDiscord(guilds=2, shards=2, citizens=1) as server:
        point_discord_py_at(server)
        async with connected(Client(), server) as client:
            assert client.shard_count == 2
            assert sorted(session.shard for session in server.gateway.identified) == [(0, 2), (1, 2)]
            limits = await client.fetch_session_start_limits()
            assert (limits.max_concurrency, limits.total - limits.remaining) == (1, 2)
        assert len(server.seen("GET", "/gateway/bot")) == 2


async def test_two_processes_with_one_shard_each_get_their_own_guilds(point_discord_py_at: Any) -> None:
    async with LoopbackDiscord(guilds=2, citizens=1) as server:
        first, second = server.guilds
        point_discord_py_at(server)
        async with (
            connected(Client(shard_ids=[0], shard_count=2), server) as zero,
            connected(Client(shard_ids=[1], shard_count=2), server) as one,
        ):
            assert [g.id for g in zero.guilds] == [first.id]
            assert [g.id for g in one.guilds] == [second.id]

            # Each socket delivers in order: had a message for the other guild come down this socket,
            # it would be here before the one pushed after it.
            await server.push_message_create(1, guild=second, contents=["for shard one"])
            await server.push_message_create(1, guild=first, contents=["for shard zero"])
            await received(one, "for shard one")
            await received(zero, "for shard zero")
            assert [m.content for m in zero.messages] == ["for shard zero"]
            assert [m.content for m in one.messages] == ["for shard one"]

            with pytest.raises(LookupError):
                await server.push_message_create(1, guild=first, session=server.current_session(second))


# --- what a bot reads and changes through REST ------------------------------------------------------


def text_channel(client: Client, guild: FakeGuild) -> discord.TextChannel:
    channel = client.get_channel(guild.game_channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_posted_messages_are_kept_and_read_back_newest_first(point_discord_py_at: Any) -> None:
    async with LoopbackDiscord(citizens=3) as server:
        point_discord_py_at(server)
        async with connected(Client(), server) as client:
            channel = text_channel(client, server.guild)
            pushed = await server.push_message_create(150, channel_id=channel.id, contents=["chatter"])
            sent = [await channel.send(word) for word in ("one", "two", "three")]

            newest = [m.content async for m in channel.history(limit=2)]
            assert newest == ["three", "two"]
            everything = [m async for m in channel.history(limit=None)]  # pages of 100, with before=
            assert [m.id for m in everything] == sorted((m.id for m in everything), reverse=True)
            assert [m.content for m in everything[:3]] == ["three", "two", "one"]
            assert len(everything) == 153
            assert everything[-1].id == pushed.message_ids[0]
            assert everything[0].author.id == server.bot_user.id

            before = [m.content async for m in channel.history(limit=2, before=sent[2])]
            assert before == ["two", "one"]
            last_pushed = discord.Object(pushed.message_ids[1])
            after = [m.id async for m in channel.history(limit=3, after=last_pushed)]
            assert after == [m.id for m in sent]  # oldest first, as discord.py asks with ``after``

        path = f"/channels/{channel.id}/messages"
        assert [(r.body["content"], r.status) for r in server.seen("POST", path)] == [
            ("one", 200),
            ("two", 200),
            ("three", 200),
        ]
        assert [m["content"] for m in server.channel_messages] == ["one", "two", "three"]
        assert [m["content"] for m in server.messages_in(channel.id)][-3:] == ["one", "two", "three"]


async def test_history_refuses_a_limit_discord_refuses() -> None:
    async with LoopbackDiscord(citizens=1) as server, aiohttp.ClientSession() as http:
        url = f"{server.api_base}/channels/{server.guild.game_channel.id}/messages"
        headers = {"Authorization": f"Bot {server.token}"}
        for limit, status in (("100", 200), ("101", 400), ("0", 400)):
            async with http.get(url, params={"limit": limit}, headers=headers) as response:
                assert response.status == status, limit
        async with http.get(f"{server.api_base}/channels/1/messages", headers=headers) as response:
            assert response.status == 404
        async with http.get(f"{server.api_base}/no/such/route", headers=headers) as response:
            assert response.status == 404
    assert [r.path for r in server.unknown_routes] == ["/no/such/route"]


async def test_role_changes_reach_the_member_and_the_guilds_shard(point_discord_py_at: Any) -> None:
    async with LoopbackDiscord(guilds=2, citizens=2) as server:
        second = server.guilds[1]
        tier = second.add_role(server.new_id(), "Model Citizen", position=2)
        above = second.add_role(server.new_id(), "Above the bot", position=11)
        citizen = second.citizens[0]
        point_discord_py_at(server)
        async with connected(Client(shard_count=2), server) as client:
            guild = client.get_guild(second.id)
            assert guild is not None
            member = guild.get_member(citizen.id)
            assert member is not None
            role, high_role = guild.get_role(tier.id), guild.get_role(above.id)
            assert role is not None
            assert high_role is not None

            updated = asyncio.ensure_future(client.wait_for("member_update", timeout=WAIT_SECONDS))
            await member.add_roles(role)
            _, after = await updated
            assert role in after.roles
            assert tier.id in second.members[citizen.id].role_ids

            updated = asyncio.ensure_future(client.wait_for("member_update", timeout=WAIT_SECONDS))
            await member.remove_roles(role)
            _, after = await updated
            assert role not in after.roles
            assert second.members[citizen.id].role_ids == ()

            with pytest.raises(discord.Forbidden):
                await member.add_roles(high_role)
            assert second.members[citizen.id].role_ids == ()

            by_shard = sessions_by_shard(server)
            updates = ["GUILD_MEMBER_UPDATE"] * 2
            assert [e for e in by_shard[1].events_about(second.id) if e != "GUILD_CREATE"] == updates
            assert "GUILD_MEMBER_UPDATE" not in [event for event, _ in by_shard[0].events]

        role_path = f"/guilds/{second.id}/members/{citizen.id}/roles"
        assert [(r.method, r.path, r.status) for r in server.requests if r.path.startswith(role_path)] == [
            ("PUT", f"{role_path}/{tier.id}", 204),
            ("DELETE", f"{role_path}/{tier.id}", 204),
            ("PUT", f"{role_path}/{above.id}", 403),
        ]
