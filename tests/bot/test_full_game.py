"""A whole season in one test, played through the commands as members would.

Set-up, season start, joins, friends, forbidden talk, purchases, a scheduled audit and its bulletin,
tier roles granted and taken away, the leaderboard, a moderator's audit, and the season's end with its
standings and debrief. It asserts what people see in their channels and what the database holds.
"""

from __future__ import annotations

import discord
import simcord
from sqlmodel import select

from bot.client import CitizenBot
from game.models import (
    Audit,
    Citizen,
    LedgerEntry,
    OutboxMessage,
    PendingMessage,
    Purchase,
    Season,
    SeasonStatus,
)
from tests.support.bureau import build_town, reply, rows


def the_bot(sim: simcord.Env) -> CitizenBot:
    return sim.bot  # type: ignore[return-value]


def embed_text_of(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or ""]
    parts += [f"{field.name}\n{field.value}" for field in embed.fields]
    return "\n".join(parts)


def embed_text(message: discord.Message) -> str:
    return embed_text_of(message.embeds[0])


def posts(channel: simcord.ChannelHandle, title_part: str) -> list[discord.Message]:
    return [m for m in channel.history() if m.embeds and title_part in (m.embeds[0].title or "")]


async def member_roles(sim: simcord.Env, guild_id: int, member: simcord.MemberActor) -> set[str]:
    guild = the_bot(sim).get_guild(guild_id)
    assert guild is not None
    found = guild.get_member(member.id)
    assert found is not None
    return {role.name for role in found.roles}


async def test_a_whole_season(sim: simcord.Env) -> None:
    town = build_town(sim, "Harmony Hall")
    mod, square = town.mod, town.square

    # --- The Bureau sets up.
    await mod.slash(
        square, "setup channels", announcements=town.announcements, brag=town.brag, moderators=town.bureau
    )
    await mod.slash(square, "setup game-channel add", channel=square)
    started = await mod.slash(square, "season start", scenario="classic", duration="2h", audit_every="15m")
    assert "Season 1 started" in started.response.embeds[0].title
    assert "Season 1 begins: Classic" in town.announcements.last_message.embeds[0].title
    roles = await mod.slash(square, "setup roles")
    assert "Travel Permit" in reply(roles).embeds[0].description

    # --- Citizens join and make friends.
    ana, bo, cy, di = (town.guild.add_member(sim.create_user(name)) for name in ("ana", "bo", "cy", "di"))
    for member in (ana, bo, cy, di):
        await member.slash(square, "join")
    assert {c.user_id: c.score for c in await rows(sim, Citizen)} == dict.fromkeys(
        (ana.id, bo.id, cy.id, di.id), 600
    )
    await ana.slash(square, "friend add", user=bo)
    await bo.slash(square, "friend accept", user=str(ana.id))
    await the_bot(sim).recorder.wait_refreshed()

    # --- A moderator's thumb on the scale, then talk and shopping between audits.
    await mod.slash(square, "adjust", citizen=cy, delta=95, reason="Volunteered at the census")
    await bo.send(square, "Does anyone remember Tiananmen?")
    await cy.send(square, "Such positive energy in the square today!")
    await di.send(square, "Let us discuss politics tonight")
    bought = await ana.slash(square, "buy", item="diapers")
    assert "Diapers" in (reply(bought).content + "".join(embed_text_of(e) for e in reply(bought).embeds))
    await di.slash(square, "buy", item="video-game")
    outsider = town.guild.add_member(sim.create_user("outsider"))
    await outsider.send(square, "Tiananmen Tiananmen (not a citizen, never recorded)")

    # --- The scheduled audit runs on the game's clock.
    await sim.advance_time(15 * 60 + 11)

    [audit] = await rows(sim, Audit)
    assert audit.number == 1
    scores = {c.user_id: c.score for c in await rows(sim, Citizen)}
    # bo: Tiananmen -60. ana: diapers +10, and a fifth of bo's penalty, -12. cy: +95, then +10 positive
    # energy. di: politics without a permit -25, a video game -20. Finance: stipend 20 > cost 15.
    assert scores == {ana.id: 598, bo.id: 540, cy.id: 705, di.id: 555}
    assert outsider.id not in scores
    assert await rows(sim, PendingMessage) == []  # the text is gone once audited

    [bulletin] = posts(town.announcements, "Bureau bulletin")
    text = embed_text(bulletin)
    assert f"{bo.mention} **\N{MINUS SIGN}60** → 540" in text
    assert f"{ana.mention} lost 12 because of their friend {bo.mention}" in text
    assert f"**Travel Permit**: {cy.mention}" in text
    assert "Travel Permit" in await member_roles(sim, town.guild.id, cy)
    assert "Travel Permit" not in await member_roles(sim, town.guild.id, ana)

    # --- The leaderboard, for all to see.
    board = await di.slash(square, "leaderboard")
    shown = embed_text_of(board.response.embeds[0])
    positions = [shown.index(name) for name in ("cy", "ana", "di", "bo")]
    assert positions == sorted(positions)

    # --- cy slips; the moderator audits at once; the permit role goes.
    await cy.send(square, "Winnie the Pooh looks like someone")
    audited = await mod.slash(square, "audit")
    assert reply(audited).embeds[0].title == "Audit 2 done"
    assert "Travel Permit" not in await member_roles(sim, town.guild.id, cy)
    assert {c.user_id: c.score for c in await rows(sim, Citizen)}[cy.id] == 675
    assert len(posts(town.announcements, "Bureau bulletin")) == 2

    # --- The season ends.
    asked = await mod.slash(square, "season end")
    ended = await mod.click(asked.response, label="End the season")
    assert "is over" in reply(ended).embeds[0].description

    [final] = posts(town.announcements, "is over")
    standings = embed_text(final)
    order = [standings.index(member.mention) for member in (ana, di, bo)]
    assert order == sorted(order)
    [debrief] = posts(town.bureau, "debrief")
    assert {a.filename for a in debrief.attachments} == {
        "season-1-report.html",
        "season-1-ledger.csv",
        "season-1-ledger.json",
    }

    # --- What the database holds.
    [season] = await rows(sim, Season)
    assert season.status == SeasonStatus.ENDED
    assert [a.number for a in await rows(sim, Audit)] == [1, 2, 3]
    bot = the_bot(sim)
    async with bot.transaction() as session:
        for citizen in (await session.exec(select(Citizen))).all():
            deltas = (
                await session.exec(select(LedgerEntry.delta).where(LedgerEntry.citizen_id == citizen.id))
            ).all()
            assert 600 + sum(deltas) == citizen.score, citizen.display_name
    assert len(await rows(sim, Purchase)) == 2
    assert all(row.delivered_at is not None for row in await rows(sim, OutboxMessage))
    assert not {"Travel Permit", "Visa", "Model Citizen"} & await member_roles(sim, town.guild.id, cy)
