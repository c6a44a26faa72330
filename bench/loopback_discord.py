"""A small Discord-compatible server on 127.0.0.1, for tests and benchmarks.

It speaks the parts of Discord's HTTP API v10 and gateway v10 that a bot touches between
``bot.start(token)`` and answering a slash command, written from the protocol, not from discord.py:

* REST: ``GET /users/@me``, ``GET /gateway`` and ``/gateway/bot``, ``GET /oauth2/applications/@me``,
  application commands (global and guild, ``PUT``/``GET``, recorded), the interaction callback,
  the webhook routes an interaction answers through, ``POST /channels/{id}/messages``, and a
  catch-all that records any other route and answers a 404 JSON error, so a client never hangs.
* Gateway: HELLO, IDENTIFY -> READY and one GUILD_CREATE (channels, roles, members), heartbeat ACKs,
  RESUME refused with INVALID_SESSION, REQUEST_GUILD_MEMBERS answered, and the ``zlib-stream``
  transport compression discord.py asks for (one zlib stream per connection, each payload ending
  in a ``Z_SYNC_FLUSH``), as the real gateway sends it.

Tests drive it with :meth:`LoopbackDiscord.push_message_create` (a burst of MESSAGE_CREATE events,
encoded before the first is sent so that encoding is not timed) and
:meth:`LoopbackDiscord.push_slash_command` (an INTERACTION_CREATE for a synced command, awaiting the
bot's answer on the callback route), and assert on :attr:`LoopbackDiscord.requests`. The ``wait_for_*``
and ``push_slash_command`` coroutines wait as long as it takes: bound them with ``asyncio.wait_for``.

Point a bot at it with ``api_base`` (for ``discord.http.Route.BASE``) and ``gateway_url`` (for
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``). ``python -m bench.loopback_discord`` runs
one in the foreground, for trying a bot by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/"
HEARTBEAT_INTERVAL_MS = 41_250
DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_DECODE_ERROR = 4002

# Permission bits used to build the guild (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
)

# Interaction types and callback types.
INTERACTION_APPLICATION_COMMAND = 2
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
MESSAGE_FLAG_EPHEMERAL = 1 << 6

# Application command option types.
OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_MENTIONABLE = 9
OPTION_NUMBER = 10

CHANNEL_GUILD_TEXT = 0

# What the recording middleware read from a request, handed to the route handlers.
BODY = web.RequestKey[Any]("body")
FILES = web.RequestKey[tuple["Upload", ...]]("files")

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


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class Snowflakes:
    """Unique, time-ordered Discord IDs, as the real API mints them."""

    def __init__(self) -> None:
        self._increment = itertools.count()

    def __call__(self) -> int:
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (millis << 22) | (next(self._increment) & 0x3FFFFF)


# --- the guild the bot finds itself in -------------------------------------------------------------


@dataclass(frozen=True)
class FakeUser:
    id: int
    name: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": None if self.bot else self.name.title(),
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(frozen=True)
class FakeMember:
    user: FakeUser
    role_ids: tuple[int, ...]
    joined_at: datetime

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(role_id) for role_id in self.role_ids],
            "joined_at": _iso(self.joined_at),
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass(frozen=True)
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }


@dataclass(frozen=True)
class FakeChannel:
    id: int
    name: str
    position: int

    def payload(self, guild_id: int) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": CHANNEL_GUILD_TEXT,
            "guild_id": str(guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass
class FakeGuild:
    """One guild: an owner (who has every permission, so acts as the Bureau), citizens, the bot."""

    id: int
    name: str
    owner: FakeUser
    bot_user: FakeUser
    citizens: list[FakeUser]
    roles: dict[str, FakeRole]
    channels: dict[str, FakeChannel]
    members: dict[int, FakeMember]
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def build(cls, new_id: Callable[[], int], bot_user: FakeUser, *, citizens: int = 20) -> FakeGuild:
        guild_id = new_id()
        now = datetime.now(UTC)
        roles = {
            "@everyone": FakeRole(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0),
            "Bureau": FakeRole(new_id(), "Bureau", EVERYONE_PERMISSIONS | MANAGE_GUILD, 1),
            # The bot's integration role, placed on top so it may manage the tier roles below it.
            bot_user.name: FakeRole(new_id(), bot_user.name, ADMINISTRATOR | MANAGE_ROLES, 10, managed=True),
        }
        channels = {
            name: FakeChannel(new_id(), name, position)
            for position, name in enumerate(("general", "town-square", "announcements", "bureau", "brag"))
        }
        owner = FakeUser(new_id(), "chairman")
        people = [FakeUser(new_id(), f"citizen{i:03d}") for i in range(citizens)]
        members = {owner.id: FakeMember(owner, (roles["Bureau"].id,), now)}
        members |= {person.id: FakeMember(person, (), now) for person in people}
        members[bot_user.id] = FakeMember(bot_user, (roles[bot_user.name].id,), now)
        return cls(guild_id, "Loopback Commons", owner, bot_user, people, roles, channels, members)

    @property
    def game_channel(self) -> FakeChannel:
        return self.channels["town-square"]

    def channel(self, channel_id: int | None) -> FakeChannel:
        if channel_id is None:
            return self.game_channel
        for channel in self.channels.values():
            if channel.id == channel_id:
                return channel
        raise LookupError(f"no channel {channel_id} in the loopback guild")

    def role(self, role_id: int) -> FakeRole:
        for role in self.roles.values():
            if role.id == role_id:
                return role
        raise LookupError(f"no role {role_id} in the loopback guild")

    def permissions_of(self, user_id: int) -> int:
        if user_id == self.owner.id:
            return ALL_PERMISSIONS
        member = self.members[user_id]
        permissions = self.roles["@everyone"].permissions
        for role_id in member.role_ids:
            permissions |= self.role(role_id).permissions
        return ALL_PERMISSIONS if permissions & ADMINISTRATOR else permissions

    def create_payload(self) -> dict[str, Any]:
        """The GUILD_CREATE event data, as sent to a bot with the members intent."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": str(self.channels["general"].id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "features": [],
            "roles": [role.payload() for role in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [channel.payload(self.id) for channel in self.channels.values()],
            "threads": [],
            "members": [member.payload() for member in self.members.values()],
            # Equal to len(members): the client sees the member list as complete ("chunked").
            "member_count": len(self.members),
            "large": False,
            "unavailable": False,
            "joined_at": _iso(self.created_at),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


# --- what the server saw ------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the /api/v10 prefix, e.g. "/users/@me"
    query: Mapping[str, str]
    body: Any  # the JSON body (or a multipart request's payload_json), None when empty
    files: tuple[Upload, ...] = ()  # the files of a multipart upload
    known: bool = True  # False when the catch-all answered 404


@dataclass(frozen=True)
class BurstReport:
    """What :meth:`LoopbackDiscord.push_message_create` sent, and when (``time.perf_counter``)."""

    count: int
    started_at: float  # just before the first frame was written
    started_cpu: float  # this process's CPU time (time.process_time) at that moment
    finished_at: float  # after the last frame was written (the client may still be reading)
    bytes_sent: int
    message_ids: tuple[int, int]  # first and last


@dataclass
class InteractionReply:
    """The bot's answer to one pushed interaction."""

    interaction_id: int
    token: str
    callback_type: int
    message: dict[str, Any]  # the original response as it stands (after a deferral, the edit)
    followups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def embeds(self) -> list[dict[str, Any]]:
        embeds: list[dict[str, Any]] = self.message.get("embeds") or []
        return embeds

    @property
    def content(self) -> str:
        return str(self.message.get("content") or "")

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.message.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL)


@dataclass
class _PendingInteraction:
    interaction_id: int
    token: str
    channel_id: int
    callback: asyncio.Future[dict[str, Any]]
    answered: asyncio.Event  # set when a message (not only a deferral) exists
    original: dict[str, Any] | None = None
    loading: bool = False  # deferred, and not yet edited or followed up
    followups: list[dict[str, Any]] = field(default_factory=list)


class _Waiters:
    """Futures resolved by the first item matching their predicate, past or future."""

    def __init__(self) -> None:
        self._waiting: list[tuple[Callable[[Any], bool], asyncio.Future[Any]]] = []

    def notify(self, item: Any) -> None:
        still_waiting = []
        for predicate, future in self._waiting:
            if future.done():
                continue
            if predicate(item):
                future.set_result(item)
            else:
                still_waiting.append((predicate, future))
        self._waiting = still_waiting

    async def wait(self, history: Iterable[Any], predicate: Callable[[Any], bool]) -> Any:
        for item in history:
            if predicate(item):
                return item
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((predicate, future))
        return await future


# --- the gateway --------------------------------------------------------------------------------


class GatewaySession:
    """One websocket connection: its zlib stream, its sequence numbers, its IDENTIFY."""

    def __init__(self, ws: web.WebSocketResponse, *, compress: bool, session_id: str) -> None:
        self.ws = ws
        self.session_id = session_id
        self.compress = compress
        self.identify: dict[str, Any] | None = None
        self.sequence = 0
        self.received: list[dict[str, Any]] = []
        self._deflate = zlib.compressobj() if compress else None
        # Frames of one zlib stream must reach the client in the order they were compressed.
        self._send_lock = asyncio.Lock()

    @property
    def intents(self) -> int:
        return int((self.identify or {}).get("intents", 0))

    @property
    def open(self) -> bool:
        return not self.ws.closed

    def _encode(self, op: int, data: Any, event: str | None = None) -> bytes | str:
        payload: dict[str, Any] = {"op": op, "d": data, "s": None, "t": event}
        if op == OP_DISPATCH:
            self.sequence += 1
            payload["s"] = self.sequence
        text = json.dumps(payload, separators=(",", ":"))
        if self._deflate is None:
            return text
        return self._deflate.compress(text.encode()) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    async def _write(self, frame: bytes | str) -> None:
        if isinstance(frame, bytes):
            await self.ws.send_bytes(frame)
        else:
            await self.ws.send_str(frame)

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        async with self._send_lock:
            await self._write(self._encode(op, data, event))

    async def dispatch(self, event: str, data: Any) -> None:
        await self.send(OP_DISPATCH, data, event)

    async def dispatch_burst(self, event: str, payloads: Sequence[Any]) -> tuple[float, float, float, int]:
        """Send many events back to back; encoding and compressing are done before the clocks start.

        Returns the wall clock (``perf_counter``) and this process's CPU clock (``process_time``) at
        the first frame, the wall clock after the last, and the bytes sent.
        """
        async with self._send_lock:
            frames = [self._encode(OP_DISPATCH, data, event) for data in payloads]
            started, started_cpu = time.perf_counter(), time.process_time()
            for frame in frames:
                await self._write(frame)
            finished = time.perf_counter()
        return started, started_cpu, finished, sum(len(frame) for frame in frames)


# --- the server ---------------------------------------------------------------------------------


class LoopbackDiscord:
    """A Discord-compatible REST API and gateway on 127.0.0.1, on a free port.

    Use as ``async with LoopbackDiscord() as discord_server: ...`` or ``start()`` / ``close()``.
    """

    def __init__(
        self,
        *,
        token: str = "loopback-token",
        citizens: int = 20,
        application_name: str = "Citizen Score",
    ) -> None:
        self.token = token
        self.new_id = Snowflakes()
        self.application_id = self.new_id()
        # Like every application created since 2020, the bot user shares the application's ID.
        self.bot_user = FakeUser(self.application_id, application_name, bot=True)
        self.guild = FakeGuild.build(self.new_id, self.bot_user, citizens=citizens)

        self.requests: list[RecordedRequest] = []
        self.sessions: list[GatewaySession] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self.channel_messages: list[dict[str, Any]] = []  # POST /channels/{id}/messages

        self._request_waiters = _Waiters()
        self._session_waiters = _Waiters()
        self._interactions: dict[str, _PendingInteraction] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle --

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record_and_authorize])
        api = API_PREFIX
        app.add_routes(
            [
                web.get(GATEWAY_PATH, self._gateway),
                web.get(f"{api}/users/@me", self._current_user),
                web.get(f"{api}/gateway", self._get_gateway),
                web.get(f"{api}/gateway/bot", self._get_gateway_bot),
                web.get(f"{api}/oauth2/applications/@me", self._application_info),
                web.get(f"{api}/applications/@me", self._application_info),
                web.put(f"{api}/applications/{{app}}/commands", self._put_commands),
                web.get(f"{api}/applications/{{app}}/commands", self._get_commands),
                web.put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._put_commands),
                web.get(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._get_commands),
                web.post(f"{api}/interactions/{{id}}/{{token}}/callback", self._interaction_callback),
                web.get(f"{api}/webhooks/{{app}}/{{token}}/messages/@original", self._get_original),
                web.patch(f"{api}/webhooks/{{app}}/{{token}}/messages/@original", self._edit_original),
                web.delete(f"{api}/webhooks/{{app}}/{{token}}/messages/@original", self._delete_original),
                web.post(f"{api}/webhooks/{{app}}/{{token}}", self._followup),
                web.post(f"{api}/channels/{{channel}}/messages", self._channel_message),
                web.route("*", "/{tail:.*}", self._unknown_route),
            ]
        )
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))  # port 0: the kernel picks a free one
        self.port = listener.getsockname()[1]
        await web.SockSite(self._runner, listener).start()
        log.info("loopback Discord listening: REST %s, gateway %s", self.api_base, self.gateway_url)

    async def close(self) -> None:
        for session in self.sessions:
            if session.open:
                await session.ws.close()
        for pending in self._interactions.values():
            if not pending.callback.done():
                pending.callback.cancel()
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

        request: RecordedRequest = await self._request_waiters.wait(self.requests, matches)
        return request

    async def wait_for_commands(self) -> list[dict[str, Any]]:
        """The first command sync (PUT), global or guild; returns the synced commands."""

        def is_sync(request: RecordedRequest) -> bool:
            return request.method == "PUT" and request.path.endswith("/commands")

        request: RecordedRequest = await self._request_waiters.wait(self.requests, is_sync)
        return list(request.body or [])

    async def wait_for_session(self, *, count: int = 1) -> GatewaySession:
        """The ``count``-th session to IDENTIFY (1 = the first), once READY and GUILD_CREATE are sent."""

        def is_nth(_session: GatewaySession) -> bool:
            return len([s for s in self.sessions if s.identify is not None]) >= count

        await self._session_waiters.wait(self.sessions, is_nth)
        return [s for s in self.sessions if s.identify is not None][count - 1]

    def current_session(self) -> GatewaySession:
        for session in reversed(self.sessions):
            if session.open and session.identify is not None:
                return session
        raise LookupError("no bot is connected to the loopback gateway")

    # -- pushing events --

    async def push_message_create(
        self,
        count: int,
        *,
        authors: Sequence[FakeUser] | None = None,
        channel_id: int | None = None,
        contents: Sequence[str] = DEFAULT_CHATTER,
        session: GatewaySession | None = None,
    ) -> BurstReport:
        """Send ``count`` MESSAGE_CREATE events as fast as the socket takes them.

        Authors and contents are used in turn. All payloads are built, serialised and compressed
        first, so ``BurstReport.started_at`` marks the moment the first frame goes out.
        """
        session = session or self.current_session()
        channel = self.guild.channel(channel_id)
        authors = list(authors or self.guild.citizens)
        payloads = []
        turns = zip(itertools.islice(itertools.cycle(authors), count), itertools.cycle(contents))
        for author, content in turns:
            message = self._message_payload(author, channel.id, content)
            message["member"] = self.guild.members[author.id].payload(with_user=False)
            payloads.append(message)
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
        session: GatewaySession | None = None,
    ) -> InteractionReply:
        """Run a synced slash command as ``user`` (default: the guild owner) and await the answer.

        ``name`` may name a subcommand: ``"season start"``. ``options`` maps option names to values;
        users, channels and roles may be given as ``FakeUser``/``FakeChannel``/``FakeRole`` or IDs.
        When the bot defers, this waits for its edit of the original response or its first follow-up.
        """
        session = session or self.current_session()
        user = user or self.guild.owner
        channel = self.guild.channel(channel_id)
        words = name.split()
        command = self._find_command(words[0])
        resolved: dict[str, dict[str, Any]] = {}
        data: dict[str, Any] = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "options": self._build_options(command, words[1:], dict(options or {}), resolved),
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved

        interaction_id, token = self.new_id(), f"interaction-{secrets.token_urlsafe(24)}"
        loop = asyncio.get_running_loop()
        pending = _PendingInteraction(
            interaction_id, token, channel.id, loop.create_future(), asyncio.Event()
        )
        self._interactions[token] = pending
        await session.dispatch(
            "INTERACTION_CREATE",
            {
                "id": str(interaction_id),
                "application_id": str(self.application_id),
                "type": INTERACTION_APPLICATION_COMMAND,
                "data": data,
                "guild_id": str(self.guild.id),
                "guild": {"id": str(self.guild.id), "locale": "en-US", "features": []},
                "channel_id": str(channel.id),
                "channel": channel.payload(self.guild.id),
                "member": self.guild.members[user.id].payload()
                | {"permissions": str(self.guild.permissions_of(user.id))},
                "token": token,
                "version": 1,
                "app_permissions": str(self.guild.permissions_of(self.bot_user.id)),
                "locale": "en-US",
                "guild_locale": "en-US",
                "entitlements": [],
                "authorizing_integration_owners": {"0": str(self.guild.id)},
                "context": 0,
                "attachment_size_limit": 26_214_400,
            },
        )
        callback = await pending.callback
        await pending.answered.wait()
        return InteractionReply(
            interaction_id, token, int(callback["type"]), dict(pending.original or {}), pending.followups
        )

    async def request_reconnect(self, session: GatewaySession | None = None) -> None:
        """Ask the client to reconnect (op 7): it will try to RESUME, which this server refuses."""
        await (session or self.current_session()).send(OP_RECONNECT, None)

    # -- building payloads --

    def _message_payload(
        self,
        author: FakeUser,
        channel_id: int,
        content: str,
        *,
        embeds: list[dict[str, Any]] | None = None,
        attachments: Sequence[Upload] = (),
        flags: int = 0,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        message_id = self.new_id()
        return {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(self.guild.id),
            "author": author.payload(),
            "content": content,
            "timestamp": _iso(snowflake_time(message_id)),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [
                {
                    "id": str(self.new_id()),
                    "filename": upload.filename,
                    "size": len(upload.data),
                    "content_type": upload.content_type,
                    "url": f"http://127.0.0.1:{self.port}/attachments/{upload.filename}",
                    "proxy_url": f"http://127.0.0.1:{self.port}/attachments/{upload.filename}",
                }
                for upload in attachments
            ],
            "embeds": embeds or [],
            "pinned": False,
            "type": 0,
            "flags": flags,
            "components": [],
        } | dict(extra or {})

    def _find_command(self, name: str) -> dict[str, Any]:
        for scope in (self.guild.id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        synced = sorted(c["name"] for commands in self.commands.values() for c in commands)
        raise LookupError(f"/{name} was not synced; synced commands: {synced}")

    def _build_options(
        self,
        definition: Mapping[str, Any],
        path: list[str],
        values: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        known = {option["name"]: option for option in definition.get("options") or []}
        if path:
            sub = known.get(path[0])
            if sub is None or sub["type"] not in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP):
                raise LookupError(
                    f"{definition['name']} has no subcommand {path[0]!r}; it has {sorted(known)}"
                )
            return [
                {
                    "type": sub["type"],
                    "name": sub["name"],
                    "options": self._build_options(sub, path[1:], values, resolved),
                }
            ]
        unknown = set(values) - set(known)
        if unknown:
            raise LookupError(f"{definition['name']} has no option {sorted(unknown)}; it has {sorted(known)}")
        return [
            {
                "type": known[key]["type"],
                "name": key,
                "value": self._option_value(known[key], value, resolved),
            }
            for key, value in values.items()
        ]

    def _option_value(
        self, option: Mapping[str, Any], value: Any, resolved: dict[str, dict[str, Any]]
    ) -> Any:
        """The option's wire value; users, channels and roles also go into ``resolved``, as Discord does."""
        kind = option["type"]
        if kind not in (OPTION_USER, OPTION_CHANNEL, OPTION_ROLE, OPTION_MENTIONABLE):
            converters: dict[int, Callable[[Any], Any]] = {
                OPTION_STRING: str,
                OPTION_INTEGER: int,
                OPTION_BOOLEAN: bool,
                OPTION_NUMBER: float,
            }
            return converters.get(kind, lambda v: v)(value)
        snowflake = value.id if isinstance(value, FakeUser | FakeChannel | FakeRole) else int(value)
        if kind == OPTION_CHANNEL:
            channel = self.guild.channel(snowflake)
            resolved.setdefault("channels", {})[str(snowflake)] = channel.payload(self.guild.id) | {
                "permissions": str(ALL_PERMISSIONS)
            }
        elif snowflake in self.guild.members and kind != OPTION_ROLE:
            member = self.guild.members[snowflake]
            resolved.setdefault("users", {})[str(snowflake)] = member.user.payload()
            resolved.setdefault("members", {})[str(snowflake)] = member.payload(with_user=False) | {
                "permissions": str(self.guild.permissions_of(snowflake))
            }
        elif kind == OPTION_USER:
            raise LookupError(f"no member {snowflake} in the loopback guild")
        else:
            resolved.setdefault("roles", {})[str(snowflake)] = self.guild.role(snowflake).payload()
        return str(snowflake)

    # -- HTTP plumbing --

    @web.middleware
    async def _record_and_authorize(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.path == GATEWAY_PATH:
            response: web.StreamResponse = await handler(request)
            return response
        body, files = await _read_body(request)
        path = request.path.removeprefix(API_PREFIX)
        known = request.match_info.route.handler != self._unknown_route
        recorded = RecordedRequest(request.method, path, dict(request.query), body, files, known)
        self.requests.append(recorded)
        log.debug("%s %s", request.method, path)
        # Interaction and webhook routes are authorised by their token in the path, not the bot token.
        needs_bot_token = not path.startswith(("/interactions/", "/webhooks/"))
        if known and needs_bot_token and request.headers.get("Authorization") != f"Bot {self.token}":
            response = _error(401, "401: Unauthorized", code=0)
        else:
            request[BODY] = body
            request[FILES] = files
            response = await handler(request)
        self._request_waiters.notify(recorded)
        return response

    async def _unknown_route(self, request: web.Request) -> web.Response:
        log.warning("loopback Discord has no route for %s %s", request.method, request.path)
        return _error(404, "404: Not Found", code=0)

    # -- REST handlers --

    async def _current_user(self, _request: web.Request) -> web.Response:
        return _json(
            self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0, "email": None}
        )

    async def _get_gateway(self, _request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, _request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _application_info(self, _request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": self.bot_user.name,
                "icon": None,
                "description": "Loopback application",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": self.guild.owner.payload(),
                "team": None,
                "flags": (1 << 15) | (1 << 19),  # the members and message content intents, granted
                "bot": self.bot_user.payload(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
            }
        )

    def _scope(self, request: web.Request) -> int | None:
        return int(request.match_info["guild"]) if "guild" in request.match_info else None

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        synced = []
        for definition in request[BODY] or []:
            command = {
                "id": str(self.new_id()),
                "application_id": str(self.application_id),
                "version": str(self.new_id()),
                "type": 1,
                "description": "",
                "default_member_permissions": None,
                "nsfw": False,
                "contexts": None,
                "integration_types": [0],
            } | definition
            if scope is not None:
                command["guild_id"] = str(scope)
            synced.append(command)
        self.commands[scope] = synced
        return _json(synced)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return _json(self.commands.get(self._scope(request), []))

    async def _interaction_callback(self, request: web.Request) -> web.StreamResponse:
        pending = self._interactions.get(request.match_info["token"])
        if pending is None or str(pending.interaction_id) != request.match_info["id"]:
            return _error(404, "Unknown interaction", code=10062)
        if pending.callback.done():
            return _error(400, "Interaction has already been acknowledged.", code=40060)
        callback = request[BODY] or {}
        data = callback.get("data") or {}
        kind = int(callback.get("type", 0))
        if kind in (CALLBACK_CHANNEL_MESSAGE, CALLBACK_DEFERRED_CHANNEL_MESSAGE):
            pending.original = self._message_payload(
                self.bot_user,
                pending.channel_id,
                data.get("content") or "",
                embeds=data.get("embeds"),
                attachments=request[FILES],
                flags=int(data.get("flags") or 0),
                extra={"application_id": str(self.application_id), "webhook_id": str(self.application_id)},
            )
        pending.loading = kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE
        pending.callback.set_result(callback)
        if kind != CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            pending.answered.set()  # a message, an update of a component's message, or a modal
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        interaction: dict[str, Any] = {
            "id": str(pending.interaction_id),
            "type": INTERACTION_APPLICATION_COMMAND,
        }
        resource: dict[str, Any] = {"type": kind}
        if pending.original is not None:
            interaction["response_message_id"] = pending.original["id"]
            interaction["response_message_loading"] = kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE
            interaction["response_message_ephemeral"] = bool(
                pending.original["flags"] & MESSAGE_FLAG_EPHEMERAL
            )
            resource["message"] = pending.original
        return _json({"interaction": interaction, "resource": resource})

    def _webhook_interaction(self, request: web.Request) -> _PendingInteraction | None:
        if request.match_info["app"] != str(self.application_id):
            return None
        return self._interactions.get(request.match_info["token"])

    async def _get_original(self, request: web.Request) -> web.Response:
        pending = self._webhook_interaction(request)
        if pending is None or pending.original is None:
            return _error(404, "Unknown Message", code=10008)
        return _json(pending.original)

    async def _edit_original(self, request: web.Request) -> web.Response:
        pending = self._webhook_interaction(request)
        if pending is None or pending.original is None:
            return _error(404, "Unknown Message", code=10008)
        edit = request[BODY] or {}
        for key in ("content", "embeds", "components", "flags"):
            if key in edit:
                pending.original[key] = edit[key]
        pending.original["edited_timestamp"] = _iso(datetime.now(UTC))
        pending.loading = False
        pending.answered.set()
        return _json(pending.original)

    async def _delete_original(self, request: web.Request) -> web.Response:
        pending = self._webhook_interaction(request)
        if pending is None or pending.original is None:
            return _error(404, "Unknown Message", code=10008)
        pending.original = None
        pending.answered.set()
        return web.Response(status=204)

    async def _followup(self, request: web.Request) -> web.Response:
        pending = self._webhook_interaction(request)
        if pending is None:
            return _error(404, "Unknown Webhook", code=10015)
        body = request[BODY] or {}
        message = self._message_payload(
            self.bot_user,
            pending.channel_id,
            body.get("content") or "",
            embeds=body.get("embeds"),
            attachments=request[FILES],
            flags=int(body.get("flags") or 0),
            extra={"application_id": str(self.application_id), "webhook_id": str(self.application_id)},
        )
        if pending.original is not None and pending.loading:
            # The first follow-up after a deferral replaces the "is thinking..." message.
            message["id"] = pending.original["id"]
            pending.original = message
        pending.loading = False
        pending.followups.append(message)
        pending.answered.set()
        return _json(message)

    async def _channel_message(self, request: web.Request) -> web.Response:
        try:
            channel = self.guild.channel(int(request.match_info["channel"]))
        except (LookupError, ValueError):
            return _error(404, "Unknown Channel", code=10003)
        body = request[BODY] or {}
        message = self._message_payload(
            self.bot_user,
            channel.id,
            body.get("content") or "",
            embeds=body.get("embeds"),
            attachments=request[FILES],
        )
        self.channel_messages.append(message)
        return _json(message)

    # -- the gateway handler --

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        encoding = request.query.get("encoding", "json")
        compression = request.query.get("compress")
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        if encoding != "json" or compression not in (None, "zlib-stream"):
            # The real gateway also offers etf and zstd-stream; this one does not.
            await ws.close(code=CLOSE_DECODE_ERROR, message=b"only encoding=json, compress=zlib-stream")
            return ws

        session = GatewaySession(ws, compress=compression == "zlib-stream", session_id=secrets.token_hex(16))
        self.sessions.append(session)
        await session.send(OP_HELLO, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS})
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    # Clients send JSON text; binary (etf or compressed) payloads are not accepted.
                    await ws.close(code=CLOSE_DECODE_ERROR, message=b"text frames only")
                    break
                payload = json.loads(frame.data)
                session.received.append(payload)
                await self._on_gateway_payload(session, payload)
        finally:
            with contextlib.suppress(ConnectionError):
                await ws.close()
        return ws

    async def _on_gateway_payload(self, session: GatewaySession, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == OP_HEARTBEAT:
            await session.send(OP_HEARTBEAT_ACK, None)
        elif op == OP_IDENTIFY:
            if data.get("token") != self.token:
                await session.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
                return
            session.identify = data
            await session.dispatch("READY", self._ready_payload(session))
            await session.dispatch("GUILD_CREATE", self.guild.create_payload())
            self._session_waiters.notify(session)
        elif op == OP_RESUME:
            # Sessions are not kept: the client must identify again (INVALID_SESSION, not resumable).
            await session.send(OP_INVALID_SESSION, False)
        elif op == OP_REQUEST_GUILD_MEMBERS:
            await session.dispatch(
                "GUILD_MEMBERS_CHUNK",
                {
                    "guild_id": str(self.guild.id),
                    "members": [member.payload() for member in self.guild.members.values()],
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "nonce": data.get("nonce"),
                },
            )
        elif op == OP_PRESENCE_UPDATE:
            pass
        else:
            log.warning("loopback gateway ignored op %s", op)

    def _ready_payload(self, session: GatewaySession) -> dict[str, Any]:
        return {
            "v": 10,
            "user": self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(self.guild.id), "unavailable": True}],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": [0, 1],
            "application": {"id": str(self.application_id), "flags": (1 << 15) | (1 << 19)},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
        }


def _json(data: Any, *, status: int = 200) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py compares the header verbatim
    # and would take a body labelled "application/json; charset=utf-8" for text.
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json")


def _error(status: int, message: str, *, code: int) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


async def _read_body(request: web.Request) -> tuple[Any, tuple[Upload, ...]]:
    """The JSON body, or for a multipart upload its ``payload_json`` part and the files."""
    if request.content_type.startswith("multipart/"):
        body, files = None, []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = json.loads(await part.text())  # type: ignore[union-attr]
            else:
                files.append(
                    Upload(
                        part.filename or part.name or "file",  # type: ignore[union-attr]
                        part.headers.get("Content-Type", "application/octet-stream"),
                        bytes(await part.read()),  # type: ignore[union-attr]
                    )
                )
        return body, tuple(files)
    if not request.can_read_body:
        return None, ()
    text = await request.text()
    return (json.loads(text) if text else None), ()


async def _serve_forever() -> None:
    async with LoopbackDiscord() as server:
        print(f"DISCORD_API_BASE={server.api_base}")
        print(f"DISCORD_GATEWAY_URL={server.gateway_url}")
        print(f"DISCORD_TOKEN={server.token}")
        await asyncio.Event().wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever())
