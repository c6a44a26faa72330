"""Helpers for the citizens' side of the bot tests: a town with a running season, and database reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import simcord
from sqlmodel import SQLModel, select

from bot.client import CitizenBot
from game.services import guilds
from game.services.seasons import SeasonView
from tests.bot.conftest import start_test_season

M = TypeVar("M", bound=SQLModel)


@dataclass
class Plaza:
    """A guild with a running classic season, a town square, a brag channel and three members."""

    guild: simcord.GuildHandle
    square: simcord.ChannelHandle
    brag: simcord.ChannelHandle
    ana: simcord.MemberActor
    bo: simcord.MemberActor
    cy: simcord.MemberActor
    robot: simcord.MemberActor
    season: SeasonView | None


def bot_of(sim: simcord.Env) -> CitizenBot:
    return sim.bot  # type: ignore[return-value]


async def build_plaza(
    sim: simcord.Env, *, season: bool = True, audit_every: timedelta = timedelta(minutes=15)
) -> Plaza:
    guild = sim.create_guild("Harmony Hall")
    plaza = Plaza(
        guild=guild,
        square=guild.create_text_channel("town-square"),
        brag=guild.create_text_channel("brag"),
        ana=guild.add_member(sim.create_user("ana", global_name="Ana")),
        bo=guild.add_member(sim.create_user("bo", global_name="Bo")),
        cy=guild.add_member(sim.create_user("cy", global_name="Cy")),
        robot=guild.add_member(sim.create_user("robot", bot=True)),
        season=None,
    )
    if season:
        plaza.season = await start_test_season(
            sim, guild, duration=timedelta(days=2), audit_every=audit_every
        )
    return plaza


async def join(sim: simcord.Env, plaza: Plaza, *members: simcord.MemberActor) -> None:
    for member in members:
        result = await member.slash(plaza.square, "join")
        assert not result.ephemeral, text_of(result)


async def set_brag_channel(sim: simcord.Env, plaza: Plaza) -> None:
    bot = bot_of(sim)
    async with bot.transaction() as session:
        await guilds.update_guild_settings(
            session, guild_id=plaza.guild.id, now=bot.clock.now(), brag_channel_id=plaza.brag.id
        )


async def rows(sim: simcord.Env, model: type[M], *where: Any) -> Sequence[M]:
    async with bot_of(sim).transaction() as session:
        statement = select(model)
        for condition in where:
            statement = statement.where(condition)
        return (await session.exec(statement)).all()


def reply(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    """What the member sees: the last followup, or the (possibly deferred, then edited) response."""
    if result.followups:
        return result.followups[-1]
    assert result.response is not None, "the bot did not answer"
    return result.response


def text_of(result: simcord.InteractionResult) -> str:
    """Everything the member can read in the answer: content, embed titles, descriptions, fields."""
    message = reply(result)
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or ""]
        parts += [f"{field.name}\n{field.value}" for field in embed.fields]
        if embed.footer and embed.footer.text:
            parts.append(embed.footer.text)
    return "\n".join(part for part in parts if part)


def refusal(result: simcord.InteractionResult) -> str:
    """The one private sentence a refused member sees."""
    message = reply(result)
    assert result.ephemeral or message.ephemeral, f"expected a private answer, got {message!r}"
    assert not message.embeds, "a refusal is one sentence, not an embed"
    return message.content


def assert_clean(sim: simcord.Env) -> None:
    """Nothing went wrong on the bot's side: only the game's own refusals were raised."""
    from bot.errors import user_message

    unexpected = [error for error in sim.errors if user_message(error) is None]
    assert not unexpected, unexpected


def buttons(message: simcord.ResponseMessage) -> dict[str, bool]:
    """``{label: enabled}`` for every button of a message."""
    found: dict[str, bool] = {}
    stack = list(message.components)
    while stack:
        component = stack.pop()
        stack.extend(component.get("components") or [])
        if component.get("type") == 2 and component.get("label"):
            found[component["label"]] = not component.get("disabled", False)
    return found


async def run_audit(sim: simcord.Env, plaza: Plaza) -> None:
    """Let one audit interval pass and run the audit that is due, as the season scheduler would."""
    assert plaza.season is not None
    await sim.advance_time(plaza.season.audit_every.total_seconds() + 1)
    await bot_of(sim).season_scheduler.run_season(plaza.season.id, sim.now())
    await sim.settle()
