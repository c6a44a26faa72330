from __future__ import annotations

import json

import discord
import pytest
import simcord
from sqlmodel import col

from game.models import Citizen, Friendship, LedgerEntry, ScoreCount, Season, SeasonStatus
from game.services import guilds, seasons
from tests.factories import set_score
from tests.support.citizens import (
    Plaza,
    assert_clean,
    bot_of,
    build_plaza,
    join,
    refusal,
    reply,
    rows,
    set_brag_channel,
    text_of,
)

NOT_A_CITIZEN = "You are not a citizen of this season yet. Use /join to enrol."
THEY_ARE_NOT = "That member is not a citizen of this season; they can /join first."


@pytest.fixture
async def plaza(sim: simcord.Env) -> Plaza:
    return await build_plaza(sim)


async def citizen(sim: simcord.Env, member: simcord.MemberActor) -> Citizen:
    [row] = await rows(sim, Citizen, Citizen.user_id == member.id)
    return row


# ------------------------------------------------------------------------------------------------ /join


async def test_join_enrols_at_the_start_score_and_says_so_publicly(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "join")

    assert not result.ephemeral
    embed = reply(result).embeds[0]
    assert embed.title == "Welcome, citizen #1"
    assert embed.description.startswith("## 600 · Ordinary")
    assert "500 credits" in embed.description
    row = await citizen(sim, plaza.ana)
    assert (row.score, row.balance, row.number, row.display_name) == (600, 500, 1, "Ana")
    assert_clean(sim)


async def test_joining_twice_is_refused_and_keeps_one_record(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)

    result = await plaza.ana.slash(plaza.square, "join")

    assert refusal(result) == "You are already a citizen of this season."
    assert len(await rows(sim, Citizen)) == 1


async def test_the_first_join_in_a_new_server_opens_its_first_season(sim: simcord.Env) -> None:
    plaza = await build_plaza(sim, season=False)

    result = await plaza.ana.slash(plaza.square, "join")

    assert not result.ephemeral
    [embed] = result.response.embeds
    assert embed.title == "Welcome, citizen #1"
    assert [field.name for field in embed.fields] == ["A season has begun"]
    [season] = await rows(sim, Season)
    assert (season.scenario_key, season.status) == ("classic", SeasonStatus.RUNNING)
    assert season.id in sim.bot.season_scheduler.scheduled
    [citizen] = await rows(sim, Citizen)
    assert (citizen.user_id, citizen.score) == (plaza.ana.id, 600)
    # The next member simply joins it.
    second = await plaza.bo.slash(plaza.square, "join")
    assert second.response.embeds[0].fields == []
    assert len(await rows(sim, Season)) == 1


async def test_join_after_the_season_ended_says_how_to_get_one(sim: simcord.Env, plaza: Plaza) -> None:
    await seasons.end_season(sim.bot.engine, guild_id=plaza.guild.id, now=sim.now(), claimed_by="test")

    result = await plaza.ana.slash(plaza.square, "join")

    assert refusal(result) == "No season is running here. A moderator can start one with /season start."
    assert not await rows(sim, Citizen)


# ----------------------------------------------------------------------------------------------- /score


async def test_score_posts_the_card_publicly_and_counts_lookups(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana, plaza.bo)

    first = await plaza.ana.slash(plaza.square, "score")
    second = await plaza.bo.slash(plaza.square, "score", citizen=plaza.ana)

    assert not first.ephemeral
    card = reply(second)
    embed = card.embeds[0]
    assert embed.title == "Ana · Citizen #1"
    assert embed.description.startswith("## 600 · Ordinary\nRank #1 of 2")
    fields = {field.name: field.value for field in embed.fields}
    assert "💬 Speech **±0**" in fields["Breakdown"]
    assert "Started at 600" in fields["Breakdown"]
    assert fields["Permits"] == "None"
    assert fields["Friends"] == "None"
    assert embed.footer.text == "Looked up 2 times today · Season 1"
    assert embed.image.url == "attachment://score-card.png"
    [attachment] = card.attachments
    assert attachment.filename == "score-card.png"
    assert (await citizen(sim, plaza.ana)).lookups_count == 2
    assert_clean(sim)


async def test_score_shows_the_breakdown_and_the_last_change(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)
    await set_score(
        bot_of(sim).engine, citizen_id=(await citizen(sim, plaza.ana)).id, score=712, now=sim.now()
    )

    embed = reply(await plaza.ana.slash(plaza.square, "score")).embeds[0]

    assert embed.description.startswith("## 712 · Travel Permit\nRank #1 of 1 · ▲ +112 since the last change")
    assert "🏛 Bureau **+112**" in embed.fields[0].value


