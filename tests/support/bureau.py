"""Helpers shared by the Bureau's bot tests: a guild set up like a real community's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import discord
import simcord
from sqlmodel import select

from bot.client import CitizenBot
from game.services import citizens, guilds
from game.services.citizens import CitizenView

T = TypeVar("T")

BUREAU_COMMANDS = ("setup", "season", "audit", "adjust", "rules", "catalog", "permits", "appeals", "decree")
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


async def configure(sim: simcord.Env, town: Town) -> None:
    """What /setup channels and /setup game-channel add store, without going through the commands."""
    bot: CitizenBot = sim.bot  # type: ignore[assignment]
    async with bot.transaction() as session:
        await guilds.update_guild_settings(
            session,
            guild_id=town.guild.id,
            now=bot.clock.now(),
            announcements_channel_id=town.announcements.id,
            brag_channel_id=town.brag.id,
            moderators_channel_id=town.bureau.id,
        )
        await guilds.add_game_channel(session, guild_id=town.guild.id, channel_id=town.square.id)
    bot.game_state_changed(town.guild.id)


async def rows(sim: simcord.Env, model: type[T]) -> list[T]:
    bot: CitizenBot = sim.bot  # type: ignore[assignment]
    async with bot.transaction() as session:
        return list((await session.exec(select(model))).all())


async def start_season(
    sim: simcord.Env, town: Town, *, duration: str = "2h", audit_every: str = "15m"
) -> None:
    """A moderator starts a classic season with /season start."""
    result = await town.mod.slash(
        town.square, "season start", scenario="classic", duration=duration, audit_every=audit_every
    )
    assert result.response is not None
    assert not result.response.content, result.response.content


async def enrol(sim: simcord.Env, town: Town, *members: simcord.MemberActor) -> list[CitizenView]:
    """What /join does for each member (through the citizens service, so these tests do not depend on
    the citizens' commands)."""
    bot: CitizenBot = sim.bot  # type: ignore[assignment]
    views = []
    async with bot.transaction() as session:
        for member in members:
            views.append(
                await citizens.join(
                    session,
                    guild_id=town.guild.id,
                    user_id=member.id,
                    display_name=member.name,
                    now=bot.clock.now(),
                )
            )
    bot.game_state_changed(town.guild.id)
    await bot.recorder.wait_refreshed()
    return views
