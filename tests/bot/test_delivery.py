from __future__ import annotations

from datetime import timedelta

import discord
import pytest
import simcord

from bot.client import CitizenBot
from bot.courier import MARKER_LOOKBACK, Post, file_marker
from bot.courier.posts import bulletin_embed
from game.models import Citizen, OutboxKind, OutboxMessage, Permit, RequestStatus, Season
from game.payloads import Bulletin, Movement, TierMove
from game.services import friends, permits
from game.services.outbox import claim_undelivered, outbox_row
from tests.bot.conftest import build_test_bot
from tests.support.bureau import Town, build_town, configure, enrol, reply, rows, start_season


@pytest.fixture
async def town(sim: simcord.Env) -> Town:
    town = build_town(sim)
    await configure(sim, town)
    await start_season(sim, town)
    return town


def the_bot(sim: simcord.Env) -> CitizenBot:
    return sim.bot  # type: ignore[return-value]


async def restart(sim: simcord.Env) -> CitizenBot:
    """The process dies and a new one starts on the same database (nothing is flushed or marked)."""
    old = the_bot(sim)
    new = build_test_bot(old.settings.database_url, old.clock)
    await sim.restart_bot(new)
    return new


async def advance(sim: simcord.Env, seconds: float, *, step: float = 15 * 60) -> None:
    """Move the game's clock in steps (each ``advance_time`` must settle within SimCord's timeout)."""
    while seconds > 0:
        await sim.advance_time(min(step, seconds))
        seconds -= step


def bulletins(channel: simcord.ChannelHandle) -> list[discord.Message]:
    return [m for m in channel.history() if m.embeds and "Bureau bulletin" in (m.embeds[0].title or "")]


def warnings_in(channel: simcord.ChannelHandle) -> list[discord.Message]:
    return [m for m in channel.history() if m.embeds and "needs a hand" in (m.embeds[0].title or "")]


async def make_friends(sim: simcord.Env, town: Town, a: simcord.MemberActor, b: simcord.MemberActor) -> None:
    bot = the_bot(sim)
    async with bot.transaction() as session:
        await friends.request_friend(
            session, guild_id=town.guild.id, user_id=a.id, friend_user_id=b.id, now=bot.clock.now()
        )
        await friends.accept_friend(
            session, guild_id=town.guild.id, user_id=b.id, from_user_id=a.id, now=bot.clock.now()
        )


async def queue_bulletin(sim: simcord.Env, town: Town, who: simcord.MemberActor) -> int:
    """An outbox row as an audit writes it, without running the audit."""
    bot = the_bot(sim)
    [season] = await rows(sim, Season)
    bulletin = Bulletin(
        audit_number=7,
        messages_scored=3,
        citizens_changed=1,
        top_losses=(Movement(citizen_id=1, user_id=who.id, display_name=who.name, delta=-60, score=540),),
    )
    async with bot.transaction() as session:
        row = outbox_row(guild_id=town.guild.id, season_id=season.id, payload=bulletin, now=bot.clock.now())
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


# ------------------------------------------------------------------------------------------- bulletins


