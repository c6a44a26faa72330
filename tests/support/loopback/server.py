"""The loopback Discord: a REST API and a gateway on 127.0.0.1, and what a test does with them."""

from __future__ import annotations

import itertools
import logging
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from tests.support.loopback.gateway import BurstReport, Gateway, GatewaySession
from tests.support.loopback.interactions import InteractionReply, Interactions
from tests.support.loopback.protocol import GATEWAY_PATH, OP_RECONNECT, Snowflakes
from tests.support.loopback.recording import RecordedRequest
from tests.support.loopback.rest import RestApi
from tests.support.loopback.state import FakeChannel, FakeGuild, FakeUser
from tests.support.loopback.world import World

log = logging.getLogger(__name__)

DEFAULT_CHATTER = (
    "Good morning, neighbours. The trains ran on time again.",
    "Anyone up for a game tonight?",
    "I bought new work boots, very comfortable.",
    "Harmony in the community makes us all stronger.",
    "Has anyone read the Party newspaper today?",
    "The weather is lovely, productivity is high.",
    "lol",
    "Who is bringing snacks on Friday?",
)

GuildRef = FakeGuild | int | None


class LoopbackDiscord:
    """A Discord-compatible REST API and gateway on 127.0.0.1, on a free port.

    ``guilds`` guilds (the bot is in each), ``citizens`` members in each besides its owner and the
    bot; ``shards`` is the shard count ``GET /gateway/bot`` recommends. Guild number ``i`` lands on
    shard ``i % c`` for every shard count ``c`` up to ``max(2, shards)``. Events about a guild go to
    the sessions of its shard: a pushed event to one of them (the newest, unless ``session`` is
    given), a change made through REST to all of them.

    Use as ``async with LoopbackDiscord() as discord_server: ...`` or ``start()`` / ``close()``.
    """

    def __init__(
        self,
        *,
        token: str = "loopback-token",
        citizens: int = 20,
        guilds: int = 1,
        shards: int = 1,
        application_name: str = "Citizen Score",
    ) -> None:
        self.world = World(
            token=token, guilds=guilds, citizens=citizens, shards=shards, application_name=application_name
        )
        self.gateway = Gateway(self.world)
        self.rest = RestApi(self.world, self.gateway)
        self.interactions = Interactions(self.world)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- what the world holds --

    @property
    def token(self) -> str:
        return self.world.token

    @property
    def new_id(self) -> Snowflakes:
        return self.world.new_id

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user(self) -> FakeUser:
        return self.world.bot_user

    @property
    def guild(self) -> FakeGuild:
        """The first guild (the only one unless more were asked for)."""
        return self.world.guilds[0]

    @property
    def guilds(self) -> list[FakeGuild]:
        return self.world.guilds

    @property
    def commands(self) -> dict[int | None, list[dict[str, Any]]]:
        return self.world.commands

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.rest.requests

    @property
    def channel_messages(self) -> list[dict[str, Any]]:
        """Every message posted through ``POST /channels/{id}/messages``, in order."""
        return self.rest.channel_messages

    @property
    def sessions(self) -> list[GatewaySession]:
        return self.gateway.sessions

    def messages_in(self, channel: FakeChannel | int) -> list[dict[str, Any]]:
        """The channel's history, oldest first: pushed messages, posts, answers that were not ephemeral."""
        return self.world.messages_in(channel if isinstance(channel, int) else channel.id)

    # -- lifecycle --

    @property
    def api_base(self) -> str:
        return self.world.api_base

    @property
    def gateway_url(self) -> str:
        return self.world.gateway_url

    async def start(self) -> None:
        app = web.Application(middlewares=[self.rest.record_and_authorize])
        app.add_routes(
            [
                web.get(GATEWAY_PATH, self.gateway.handle),
                *self.rest.routes(),
                *self.interactions.routes(),
                self.rest.catch_all(),  # last: it matches every path
            ]
        )
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))  # port 0: the kernel picks a free one
        self.port = listener.getsockname()[1]
        self.world.base_url = f"http://127.0.0.1:{self.port}"
        await web.SockSite(self._runner, listener).start()
        log.info("loopback Discord listening: REST %s, gateway %s", self.api_base, self.gateway_url)

    async def close(self) -> None:
        await self.gateway.close()
        self.interactions.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LoopbackDiscord:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # -- assertions --

    def seen(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    @property
    def unknown_routes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if not r.known]

    async def wait_for_request(self, method: str, path: str) -> RecordedRequest:
        def matches(request: RecordedRequest) -> bool:
            return request.method == method and request.path == path

        request: RecordedRequest = await self.rest.waiters.wait(self.requests, matches)
        return request

    async def wait_for_commands(self) -> list[dict[str, Any]]:
        """The first command sync (PUT), global or guild; returns the synced commands."""

        def is_sync(request: RecordedRequest) -> bool:
            return request.method == "PUT" and request.path.endswith("/commands")

        request: RecordedRequest = await self.rest.waiters.wait(self.requests, is_sync)
        return list(request.body or [])

    async def wait_for_session(self, *, count: int = 1, shard: int | None = None) -> GatewaySession:
        """The ``count``-th session to IDENTIFY (1 = the first), of shard ``shard`` if given, once its
        READY and GUILD_CREATEs are sent."""
        return await self.gateway.wait_for_session(count=count, shard=shard)

    def current_session(self, guild: GuildRef = None) -> GatewaySession:
        """The newest open session that hears about ``guild`` (default: the first guild)."""
        return self.gateway.session_for(self.world.guild(guild))

    def _session_for(self, guild: FakeGuild, session: GatewaySession | None) -> GatewaySession:
        if session is None:
            return self.gateway.session_for(guild)
        if not session.covers(guild.id):
            raise LookupError(f"guild {guild.id} is not on shard {session.shard} of that session")
        return session

    # -- pushing events --
    # The waits below last as long as it takes: bound them with ``asyncio.wait_for``.

    async def push_message_create(
        self,
        count: int,
        *,
        authors: Sequence[FakeUser] | None = None,
        channel_id: int | None = None,
        contents: Sequence[str] = DEFAULT_CHATTER,
        guild: GuildRef = None,
        session: GatewaySession | None = None,
    ) -> BurstReport:
        """Send ``count`` MESSAGE_CREATE events as fast as the socket takes them.

        The guild is ``guild``, else the one of ``channel_id``, else the first; the channel defaults
        to its game channel. Authors and contents are used in turn. All payloads are built,
        serialised and compressed first, so ``BurstReport.started_at`` marks the moment the first
        frame goes out. The messages stay in the channel's history.
        """
        where, channel = self.world.locate(guild, channel_id)
        session = self._session_for(where, session)
        authors = list(authors or where.citizens)
        payloads = []
        turns = zip(itertools.islice(itertools.cycle(authors), count), itertools.cycle(contents))
        for author, content in turns:
            message = self.world.message_payload(author, where, channel.id, content)
            self.world.remember(message)
            payloads.append(message | {"member": where.members[author.id].payload(with_user=False)})
        started, started_cpu, finished, size = await session.dispatch_burst("MESSAGE_CREATE", payloads)
        first, last = (int(payloads[0]["id"]), int(payloads[-1]["id"])) if payloads else (0, 0)
        return BurstReport(count, started, started_cpu, finished, size, (first, last))

    async def push_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        user: FakeUser | None = None,
        *,
        channel_id: int | None = None,
        guild: GuildRef = None,
        session: GatewaySession | None = None,
    ) -> InteractionReply:
        """Run a synced slash command as ``user`` (default: the guild's owner) and await the answer.

        ``name`` may name a subcommand: ``"season start"``. ``options`` maps option names to values;
        users, channels and roles may be given as ``FakeUser``/``FakeChannel``/``FakeRole`` or IDs.
        When the bot defers, this waits for its edit of the original response or its first follow-up.
        """
        where, channel = self.world.locate(guild, channel_id)
        session = self._session_for(where, session)
        return await self.interactions.push(
            session, where, channel, user or where.owner, name, dict(options or {})
        )

    async def request_reconnect(self, session: GatewaySession | None = None) -> None:
        """Ask the client to reconnect (op 7): it will try to RESUME, which this server refuses."""
        await (session or self.current_session()).send(OP_RECONNECT, None)
