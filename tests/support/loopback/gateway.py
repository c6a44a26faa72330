"""The loopback gateway: websocket sessions, their zlib stream, and Discord's opcodes.

HELLO, IDENTIFY -> READY and a GUILD_CREATE for each guild of the session's shard, heartbeat ACKs,
RESUME refused with INVALID_SESSION, REQUEST_GUILD_MEMBERS answered. IDENTIFY's ``shard:
[shard_id, shard_count]`` is honoured as Discord does: the session hears only of the guilds with
``(guild_id >> 22) % shard_count == shard_id``; without it (or with a count of 1) it hears of all.
The identify rate of ``max_concurrency`` is announced by ``GET /gateway/bot`` but not enforced.

Payloads are JSON text; with ``compress=zlib-stream``, as discord.py asks, each connection is one
zlib stream and every payload ends in a ``Z_SYNC_FLUSH``, as the real gateway sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from tests.support.loopback.protocol import (
    APPLICATION_FLAGS,
    CLOSE_AUTHENTICATION_FAILED,
    CLOSE_DECODE_ERROR,
    CLOSE_INVALID_SHARD,
    HEARTBEAT_INTERVAL_MS,
    OP_DISPATCH,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE_UPDATE,
    OP_REQUEST_GUILD_MEMBERS,
    OP_RESUME,
    shard_of,
)
from tests.support.loopback.recording import Waiters
from tests.support.loopback.state import FakeGuild
from tests.support.loopback.world import World

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BurstReport:
    """What :meth:`LoopbackDiscord.push_message_create` sent, and when (``time.perf_counter``)."""

    count: int
    started_at: float  # just before the first frame was written
    started_cpu: float  # this process's CPU time (time.process_time) at that moment
    finished_at: float  # after the last frame was written (the client may still be reading)
    bytes_sent: int
    message_ids: tuple[int, int]  # first and last


def _guild_of(event: str, data: Any) -> int | None:
    if not isinstance(data, dict):
        return None
    raw = data.get("id") if event == "GUILD_CREATE" else data.get("guild_id")
    return int(raw) if raw else None


class GatewaySession:
    """One websocket connection: its zlib stream, its sequence numbers, its IDENTIFY, its shard."""

    def __init__(self, ws: web.WebSocketResponse, *, compress: bool, session_id: str) -> None:
        self.ws = ws
        self.session_id = session_id
        self.compress = compress
        self.identify: dict[str, Any] | None = None
        self.sequence = 0
        self.received: list[dict[str, Any]] = []
        # Every event dispatched here, with the guild it was about (None: no guild).
        self.events: list[tuple[str, int | None]] = []
        self._deflate = zlib.compressobj() if compress else None
        # Frames of one zlib stream must reach the client in the order they were compressed.
        self._send_lock = asyncio.Lock()

    @property
    def intents(self) -> int:
        return int((self.identify or {}).get("intents", 0))

    @property
    def shard(self) -> tuple[int, int]:
        """``(shard_id, shard_count)`` as identified; ``(0, 1)`` when IDENTIFY named no shard."""
        shard = (self.identify or {}).get("shard") or (0, 1)
        return int(shard[0]), int(shard[1])

    def covers(self, guild_id: int) -> bool:
        shard_id, shard_count = self.shard
        return shard_of(guild_id, shard_count) == shard_id

    def events_about(self, guild_id: int) -> list[str]:
        return [event for event, about in self.events if about == guild_id]

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
        async with self._send_lock:
            self.events.append((event, _guild_of(event, data)))
            await self._write(self._encode(OP_DISPATCH, data, event))

    async def dispatch_burst(self, event: str, payloads: Sequence[Any]) -> tuple[float, float, float, int]:
        """Send many events back to back; encoding and compressing are done before the clocks start.

        Returns the wall clock (``perf_counter``) and this process's CPU clock (``process_time``) at
        the first frame, the wall clock after the last, and the bytes sent.
        """
        async with self._send_lock:
            frames = [self._encode(OP_DISPATCH, data, event) for data in payloads]
            self.events.extend((event, _guild_of(event, data)) for data in payloads)
            started, started_cpu = time.perf_counter(), time.process_time()
            for frame in frames:
                await self._write(frame)
            finished = time.perf_counter()
        return started, started_cpu, finished, sum(len(frame) for frame in frames)


def _valid_shard(shard: Any) -> bool:
    if shard is None:
        return True
    if not isinstance(shard, list | tuple) or len(shard) != 2:
        return False
    shard_id, shard_count = shard
    return isinstance(shard_id, int) and isinstance(shard_count, int) and 0 <= shard_id < shard_count


class Gateway:
    """Accepts gateway connections and routes each guild's events to the sessions of its shard."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.sessions: list[GatewaySession] = []  # every connection, in the order they opened
        self.identified: list[GatewaySession] = []  # the sessions that identified, in that order
        self._session_waiters = Waiters()

    def sessions_for(self, guild: FakeGuild) -> list[GatewaySession]:
        """The open, identified sessions of the guild's shard, oldest first."""
        return [s for s in self.identified if s.open and s.covers(guild.id)]

    def session_for(self, guild: FakeGuild) -> GatewaySession:
        """The newest session of the guild's shard."""
        sessions = self.sessions_for(guild)
        if not sessions:
            raise LookupError(f"no bot is connected to the loopback gateway for guild {guild.id}")
        return sessions[-1]

    async def broadcast(self, guild: FakeGuild, event: str, data: Any) -> None:
        """Dispatch ``event`` to every session of the guild's shard, as a change of state is seen by all."""
        for session in self.sessions_for(guild):
            # A session closing at this moment just misses the event, as on Discord.
            with contextlib.suppress(ConnectionError):
                await session.dispatch(event, data)

    async def wait_for_session(self, *, count: int = 1, shard: int | None = None) -> GatewaySession:
        """The ``count``-th session to IDENTIFY (1 = the first), of shard ``shard`` if given, once its
        READY and GUILD_CREATEs are sent."""

        def matching() -> list[GatewaySession]:
            return [s for s in self.identified if shard is None or s.shard[0] == shard]

        await self._session_waiters.wait(self.identified, lambda _session: len(matching()) >= count)
        return matching()[count - 1]

    async def close(self) -> None:
        for session in self.sessions:
            if session.open:
                await session.ws.close()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
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
                await self._on_payload(session, payload)
        finally:
            with contextlib.suppress(ConnectionError):
                await ws.close()
        return ws

    async def _on_payload(self, session: GatewaySession, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data: Any = payload.get("d")
        if op in (OP_IDENTIFY, OP_REQUEST_GUILD_MEMBERS) and not isinstance(data, dict):
            await session.ws.close(code=CLOSE_DECODE_ERROR, message=b"d must be an object")
            return
        if op == OP_HEARTBEAT:
            await session.send(OP_HEARTBEAT_ACK, None)
        elif op == OP_IDENTIFY:
            await self._identify(session, data)
        elif op == OP_RESUME:
            # Sessions are not kept: the client must identify again (INVALID_SESSION, not resumable).
            await session.send(OP_INVALID_SESSION, False)
        elif op == OP_REQUEST_GUILD_MEMBERS:
            await self._request_members(session, data)
        elif op == OP_PRESENCE_UPDATE:
            pass
        else:
            log.warning("loopback gateway ignored op %s", op)

    async def _identify(self, session: GatewaySession, data: dict[str, Any]) -> None:
        if data.get("token") != self.world.token:
            await session.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        if not _valid_shard(data.get("shard")):
            await session.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return
        session.identify = data
        guilds = [guild for guild in self.world.guilds if session.covers(guild.id)]
        await session.dispatch("READY", self._ready_payload(session, guilds))
        for guild in guilds:
            await session.dispatch("GUILD_CREATE", guild.create_payload())
        self.identified.append(session)
        self._session_waiters.notify(session)

    async def _request_members(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self.world.guild(int(data["guild_id"]))
        if not session.covers(guild.id):
            log.warning("session of shard %s asked for the members of guild %s", session.shard, guild.id)
            return
        await session.dispatch(
            "GUILD_MEMBERS_CHUNK",
            {
                "guild_id": str(guild.id),
                "members": [member.payload() for member in guild.members.values()],
                "chunk_index": 0,
                "chunk_count": 1,
                "nonce": data.get("nonce"),
            },
        )

    def _ready_payload(self, session: GatewaySession, guilds: list[FakeGuild]) -> dict[str, Any]:
        return {
            "v": 10,
            "user": self.world.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(guild.id), "unavailable": True} for guild in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.world.gateway_url,
            "shard": list(session.shard),
            "application": {"id": str(self.world.application_id), "flags": APPLICATION_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
        }