async def test_score_refuses_non_citizens_and_bots_in_one_sentence(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)

    assert refusal(await plaza.bo.slash(plaza.square, "score")) == NOT_A_CITIZEN
    assert refusal(await plaza.ana.slash(plaza.square, "score", citizen=plaza.bo)) == THEY_ARE_NOT
    robot = await plaza.ana.slash(plaza.square, "score", citizen=plaza.robot)
    assert refusal(robot) == "Bots are not citizens: the Bureau keeps no score for them."
    # A refused look-up is not counted.
    assert (await citizen(sim, plaza.ana)).lookups_count == 0
    assert_clean(sim)


# --------------------------------------------------------------------------------------------- /history


async def test_history_lists_the_latest_entries_with_reasons_and_a_chart(
    sim: simcord.Env, plaza: Plaza
) -> None:
    await join(sim, plaza, plaza.ana, plaza.bo)
    ana = await citizen(sim, plaza.ana)
    await set_score(
        bot_of(sim).engine, citizen_id=ana.id, score=640, now=sim.now(), reason="exemplary conduct"
    )
    await sim.advance_time(120)

    result = await plaza.bo.slash(plaza.square, "history", citizen=plaza.ana)

    assert not result.ephemeral
    message = reply(result)
    embed = message.embeds[0]
    assert embed.title == "Ana's record · Citizen #1"
    [entry] = await rows(sim, LedgerEntry)
    latest = embed.fields[0].value
    assert latest.startswith(f"`#{entry.id}` **+40** 🏛 Bureau · exemplary conduct · 2 minutes ago")
    assert [a.filename for a in message.attachments] == ["score-history.png"]
    assert_clean(sim)


async def test_history_of_a_newcomer_says_there_is_nothing_yet(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)

    embed = reply(await plaza.ana.slash(plaza.square, "history")).embeds[0]

    assert "Nothing yet" in embed.fields[0].value
    assert embed.title == "Your record · Citizen #1"  # not "Ana's" (nor "You's") on your own


async def test_history_refuses_non_citizens(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)

    assert refusal(await plaza.bo.slash(plaza.square, "history")) == NOT_A_CITIZEN
    assert refusal(await plaza.ana.slash(plaza.square, "history", citizen=plaza.bo)) == THEY_ARE_NOT


# ---------------------------------------------------------------------------------------------- /mydata


async def test_mydata_is_a_private_json_file_of_everything_stored(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana, plaza.bo)
    ana = await citizen(sim, plaza.ana)
    await set_score(bot_of(sim).engine, citizen_id=ana.id, score=590, now=sim.now(), reason="idle talk")
    await plaza.ana.slash(plaza.square, "buy", item="diapers", quantity=2)
    request = await plaza.ana.slash(plaza.square, "friend add", user=plaza.bo)
    await plaza.bo.click(reply(request), label="Accept")

    result = await plaza.ana.slash(plaza.square, "mydata")

    assert result.ephemeral
    message = reply(result)
    [attachment] = message.attachments
    assert attachment.filename == "citizen-score-my-data.json"
    data = json.loads(await attachment.read())
    assert data["score"] == 590
    assert data["balance"] == 500 - 2 * 30
    [entry] = data["ledger"]
    assert entry["dimension"] == "bureau"
    assert entry["delta"] == -10
    assert entry["reason"] == "idle talk"
    assert entry["created_at"].startswith(sim.now().date().isoformat())
    [purchase] = data["purchases"]
    assert (purchase["item_key"], purchase["quantity"], purchase["total_price"]) == ("diapers", 2, 60)
    [friend] = data["friends"]
    assert (friend["user_id"], friend["display_name"]) == (str(plaza.bo.id), "Bo")
    # Only the member's own data: nothing about Bo beyond the friendship.
    assert data["user_id"] == str(plaza.ana.id)
    assert "1 ledger entry, 1 purchase, 1 friendship" in message.content
    assert_clean(sim)


