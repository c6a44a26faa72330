"""Everything the REST API and the gateway share: the application, its bot user, the guilds, the
synced commands and what was said in each channel."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from tests.support.loopback.protocol import (
    API_PREFIX,
    GATEWAY_PATH,
    Snowflakes,
    iso,
    shard_spread,
    snowflake_time,
)
from tests.support.loopback.recording import Upload
from tests.support.loopback.state import FakeChannel, FakeGuild, FakeUser

# Guilds spread over the shards of every count up to this one, or up to the recommended count if higher.
SPREAD_SHARDS = 2


class World:
    """The state behind the loopback server.

    Guild number ``i`` (from 0) gets an ID on shard ``i % c`` for every shard count ``c`` up to
    ``max(2, shards)``: with two shards the guilds alternate between them.
    """

    def __init__(self, *, token: str, guilds: int, citizens: int, shards: int, application_name: str) -> None:
        if guilds < 1 or shards < 1:
            raise ValueError("a loopback Discord has at least one guild and recommends at least one shard")
        self.token = token
        self.recommended_shards = shards
        self.new_id = Snowflakes()
        self.application_id = self.new_id()
        # Like every application created since 2020, the bot user shares the application's ID.
        self.bot_user = FakeUser(self.application_id, application_name, bot=True)
        spread = shard_spread(max(SPREAD_SHARDS, shards))
        self.guilds = [
            FakeGuild.build(
                self.new_id.on_shard(number % spread, spread),
                self.new_id,
                self.bot_user,
                number=number,
                citizens=citizens,
            )
            for number in range(guilds)
        ]
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self.base_url = ""  # http://127.0.0.1:port, once listening
        # Channel id -> its messages, oldest first (IDs are minted in order, so also by ID).
        self._history: dict[int, list[dict[str, Any]]] = {}

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws{self.base_url.removeprefix('http')}{GATEWAY_PATH}"

    def guild(self, guild: FakeGuild | int | None = None) -> FakeGuild:
        """A guild by ID (or itself); ``None`` is the first guild."""
        if guild is None:
            return self.guilds[0]
        if isinstance(guild, FakeGuild):
            return guild
        for candidate in self.guilds:
            if candidate.id == guild:
                return candidate
        raise LookupError(f"no guild {guild} on the loopback server")

    def locate(self, guild: FakeGuild | int | None, channel_id: int | None) -> tuple[FakeGuild, FakeChannel]:
        """The guild and the channel an event happens in: a channel alone names its guild."""
        if guild is None and channel_id is not None:
            guild = self.guild_of_channel(channel_id)
        found = self.guild(guild)
        return found, found.channel(channel_id)

    def guild_of_channel(self, channel_id: int) -> FakeGuild:
        for guild in self.guilds:
            if guild.has_channel(channel_id):
                return guild
        raise LookupError(f"no channel {channel_id} on the loopback server")

    # -- messages --

    def message_payload(
        self,
        author: FakeUser,
        guild: FakeGuild,
        channel_id: int,
        content: str,
        *,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        attachments: Sequence[Upload] = (),
        flags: int = 0,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        message_id = self.new_id()
        return {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(guild.id),
            "author": author.payload(),
            "content": content,
            "timestamp": iso(snowflake_time(message_id)),
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
                    "url": f"{self.base_url}/attachments/{upload.filename}",
                    "proxy_url": f"{self.base_url}/attachments/{upload.filename}",
                }
                for upload in attachments
            ],
            "embeds": embeds or [],
            "pinned": False,
            "type": 0,
            "flags": flags,
            "components": components or [],
        } | dict(extra or {})

    def remember(self, message: dict[str, Any]) -> None:
        """Keep ``message`` in its channel's history (the dict itself: later edits show there too)."""
        channel = self._history.setdefault(int(message["channel_id"]), [])
        message_id = int(message["id"])
        if channel and int(channel[-1]["id"]) > message_id:
            channel.insert(bisect.bisect(channel, message_id, key=lambda m: int(m["id"])), message)
        else:
            channel.append(message)

    def forget(self, channel_id: int, message_id: int) -> None:
        channel = self._history.get(channel_id, [])
        channel[:] = [message for message in channel if int(message["id"]) != message_id]

    def history(
        self, channel_id: int, *, limit: int = 50, before: int | None = None, after: int | None = None
    ) -> list[dict[str, Any]]:
        """Newest first, as ``GET /channels/{id}/messages`` answers: the ``limit`` messages just before
        ``before`` (default: the newest), or with ``after``, the ``limit`` just after it."""
        channel = self._history.get(channel_id, [])
        ids = [int(message["id"]) for message in channel]
        if after is not None:
            start = bisect.bisect_right(ids, after)
            end = len(channel) if before is None else bisect.bisect_left(ids, before)
            return channel[start : min(end, start + limit)][::-1]
        end = len(channel) if before is None else bisect.bisect_left(ids, before)
        return channel[max(0, end - limit) : end][::-1]

    def messages_in(self, channel_id: int) -> list[dict[str, Any]]:
        """The channel's whole history, oldest first."""
        return list(self._history.get(channel_id, []))
