"""The guilds a bot finds itself in: users, members, roles, channels, as Discord describes them.

Each object renders its own payload in the shape Discord sends it. Members are immutable; a role
change replaces the member in its guild (:meth:`FakeGuild.set_roles`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tests.support.loopback.protocol import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    CHANNEL_GUILD_TEXT,
    EVERYONE_PERMISSIONS,
    MANAGE_GUILD,
    MANAGE_ROLES,
    iso,
)

CHANNEL_NAMES = ("general", "town-square", "announcements", "bureau", "brag")


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
            "joined_at": iso(self.joined_at),
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
    def build(
        cls,
        guild_id: int,
        new_id: Callable[[], int],
        bot_user: FakeUser,
        *,
        number: int = 0,
        citizens: int = 20,
    ) -> FakeGuild:
        """The ``number``-th guild (from 0); the first keeps the plain names ("citizen000", "chairman")."""
        now = datetime.now(UTC)
        suffix = "" if number == 0 else str(number + 1)
        roles = {
            "@everyone": FakeRole(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0),
            "Bureau": FakeRole(new_id(), "Bureau", EVERYONE_PERMISSIONS | MANAGE_GUILD, 1),
            # The bot's integration role, placed on top so it may manage the tier roles below it.
            bot_user.name: FakeRole(new_id(), bot_user.name, ADMINISTRATOR | MANAGE_ROLES, 10, managed=True),
        }
        channels = {
            name: FakeChannel(new_id(), name, position) for position, name in enumerate(CHANNEL_NAMES)
        }
        owner = FakeUser(new_id(), f"chairman{suffix}")
        people = [
            FakeUser(new_id(), f"citizen{suffix}{'-' if suffix else ''}{i:03d}") for i in range(citizens)
        ]
        members = {owner.id: FakeMember(owner, (roles["Bureau"].id,), now)}
        members |= {person.id: FakeMember(person, (), now) for person in people}
        members[bot_user.id] = FakeMember(bot_user, (roles[bot_user.name].id,), now)
        name = f"Loopback Commons{' ' + suffix if suffix else ''}"
        return cls(guild_id, name, owner, bot_user, people, roles, channels, members)

    @property
    def game_channel(self) -> FakeChannel:
        return self.channels["town-square"]

    def channel(self, channel_id: int | None) -> FakeChannel:
        if channel_id is None:
            return self.game_channel
        for channel in self.channels.values():
            if channel.id == channel_id:
                return channel
        raise LookupError(f"no channel {channel_id} in the loopback guild {self.id}")

    def has_channel(self, channel_id: int) -> bool:
        return any(channel.id == channel_id for channel in self.channels.values())

    def role(self, role_id: int) -> FakeRole:
        for role in self.roles.values():
            if role.id == role_id:
                return role
        raise LookupError(f"no role {role_id} in the loopback guild {self.id}")

    def add_role(self, role_id: int, name: str, *, permissions: int = 0, position: int = 1) -> FakeRole:
        """A role made by hand for a test. Bots learn of it from GUILD_CREATE: add it before they connect."""
        self.roles[name] = role = FakeRole(role_id, name, permissions, position)
        return role

    def set_roles(self, user_id: int, role_ids: tuple[int, ...]) -> FakeMember:
        self.members[user_id] = member = replace(self.members[user_id], role_ids=role_ids)
        return member

    def permissions_of(self, user_id: int) -> int:
        if user_id == self.owner.id:
            return ALL_PERMISSIONS
        member = self.members[user_id]
        permissions = self.roles["@everyone"].permissions
        for role_id in member.role_ids:
            permissions |= self.role(role_id).permissions
        return ALL_PERMISSIONS if permissions & ADMINISTRATOR else permissions

    def top_position(self, user_id: int) -> int:
        """The position of the member's highest role: they may only hand out roles below it."""
        return max((self.role(role_id).position for role_id in self.members[user_id].role_ids), default=0)

    def member_update_payload(self, user_id: int) -> dict[str, Any]:
        """The GUILD_MEMBER_UPDATE event data for one member, as it stands."""
        return self.members[user_id].payload() | {"guild_id": str(self.id)}

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
            "joined_at": iso(self.created_at),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