async def test_the_bulletin_names_gains_losses_and_friends_cascades(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    bo = town.guild.add_member(sim.create_user("bo"))
    cy = town.guild.add_member(sim.create_user("cy"))
    await enrol(sim, town, ana, bo, cy)
    await make_friends(sim, town, ana, bo)
    await bo.send(town.square, "Remember Tiananmen")
    await cy.send(town.square, "So much positive energy today")

    await town.mod.slash(town.square, "audit")

    [bulletin] = bulletins(town.announcements)
    embed = bulletin.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert f"{cy.mention} **+" in fields["\N{CHART WITH UPWARDS TREND} Biggest gains"]
    assert (
        f"{bo.mention} **\N{MINUS SIGN}60** → 540" in fields["\N{CHART WITH DOWNWARDS TREND} Biggest losses"]
    )
    assert (
        f"{ana.mention} lost 12 because of their friend {bo.mention}"
        in fields["\N{HANDSHAKE} Friends' penalties"]
    )
    assert embed.footer.text.startswith("Bureau file ")
    assert all(row.delivered_at is not None for row in await rows(sim, OutboxMessage))


async def test_an_audit_that_changed_nothing_posts_no_bulletin(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "audit")

    assert bulletins(town.announcements) == []
    assert all(row.delivered_at is not None for row in await rows(sim, OutboxMessage))


def test_new_holders_are_grouped_by_tier() -> None:
    from game.scenario import load_scenario

    bulletin = Bulletin(
        audit_number=2,
        top_gains=(Movement(user_id=1, delta=160, score=760),),
        promotions=(
            TierMove(user_id=1, old_tier="ordinary", new_tier="visa", score=760),
            TierMove(user_id=2, old_tier="trustworthy", new_tier="travel-permit", score=705),
            TierMove(user_id=3, old_tier="trustworthy", new_tier="visa", score=751),
        ),
        promotions_total=4,
    )
    embed = bulletin_embed(bulletin, load_scenario("classic"))

    assert embed is not None
    holders = {field.name: field.value for field in embed.fields}["\N{PASSPORT CONTROL} New holders"]
    assert "**Visa**: <@1>, <@3>" in holders
    assert "**Travel Permit**: <@2>" in holders
    assert "and 1 more" in holders


# --------------------------------------------------------------------------------------- exactly once


async def test_a_post_made_before_a_crash_is_not_made_again(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    bot = the_bot(sim)
    item_id = await queue_bulletin(sim, town, ana)
    # A process claims the row and posts the bulletin, then dies before marking it delivered.
    [item] = await claim_undelivered(
        bot.engine, limit=10, claimed_by="crashed-process", now=bot.clock.now(), guild_ids=[town.guild.id]
    )
    assert item.id == item_id
    guild = bot.get_guild(town.guild.id)
    assert guild is not None
    assert isinstance(item.payload, Bulletin)
    embed = bulletin_embed(item.payload, None)
    assert embed is not None
    await bot.courier.post_once(
        guild, "announcements", Post(marker=file_marker(item.id), embeds=[embed]), what="x"
    )
    assert len(bulletins(town.announcements)) == 1

    new = await restart(sim)
    await sim.advance_time(3 * 60)  # the dead process's claim expires; the new courier retries the row

    assert len(bulletins(town.announcements)) == 1
    [row] = [r for r in await rows(sim, OutboxMessage) if r.id == item_id]
    assert row.delivered_at is not None
    assert row.claimed_by is None
    assert new is not bot


async def test_rows_are_delivered_once_however_often_the_courier_runs(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    bot = the_bot(sim)
    await queue_bulletin(sim, town, ana)

    for _ in range(3):
        bot.courier.wake()
    await sim.settle()
    await sim.advance_time(5 * 60)
    await restart(sim)
    await sim.advance_time(5 * 60)

    assert len(bulletins(town.announcements)) == 1


async def test_the_marker_is_found_among_recent_messages(sim: simcord.Env, town: Town) -> None:
    bot = the_bot(sim)
    guild = bot.get_guild(town.guild.id)
    assert guild is not None
    post = Post(marker=file_marker(99), embeds=[discord.Embed(title="Once")])
    await bot.courier.post_once(guild, "announcements", post, what="a test post")
    for n in range(MARKER_LOOKBACK - 5):
        await town.mod.send(town.announcements, f"chatter {n}")

    again = Post(marker=file_marker(99), embeds=[discord.Embed(title="Once")])
    await bot.courier.post_once(guild, "announcements", again, what="a test post")

    assert len([m for m in town.announcements.history() if m.embeds and m.embeds[0].title == "Once"]) == 1


# ------------------------------------------------------------------------------- Discord says no (50013)


async def test_a_channel_the_bot_may_not_post_in_gives_one_warning_and_a_later_retry(
    sim: simcord.Env, town: Town
) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    sim.inject_error(
        "POST",
        f"/channels/{town.announcements.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=2,
    )
    await ana.send(town.square, "Tiananmen, again")

    await town.mod.slash(town.square, "audit")

    [warning] = warnings_in(town.bureau)
    assert town.announcements.mention in warning.embeds[0].description
    assert "Send Messages" in warning.embeds[0].description
    assert bulletins(town.announcements) == []
    [row] = [r for r in await rows(sim, OutboxMessage) if r.kind == OutboxKind.BULLETIN]
    assert row.delivered_at is None
    assert row.attempts == 1
    assert "Missing Permissions" in (row.last_error or "")
    # The game's data is untouched by a delivery problem.
    [citizen] = await rows(sim, Citizen)
    assert citizen.score == 540

    await sim.advance_time(3 * 60)  # a second refusal: still one warning
    await sim.advance_time(5 * 60)  # the third attempt goes through

    assert len(warnings_in(town.bureau)) == 1
    assert len(bulletins(town.announcements)) == 1
    [row] = [r for r in await rows(sim, OutboxMessage) if r.kind == OutboxKind.BULLETIN]
    assert row.delivered_at is not None


async def test_no_announcements_channel_is_reported_once(sim: simcord.Env) -> None:
    town = build_town(sim, "Unfinished Town")
    await town.mod.slash(town.square, "setup channels", moderators=town.bureau)
    await start_season(sim, town)
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    await town.mod.slash(town.square, "setup game-channel add", channel=town.square)
    await the_bot(sim).recorder.wait_refreshed()
    await ana.send(town.square, "Winnie the Pooh")

    await town.mod.slash(town.square, "audit")
    await sim.advance_time(3 * 60)

    [warning] = warnings_in(town.bureau)
    assert "/setup channels" in warning.embeds[0].description


# -------------------------------------------------------------------------------------------------- roles


async def roles_of(sim: simcord.Env, town: Town, member: simcord.MemberActor) -> set[str]:
    guild = the_bot(sim).get_guild(town.guild.id)
    assert guild is not None
    found = guild.get_member(member.id)
    assert found is not None
    return {role.name for role in found.roles}


def role_edits(sim: simcord.Env) -> list[object]:
    """Requests that give or take one role of one member."""
    return [r for r in sim.http_requests if r.method in ("PUT", "DELETE") and "/roles/" in r.path]


async def test_tier_roles_follow_the_tier_and_only_changed_members_are_touched(
    sim: simcord.Env, town: Town
) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    bo = town.guild.add_member(sim.create_user("bo"))
    await enrol(sim, town, ana, bo)
    await town.mod.slash(town.square, "setup roles")
    before = len(role_edits(sim))

    await town.mod.slash(town.square, "adjust", citizen=ana, delta=160, reason="Model behaviour")
    assert "Visa" in await roles_of(sim, town, ana)
    await town.mod.slash(town.square, "adjust", citizen=ana, delta=-60, reason="Backsliding")
    assert "Visa" not in await roles_of(sim, town, ana)
    assert "Travel Permit" in await roles_of(sim, town, ana)
    await town.mod.slash(town.square, "adjust", citizen=bo, delta=5, reason="Tidy desk")

    # Ana: Visa given; then Visa taken and Travel Permit given. Bo's tier never changed: no request.
    assert len(role_edits(sim)) - before == 3
    assert not {"Visa", "Travel Permit", "Model Citizen"} & await roles_of(sim, town, bo)


async def test_a_role_edit_discord_refuses_gives_one_warning_and_the_data_stays(
    sim: simcord.Env, town: Town
) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    bo = town.guild.add_member(sim.create_user("bo"))
    await enrol(sim, town, ana, bo)
    await town.mod.slash(town.square, "setup roles")
    sim.inject_error(
        "*",
        f"/guilds/{town.guild.id}/members/*/roles/*",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=None,
    )

    adjusted = await town.mod.slash(town.square, "adjust", citizen=ana, delta=160, reason="Exemplary")
    await town.mod.slash(town.square, "adjust", citizen=bo, delta=200, reason="Exemplary too")

    assert "Visa" in {f.name: f.value for f in adjusted.response.embeds[0].fields}["Tier"]
    [warning] = warnings_in(town.bureau)
    assert "Manage Roles" in warning.embeds[0].description
    assert "safe in the ledger" in warning.embeds[0].description
    scores = {c.user_id: (c.score, c.tier_key) for c in await rows(sim, Citizen)}
    assert scores == {ana.id: (760, "visa"), bo.id: (800, "visa")}
    syncs = [r for r in await rows(sim, OutboxMessage) if r.kind == OutboxKind.ROLE_SYNC]
    assert len(syncs) == 2
    assert all(r.delivered_at is None and r.attempts == 1 for r in syncs)


async def test_a_tier_role_above_the_bot_is_reported_without_calling_discord(
    sim: simcord.Env, town: Town
) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    town.guild.create_role("Visa", position=50)
    await town.mod.slash(town.square, "setup roles")
    before = len(role_edits(sim))

    await town.mod.slash(town.square, "adjust", citizen=ana, delta=160, reason="Exemplary")

    [warning] = warnings_in(town.bureau)
    assert "above my highest role" in warning.embeds[0].description
    assert len(role_edits(sim)) == before


# ----------------------------------------------------------------------------------------- permit cards


async def request_permit(sim: simcord.Env, town: Town, member: simcord.MemberActor) -> int:
    bot = the_bot(sim)
    async with bot.transaction() as session:
        permit = await permits.request_permit(
            session,
            guild_id=town.guild.id,
            user_id=member.id,
            topic="politics",
            reason="Debate club",
            now=bot.clock.now(),
        )
    await bot.courier.deliver_pending()
    return permit.id


async def test_permit_requests_reach_the_moderators_with_buttons_that_survive_a_restart(
    sim: simcord.Env, town: Town
) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    permit_id = await request_permit(sim, town, ana)
    card = town.bureau.last_message
    assert card.embeds[0].title == f"\N{PASSPORT CONTROL} Permit request #{permit_id}"
    assert ana.mention in card.embeds[0].description

    refused = await town.plain.click(card, label="Approve")
    assert "Only the Bureau can do that" in reply(refused).content
    [permit] = await rows(sim, Permit)
    assert permit.status == RequestStatus.PENDING

    await restart(sim)
    card = town.bureau.last_message  # the same message, as the new process's cache sees it
    approved = await town.mod.click(card, label="Approve")

    decision = {f.name: f.value for f in approved.response.embeds[0].fields}["Decision"]
    assert decision.startswith("\N{WHITE HEAVY CHECK MARK} Approved by")
    assert not approved.response.components
    [permit] = await rows(sim, Permit)
    assert permit.status == RequestStatus.APPROVED
    assert permit.expires_at is not None
    assert permit.expires_at - permit.decided_at == timedelta(hours=24)  # type: ignore[operator]


async def test_a_decision_clicked_twice_is_refused_politely(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    await request_permit(sim, town, ana)
    card = town.bureau.last_message
    listed = await town.mod.slash(town.square, "permits")  # the same request, on a second card

    await town.mod.click(card, label="Deny")
    late = await town.mod.click(listed.response, label="Approve")

    assert "already decided (denied)" in reply(late).content
    [permit] = await rows(sim, Permit)
    assert permit.status == RequestStatus.DENIED


# ------------------------------------------------------------------------------------------- season end


async def test_the_season_end_posts_standings_and_the_debrief_and_clears_roles(
    sim: simcord.Env, town: Town
) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    bo = town.guild.add_member(sim.create_user("bo"))
    await enrol(sim, town, ana, bo)
    await town.mod.slash(town.square, "setup roles")
    await town.mod.slash(town.square, "adjust", citizen=ana, delta=160, reason="Exemplary")
    assert "Visa" in await roles_of(sim, town, ana)

    await advance(sim, 2 * 60 * 60 + 60)  # past the two-hour deadline

    standings = [
        m for m in town.announcements.history() if m.embeds and "is over" in (m.embeds[0].title or "")
    ]
    [final] = standings
    top = {f.name: f.value for f in final.embeds[0].fields}["Most trusted"]
    assert top.index(ana.mention) < top.index(bo.mention)
    debrief = [m for m in town.bureau.history() if m.embeds and "debrief" in (m.embeds[0].title or "")]
    [message] = debrief
    assert sorted(a.filename for a in message.attachments) == [
        "season-1-ledger.csv",
        "season-1-ledger.json",
        "season-1-report.html",
    ]
    assert "Visa" not in await roles_of(sim, town, ana)
    assert all(row.delivered_at is not None for row in await rows(sim, OutboxMessage))


async def test_season_report_on_demand(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)

    result = await town.mod.slash(town.square, "season report")

    answer = reply(result)
    assert answer.embeds[0].title == "\N{BAR CHART} Season 1 debrief"
    assert "still under way" in answer.embeds[0].footer.text
    assert len(answer.attachments) == 3


async def test_setup_roles_gives_existing_holders_their_role(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    bo = town.guild.add_member(sim.create_user("bo"))
    await enrol(sim, town, ana, bo)
    await town.mod.slash(town.square, "adjust", citizen=ana, delta=260, reason="Exemplary")  # Model Citizen
    before = len(role_edits(sim))

    await town.mod.slash(town.square, "setup roles")

    assert "Model Citizen" in await roles_of(sim, town, ana)
    assert not {"Visa", "Travel Permit", "Model Citizen"} & await roles_of(sim, town, bo)
    assert len(role_edits(sim)) - before == 1
