"""Slash commands pushed to the bot, and the routes through which it answers them.

:meth:`Interactions.push` sends an INTERACTION_CREATE for a synced command and awaits the answer on
the callback route; a deferred answer is awaited until the bot edits the original response or
follows up, through the webhook routes Discord offers for that. A message that is not ephemeral is
kept in the channel's history too, as Discord shows it there.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.support.loopback.gateway import GatewaySession
from tests.support.loopback.protocol import (
    ALL_PERMISSIONS,
    ALREADY_ACKNOWLEDGED,
    API_PREFIX,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    INTERACTION_APPLICATION_COMMAND,
    MESSAGE_FLAG_EPHEMERAL,
    OPTION_BOOLEAN,
    OPTION_CHANNEL,
    OPTION_INTEGER,
    OPTION_MENTIONABLE,
    OPTION_NUMBER,
    OPTION_ROLE,
    OPTION_STRING,
    OPTION_SUB_COMMAND,
    OPTION_SUB_COMMAND_GROUP,
    OPTION_USER,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    iso,
)
from tests.support.loopback.recording import error, json_response
from tests.support.loopback.rest import BODY, FILES
from tests.support.loopback.state import FakeChannel, FakeGuild, FakeRole, FakeUser
from tests.support.loopback.world import World


@dataclass
class InteractionReply:
    """The bot's answer to one pushed interaction."""

    interaction_id: int
    token: str
    callback_type: int
    message: dict[str, Any]  # the original response as it stands (after a deferral, the edit)
    followups: list[dict[str, Any]] = field(default_factory=list)
    # time.perf_counter() just before the INTERACTION_CREATE was written, and when the callback
    # (the acknowledgement Discord waits 3 s for) arrived.
    pushed_at: float = 0.0
    acknowledged_at: float = 0.0

    @property
    def acknowledged_after(self) -> float:
        """Seconds from the push to the bot's acknowledgement."""
        return self.acknowledged_at - self.pushed_at

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
    guild: FakeGuild
    channel_id: int
    callback: asyncio.Future[dict[str, Any]]
    answered: asyncio.Event  # set when a message (not only a deferral) exists
    original: dict[str, Any] | None = None
    loading: bool = False  # deferred, and not yet edited or followed up
    followups: list[dict[str, Any]] = field(default_factory=list)
    acknowledged_at: float = 0.0  # time.perf_counter() when the callback arrived


