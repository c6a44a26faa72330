"""The loopback REST API v10: the routes a bot uses, each request recorded.

``GET /users/@me``, ``GET /gateway`` and ``/gateway/bot`` (the recommended shard count and the
session start limit), the application, application commands (global and guild, ``PUT``/``GET``),
channel messages (``POST`` kept per channel; ``GET`` the history, newest first, with ``limit``,
``before`` and ``after``), a guild member, and role changes (``PUT``/``DELETE`` one role of one
member, seen in the member and dispatched as GUILD_MEMBER_UPDATE to the guild's shard). Any other
route is recorded and answered with a 404 JSON error, so a client never hangs. Every request is
recorded with what it carried and the status it got, so a test can count deliveries exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from tests.support.loopback.gateway import Gateway
from tests.support.loopback.protocol import (
    API_PREFIX,
    APPLICATION_FLAGS,
    GATEWAY_PATH,
    INVALID_FORM_BODY,
    MANAGE_ROLES,
    MISSING_PERMISSIONS,
    UNKNOWN_CHANNEL,
    UNKNOWN_GUILD,
    UNKNOWN_MEMBER,
    UNKNOWN_ROLE,
)
from tests.support.loopback.recording import RecordedRequest, Upload, Waiters, error, json_response, read_body
from tests.support.loopback.state import FakeGuild
from tests.support.loopback.world import World

log = logging.getLogger(__name__)

# What the recording middleware read from a request, handed to the route handlers.
BODY = web.RequestKey[Any]("body")
FILES = web.RequestKey[Sequence[Upload]]("files")

SESSION_STARTS_A_DAY = 1000
HISTORY_LIMIT_MAX = 100


def _snowflake(request: web.Request, name: str) -> int | None:
    try:
        return int(request.match_info[name])
    except (KeyError, ValueError):
        return None


class RestApi:
    """The REST routes, and the record of every request they were asked."""

    def __init__(self, world: World, gateway: Gateway) -> None:
        self.world = world
        self.gateway = gateway
        self.requests: list[RecordedRequest] = []
        self.channel_messages: list[dict[str, Any]] = []  # POST /channels/{id}/messages, in order
        self.waiters = Waiters()

    def routes(self) -> list[web.RouteDef]:
        api = API_PREFIX
        member = f"{api}/guilds/{{guild}}/members/{{user}}"
        return [
            web.get(f"{api}/users/@me", self._current_user),
            web.get(f"{api}/gateway", self._get_gateway),
            web.get(f"{api}/gateway/bot", self._get_gateway_bot),
            web.get(f"{api}/oauth2/applications/@me", self._application_info),
            web.get(f"{api}/applications/@me", self._application_info),
            web.put(f"{api}/applications/{{app}}/commands", self._put_commands),
            web.get(f"{api}/applications/{{app}}/commands", self._get_commands),
            web.put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._put_commands),
            web.get(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._get_commands),
            web.post(f"{api}/channels/{{channel}}/messages", self._post_message),
            web.get(f"{api}/channels/{{channel}}/messages", self._get_messages),
            web.get(member, self._get_member),
            web.put(f"{member}/roles/{{role}}", self._add_role),
            web.delete(f"{member}/roles/{{role}}", self._remove_role),
        ]

    def catch_all(self) -> web.RouteDef:
        return web.route("*", "/{tail:.*}", self._unknown_route)

    @web.middleware
    async def record_and_authorize(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.path == GATEWAY_PATH:
            response: web.StreamResponse = await handler(request)
            return response
        body, files = await read_body(request)
        path = request.path.removeprefix(API_PREFIX)
        known = request.match_info.route.handler != self._unknown_route
        log.debug("%s %s", request.method, path)
        status = 500
        try:
            # Interaction and webhook routes are authorised by their token in the path, not the bot token.
            needs_bot_token = not path.startswith(("/interactions/", "/webhooks/"))
            if (
                known
                and needs_bot_token
                and request.headers.get("Authorization") != f"Bot {self.world.token}"
            ):
                response = error(401, "401: Unauthorized", code=0)
            else:
                request[BODY] = body
                request[FILES] = files
                response = await handler(request)
            status = response.status
            return response
        finally:
            recorded = RecordedRequest(request.method, path, dict(request.query), body, files, known, status)
            self.requests.append(recorded)
            self.waiters.notify(recorded)

    async def _unknown_route(self, request: web.Request) -> web.Response:
        log.warning("loopback Discord has no route for %s %s", request.method, request.path)
        return error(404, "404: Not Found", code=0)

    # -- the bot, its application, the gateway --

    async def _current_user(self, _request: web.Request) -> web.Response:
        extra = {"verified": True, "mfa_enabled": False, "flags": 0, "email": None}
        return json_response(self.world.bot_user.payload() | extra)

    async def _get_gateway(self, _request: web.Request) -> web.Response:
        return json_response({"url": self.world.gateway_url})

    async def _get_gateway_bot(self, _request: web.Request) -> web.Response:
        return json_response(
            {
                "url": self.world.gateway_url,
                "shards": self.world.recommended_shards,
                "session_start_limit": {
                    "total": SESSION_STARTS_A_DAY,
                    "remaining": max(0, SESSION_STARTS_A_DAY - len(self.gateway.identified)),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _application_info(self, _request: web.Request) -> web.Response:
        world = self.world
        return json_response(
            {
                "id": str(world.application_id),
                "name": world.bot_user.name,
                "icon": None,
                "description": "Loopback application",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": world.guild().owner.payload(),
                "team": None,
                "flags": APPLICATION_FLAGS,
                "bot": world.bot_user.payload(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
            }
        )

    # -- application commands --

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = _snowflake(request, "guild")
        synced = []
        for definition in request[BODY] or []:
            command = {
                "id": str(self.world.new_id()),
                "application_id": str(self.world.application_id),
                "version": str(self.world.new_id()),
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
        self.world.commands[scope] = synced
        return json_response(synced)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.world.commands.get(_snowflake(request, "guild"), []))

    # -- channel messages --

    async def _post_message(self, request: web.Request) -> web.Response:
        channel_id = _snowflake(request, "channel")
        try:
            guild = self.world.guild_of_channel(channel_id or 0)
        except LookupError:
            return error(404, "Unknown Channel", code=UNKNOWN_CHANNEL)
        body = request[BODY] or {}
        message = self.world.message_payload(
            self.world.bot_user,
            guild,
            guild.channel(channel_id).id,
            body.get("content") or "",
            embeds=body.get("embeds"),
            components=body.get("components"),
            attachments=request[FILES],
        )
        self.channel_messages.append(message)
        self.world.remember(message)
        return json_response(message)

    async def _get_messages(self, request: web.Request) -> web.Response:
        channel_id = _snowflake(request, "channel") or 0
        try:
            self.world.guild_of_channel(channel_id)
        except LookupError:
            return error(404, "Unknown Channel", code=UNKNOWN_CHANNEL)
        query = request.query
        if "around" in query:
            # Discord also has ``around``; no caller here needs it, so it is refused rather than guessed.
            return error(400, "Invalid Form Body: around is not served on loopback", code=INVALID_FORM_BODY)
        try:
            limit = int(query.get("limit", 50))
            before = int(query["before"]) if "before" in query else None
            after = int(query["after"]) if "after" in query else None
        except ValueError:
            return error(400, "Invalid Form Body", code=INVALID_FORM_BODY)
        if not 1 <= limit <= HISTORY_LIMIT_MAX:
            return error(400, "Invalid Form Body: limit must be 1 to 100", code=INVALID_FORM_BODY)
        return json_response(self.world.history(channel_id, limit=limit, before=before, after=after))

    # -- members and their roles --

    def _member_of(self, request: web.Request) -> tuple[FakeGuild, int] | web.Response:
        try:
            guild = self.world.guild(_snowflake(request, "guild") or 0)
        except LookupError:
            return error(404, "Unknown Guild", code=UNKNOWN_GUILD)
        user_id = _snowflake(request, "user")
        if user_id is None or user_id not in guild.members:
            return error(404, "Unknown Member", code=UNKNOWN_MEMBER)
        return guild, user_id

    async def _get_member(self, request: web.Request) -> web.Response:
        found = self._member_of(request)
        if isinstance(found, web.Response):
            return found
        guild, user_id = found
        return json_response(guild.members[user_id].payload())

    async def _add_role(self, request: web.Request) -> web.Response:
        return await self._change_role(request, adding=True)

    async def _remove_role(self, request: web.Request) -> web.Response:
        return await self._change_role(request, adding=False)

    async def _change_role(self, request: web.Request, *, adding: bool) -> web.Response:
        found = self._member_of(request)
        if isinstance(found, web.Response):
            return found
        guild, user_id = found
        try:
            role = guild.role(_snowflake(request, "role") or 0)
        except LookupError:
            return error(404, "Unknown Role", code=UNKNOWN_ROLE)
        bot_id = self.world.bot_user.id
        # As on Discord: Manage Roles, and only roles below the bot's highest; never an integration's.
        allowed = guild.permissions_of(bot_id) & MANAGE_ROLES and role.position < guild.top_position(bot_id)
        if not allowed or role.managed or role.id == guild.id:
            return error(403, "Missing Permissions", code=MISSING_PERMISSIONS)
        held = guild.members[user_id].role_ids
        wanted = tuple(r for r in held if r != role.id) + ((role.id,) if adding else ())
        if set(wanted) != set(held):
            guild.set_roles(user_id, wanted)
            await self.gateway.broadcast(guild, "GUILD_MEMBER_UPDATE", guild.member_update_payload(user_id))
        return web.Response(status=204)