async def test_mydata_of_a_stranger_says_nothing_is_held(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.cy.slash(plaza.square, "mydata")

    assert refusal(result) == "The Bureau holds no record of you here; there is nothing to export."


# ----------------------------------------------------------------------------------------------- /leave


async def test_leave_asks_first_then_deletes_everything(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana, plaza.bo)
    ana = await citizen(sim, plaza.ana)
    await set_score(bot_of(sim).engine, citizen_id=ana.id, score=630, now=sim.now())
    request = await plaza.ana.slash(plaza.square, "friend add", user=plaza.bo)
    await plaza.bo.click(reply(request), label="Accept")

    prompt = await plaza.ana.slash(plaza.square, "leave")

    assert prompt.ephemeral
    assert "1 ledger entry" in text_of(prompt)
    assert await rows(sim, Citizen, Citizen.user_id == plaza.ana.id), "nothing is deleted before the click"

    done = await plaza.ana.click(prompt.response, label="Delete everything")

    assert "You have left the game" in text_of(done)
    assert not reply(done).components, "the buttons are gone once used"
    assert not await rows(sim, Citizen, Citizen.user_id == plaza.ana.id)
    assert not await rows(sim, LedgerEntry, LedgerEntry.citizen_id == ana.id)
    assert not await rows(sim, Friendship)
    # Bo is still a citizen, and the rank table counts only him.
    assert [c.user_id for c in await rows(sim, Citizen)] == [plaza.bo.id]
    counts = await rows(sim, ScoreCount, col(ScoreCount.citizens) > 0)
    assert [(c.score, c.citizens) for c in counts] == [(600, 1)]
    assert_clean(sim)


async def test_leave_confirmed_twice_deletes_once_and_says_so(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)
    first = await plaza.ana.slash(plaza.square, "leave")
    second = await plaza.ana.slash(plaza.square, "leave")

    await plaza.ana.click(first.response, label="Delete everything")
    again = await plaza.ana.click(second.response, label="Delete everything")

    assert refusal(again) == "The Bureau holds no record of you here; there is nothing to delete."
    assert not await rows(sim, Citizen)
    assert_clean(sim)


async def test_leave_can_be_called_off(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)
    prompt = await plaza.ana.slash(plaza.square, "leave")

    kept = await plaza.ana.click(prompt.response, label="Keep me")

    assert "Nothing was deleted" in reply(kept).content
    assert await rows(sim, Citizen)


async def test_leave_by_a_stranger_has_nothing_to_delete(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.cy.slash(plaza.square, "leave")

    assert refusal(result) == "The Bureau holds no record of you here; there is nothing to delete."


async def test_after_leaving_one_can_join_again_from_scratch(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)
    await set_score(
        bot_of(sim).engine, citizen_id=(await citizen(sim, plaza.ana)).id, score=400, now=sim.now()
    )
    prompt = await plaza.ana.slash(plaza.square, "leave")
    await plaza.ana.click(prompt.response, label="Delete everything")

    await join(sim, plaza, plaza.ana)

    assert (await citizen(sim, plaza.ana)).score == 600


# ------------------------------------------------------------------------------------------------ /brag


async def test_brag_posts_the_card_image_in_the_brag_channel(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)
    await set_brag_channel(sim, plaza)

    result = await plaza.ana.slash(plaza.square, "brag")

    assert result.ephemeral
    assert plaza.brag.mention in reply(result).content
    posted = plaza.brag.last_message
    assert posted is not None
    # No web address, which leads nowhere off Discord (the sandbox's preview): the channel and the post.
    assert "http" not in reply(result).content
    assert str(posted.id) in reply(result).content
    assert posted.content.startswith(f"{plaza.ana.mention} is proud to report a score of **600** (Ordinary)")
    assert [a.filename for a in posted.attachments] == ["score-card.png"]
    # Bragging is not a look-up.
    assert (await citizen(sim, plaza.ana)).lookups_count == 0
    assert_clean(sim)


async def test_brag_without_a_brag_channel_says_who_can_set_one(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)

    result = await plaza.ana.slash(plaza.square, "brag")

    assert refusal(result) == (
        "This server has no brag channel yet; a moderator can choose one with /setup channels."
    )
    assert plaza.brag.last_message is None


async def test_brag_by_a_non_citizen_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    await set_brag_channel(sim, plaza)

    assert refusal(await plaza.cy.slash(plaza.square, "brag")) == NOT_A_CITIZEN
    assert plaza.brag.last_message is None


async def test_brag_where_the_bot_may_not_post_says_what_to_fix(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)
    me = plaza.guild.me
    assert me is not None
    locked = plaza.guild.create_text_channel(
        "locked-brag", overwrites={me: discord.PermissionOverwrite(send_messages=False)}
    )
    bot = bot_of(sim)
    async with bot.transaction() as session:
        await guilds.update_guild_settings(
            session, guild_id=plaza.guild.id, now=sim.now(), brag_channel_id=locked.id
        )

    result = await plaza.ana.slash(plaza.square, "brag")

    assert refusal(result).startswith("Discord refused me the permission for that.")
    assert locked.last_message is None
