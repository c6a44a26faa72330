"""Helpers shared by the Bureau's bot tests: a guild set up like a real community's."""

from __future__ import annotations

from dataclasses import dataclass

import discord
import simcord

BUREAU_COMMANDS = ("setup", "season", "audit", "adjust", "rules", "catalog", "permits", "appeals")
REFUSAL = "Only the Bureau can do that"


@dataclass
class Town:
    """A guild with the Bureau's channels, a moderator (Manage Server) and a plain member."""

    guild: simcord.GuildHandle
    square: simcord.ChannelHandle
    announcements: simcord.ChannelHandle
    bureau: simcord.ChannelHandle
    brag: simcord.ChannelHandle
    mod: simcord.MemberActor
    plain: simcord.MemberActor


def build_town(sim: simcord.Env, name: str = "Harmony Hall") -> Town:
    guild = sim.create_guild(name)
    staff = guild.create_role("Staff", permissions=discord.Permissions(manage_guild=True))
    # The bot joins with its integration role on top, like a typical invite: it can manage the
    # tier roles it creates below itself.
    return Town(
        guild=guild,
        square=guild.create_text_channel("town-square"),
        announcements=guild.create_text_channel("announcements"),
        bureau=guild.create_text_channel("bureau"),
        brag=guild.create_text_channel("brag"),
        mod=guild.add_member(sim.create_user("warden"), roles=[staff]),
        plain=guild.add_member(sim.create_user("plain")),
    )


def open_bureau_commands(sim: simcord.Env, guild: simcord.GuildHandle, target: object) -> None:
    """What a server admin does in Integrations: show the Bureau's commands to ``target`` as well.

    Discord hides them from members without Manage Server; this lets the test reach the bot's own check.
    """
    for name in BUREAU_COMMANDS:
        command = sim.backend.find_command(name, guild.id, type=1)
        if command is not None:
            guild.set_command_permissions(int(command["id"]), {target: True})  # type: ignore[dict-item]


def assert_refused(result: simcord.InteractionResult) -> None:
    assert result.ephemeral
    assert result.response is not None
    assert REFUSAL in result.response.content, result.response.content


def reply(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    """What the member sees: the last followup, or the (possibly deferred, then edited) response."""
    if result.followups:
        return result.followups[-1]
    assert result.response is not None, "the bot did not answer"
    return result.response
