"""The simulated server the sandbox plays in: its channels, its moderator and its citizens.

Built with SimCord's builders, in a fixed order, so the same seed gives the same IDs. The bot
joins with its integration role on top, as after a normal invite; the moderator holds Manage Server
through a Staff role, as on a real community server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import discord
import simcord

from bot.sandbox._personas import Persona, cast_for, citizen_name

GUILD_NAME = "Harmony Hall"


@dataclass(eq=False)
class SimCitizen:
    """A simulated member, their persona, and what they remember of their own season."""

    name: str
    persona: Persona
    actor: simcord.MemberActor
    asked: set[str] = field(default_factory=set)  # citizens asked to be friends, or who asked
    permits_asked: set[str] = field(default_factory=set)  # permit topics already requested


@dataclass(eq=False)
class World:
    guild: simcord.GuildHandle
    square: simcord.ChannelHandle  # the game channel
    announcements: simcord.ChannelHandle
    bureau: simcord.ChannelHandle  # the moderators' channel
    brag: simcord.ChannelHandle
    moderator: simcord.MemberActor
    citizens: list[SimCitizen]
    visitor: simcord.MemberActor | None = None  # a person at the browser preview

    def channels(self) -> list[simcord.ChannelHandle]:
        return [self.square, self.announcements, self.bureau, self.brag]

    def citizen(self, user_id: int) -> SimCitizen | None:
        return next((c for c in self.citizens if c.actor.id == user_id), None)


def build_world(env: simcord.Env, citizens: int, *, visitor: bool = False) -> World:
    """The server, once the bot is running (the bot must be in it to be let into the Bureau's channel)."""
    guild = env.create_guild(GUILD_NAME)
    staff = guild.create_role("Staff", permissions=discord.Permissions(manage_guild=True))
    assert env.bot.user is not None, "build the world once the bot has logged in"
    bureau_only: dict[Any, discord.PermissionOverwrite] = {
        guild.default_role: discord.PermissionOverwrite(view_channel=False),
        staff: discord.PermissionOverwrite(view_channel=True),
        env.bot.user: discord.PermissionOverwrite(view_channel=True),
    }
    square = guild.create_text_channel("town-square")
    announcements = guild.create_text_channel(
        "announcements",
        overwrites={
            guild.default_role: discord.PermissionOverwrite(send_messages=False),
            env.bot.user: discord.PermissionOverwrite(send_messages=True),
        },
    )
    bureau = guild.create_text_channel("bureau", overwrites=bureau_only)
    brag = guild.create_text_channel("brag")
    moderator = guild.add_member(env.create_user("warden", global_name="The Warden"), roles=[staff])
    people = []
    for index, persona in enumerate(cast_for(citizens)):
        name, shown = citizen_name(index)
        user = env.create_user(name, global_name=shown)
        people.append(SimCitizen(name=name, persona=persona, actor=guild.add_member(user)))
    you = guild.add_member(env.create_user("visitor", global_name="You")) if visitor else None
    return World(
        guild=guild,
        square=square,
        announcements=announcements,
        bureau=bureau,
        brag=brag,
        moderator=moderator,
        citizens=people,
        visitor=you,
    )