class Interactions:
    """Pushes slash commands, and serves the callback and webhook routes that answer them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._pending: dict[str, _PendingInteraction] = {}

    def routes(self) -> list[web.RouteDef]:
        api, hook = API_PREFIX, f"{API_PREFIX}/webhooks/{{app}}/{{token}}"
        return [
            web.post(f"{api}/interactions/{{id}}/{{token}}/callback", self._callback),
            web.get(f"{hook}/messages/@original", self._get_original),
            web.patch(f"{hook}/messages/@original", self._edit_original),
            web.delete(f"{hook}/messages/@original", self._delete_original),
            web.post(hook, self._followup),
        ]

    def cancel(self) -> None:
        for pending in self._pending.values():
            if not pending.callback.done():
                pending.callback.cancel()

    async def push(
        self,
        session: GatewaySession,
        guild: FakeGuild,
        channel: FakeChannel,
        user: FakeUser,
        name: str,
        options: Mapping[str, Any],
    ) -> InteractionReply:
        world = self.world
        words = name.split()
        command = self._find_command(guild, words[0])
        resolved: dict[str, dict[str, Any]] = {}
        data: dict[str, Any] = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "options": _build_options(guild, command, words[1:], dict(options), resolved),
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved

        interaction_id, token = world.new_id(), f"interaction-{secrets.token_urlsafe(24)}"
        future = asyncio.get_running_loop().create_future()
        pending = _PendingInteraction(interaction_id, token, guild, channel.id, future, asyncio.Event())
        self._pending[token] = pending
        pushed_at = time.perf_counter()
        await session.dispatch(
            "INTERACTION_CREATE",
            {
                "id": str(interaction_id),
                "application_id": str(world.application_id),
                "type": INTERACTION_APPLICATION_COMMAND,
                "data": data,
                "guild_id": str(guild.id),
                "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                "channel_id": str(channel.id),
                "channel": channel.payload(guild.id),
                "member": guild.members[user.id].payload()
                | {"permissions": str(guild.permissions_of(user.id))},
                "token": token,
                "version": 1,
                "app_permissions": str(guild.permissions_of(world.bot_user.id)),
                "locale": "en-US",
                "guild_locale": "en-US",
                "entitlements": [],
                "authorizing_integration_owners": {"0": str(guild.id)},
                "context": 0,
                "attachment_size_limit": 26_214_400,
            },
        )
        callback = await pending.callback
        await pending.answered.wait()
        return InteractionReply(
            interaction_id,
            token,
            int(callback["type"]),
            dict(pending.original or {}),
            pending.followups,
            pushed_at=pushed_at,
            acknowledged_at=pending.acknowledged_at,
        )

    def _find_command(self, guild: FakeGuild, name: str) -> dict[str, Any]:
        for scope in (guild.id, None):
            for command in self.world.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        synced = sorted(c["name"] for commands in self.world.commands.values() for c in commands)
        raise LookupError(f"/{name} was not synced; synced commands: {synced}")

    def _bot_message(
        self, pending: _PendingInteraction, body: Mapping[str, Any], request: web.Request
    ) -> dict[str, Any]:
        app = str(self.world.application_id)
        message = self.world.message_payload(
            self.world.bot_user,
            pending.guild,
            pending.channel_id,
            body.get("content") or "",
            embeds=body.get("embeds"),
            components=body.get("components"),
            attachments=request[FILES],
            flags=int(body.get("flags") or 0),
            extra={"application_id": app, "webhook_id": app},
        )
        if not message["flags"] & MESSAGE_FLAG_EPHEMERAL:
            self.world.remember(message)
        return message

    # -- the routes --

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        pending = self._pending.get(request.match_info["token"])
        if pending is None or str(pending.interaction_id) != request.match_info["id"]:
            return error(404, "Unknown interaction", code=UNKNOWN_INTERACTION)
        if pending.callback.done():
            return error(400, "Interaction has already been acknowledged.", code=ALREADY_ACKNOWLEDGED)
        callback = request[BODY] or {}
        kind = int(callback.get("type", 0))
        if kind in (CALLBACK_CHANNEL_MESSAGE, CALLBACK_DEFERRED_CHANNEL_MESSAGE):
            pending.original = self._bot_message(pending, callback.get("data") or {}, request)
        pending.loading = kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE
        pending.acknowledged_at = time.perf_counter()
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
        return json_response({"interaction": interaction, "resource": resource})

    def _webhook(self, request: web.Request) -> _PendingInteraction | None:
        if request.match_info["app"] != str(self.world.application_id):
            return None
        return self._pending.get(request.match_info["token"])

    async def _get_original(self, request: web.Request) -> web.Response:
        pending = self._webhook(request)
        if pending is None or pending.original is None:
            return error(404, "Unknown Message", code=UNKNOWN_MESSAGE)
        return json_response(pending.original)

    async def _edit_original(self, request: web.Request) -> web.Response:
        pending = self._webhook(request)
        if pending is None or pending.original is None:
            return error(404, "Unknown Message", code=UNKNOWN_MESSAGE)
        edit = request[BODY] or {}
        for key in ("content", "embeds", "components", "flags"):
            if key in edit:
                pending.original[key] = edit[key]
        pending.original["edited_timestamp"] = iso(datetime.now(UTC))
        pending.loading = False
        pending.answered.set()
        return json_response(pending.original)

    async def _delete_original(self, request: web.Request) -> web.Response:
        pending = self._webhook(request)
        if pending is None or pending.original is None:
            return error(404, "Unknown Message", code=UNKNOWN_MESSAGE)
        self.world.forget(pending.channel_id, int(pending.original["id"]))
        pending.original = None
        pending.answered.set()
        return web.Response(status=204)

    async def _followup(self, request: web.Request) -> web.Response:
        pending = self._webhook(request)
        if pending is None:
            return error(404, "Unknown Webhook", code=UNKNOWN_WEBHOOK)
        message = self._bot_message(pending, request[BODY] or {}, request)
        if pending.original is not None and pending.loading:
            # The first follow-up after a deferral replaces the "is thinking..." message.
            self.world.forget(pending.channel_id, int(message["id"]))
            self.world.forget(pending.channel_id, int(pending.original["id"]))
            message["id"] = pending.original["id"]
            pending.original = message
            if not message["flags"] & MESSAGE_FLAG_EPHEMERAL:
                self.world.remember(message)
        pending.loading = False
        pending.followups.append(message)
        pending.answered.set()
        return json_response(message)


def _build_options(
    guild: FakeGuild,
    definition: Mapping[str, Any],
    path: list[str],
    values: dict[str, Any],
    resolved: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    known = {option["name"]: option for option in definition.get("options") or []}
    if path:
        sub = known.get(path[0])
        if sub is None or sub["type"] not in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP):
            raise LookupError(f"{definition['name']} has no subcommand {path[0]!r}; it has {sorted(known)}")
        options = _build_options(guild, sub, path[1:], values, resolved)
        return [{"type": sub["type"], "name": sub["name"], "options": options}]
    unknown = set(values) - set(known)
    if unknown:
        raise LookupError(f"{definition['name']} has no option {sorted(unknown)}; it has {sorted(known)}")
    return [
        {"type": known[key]["type"], "name": key, "value": _option_value(guild, known[key], value, resolved)}
        for key, value in values.items()
    ]


def _option_value(
    guild: FakeGuild, option: Mapping[str, Any], value: Any, resolved: dict[str, dict[str, Any]]
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
        channel = guild.channel(snowflake)
        resolved.setdefault("channels", {})[str(snowflake)] = channel.payload(guild.id) | {
            "permissions": str(ALL_PERMISSIONS)
        }
    elif snowflake in guild.members and kind != OPTION_ROLE:
        member = guild.members[snowflake]
        resolved.setdefault("users", {})[str(snowflake)] = member.user.payload()
        resolved.setdefault("members", {})[str(snowflake)] = member.payload(with_user=False) | {
            "permissions": str(guild.permissions_of(snowflake))
        }
    elif kind == OPTION_USER:
        raise LookupError(f"no member {snowflake} in the loopback guild {guild.id}")
    else:
        resolved.setdefault("roles", {})[str(snowflake)] = guild.role(snowflake).payload()
    return str(snowflake)
