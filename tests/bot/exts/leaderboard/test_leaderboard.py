from __future__ import annotations

import pytest
import simcord

from game.services import seasons
from tests.factories import make_citizen, set_score
from tests.support.citizens import (
    Plaza,
    assert_clean,
    bot_of,
    build_plaza,
    buttons,
    join,
    refusal,
    reply,
)

CITIZENS = 23  # three pages: 10, 10, 3


@pytest.fixture
async def plaza(sim: simcord.Env) -> Plaza:
    plaza = await build_plaza(sim)
    engine = bot_of(sim).engine
    # Scores 600 + 10*n for n = 1..23, so the order is known: citizen-23 on top.
    for n in range(1, CITIZENS + 1):
        made = await make_citizen(engine, n=n, guild_id=plaza.guild.id, now=sim.now())
        await set_score(engine, citizen_id=made.id, score=600 + 10 * n, now=sim.now())
    return plaza


def names(message: simcord.ResponseMessage) -> list[str]:
    """The citizens' names on a page, in order."""
    lines = [line for line in message.embeds[0].description.splitlines() if line.startswith("`#")]
    return [line.split("** ", 1)[1].split(" · ")[0] for line in lines]


async def test_the_top_page_lists_ten_from_the_best(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "leaderboard")

    assert not result.ephemeral, "the leaderboard is public"
    message = reply(result)
    embed = message.embeds[0]
    assert embed.title == "🏆 Top citizens, season 1"
    assert names(message) == [f"citizen-{n}" for n in range(23, 13, -1)]
    assert embed.description.splitlines()[0] == "`#  1` **830** citizen-23 · Visa"
    assert embed.footer.text == "Page 1 of 3 · 23 citizens"
    assert buttons(message) == {"Previous": False, "Next": True}
    assert_clean(sim)


async def test_next_and_previous_page_through_and_stop_at_the_ends(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "leaderboard")

    await plaza.ana.click(result.response, label="Next")
    assert names(result.response)[0] == "citizen-13"
    await plaza.ana.click(result.response, label="Next")
    page = result.response
    assert names(page) == ["citizen-3", "citizen-2", "citizen-1"]
    assert page.embeds[0].footer.text == "Page 3 of 3 · 23 citizens"
    assert buttons(page) == {"Previous": True, "Next": False}
    with pytest.raises(simcord.SetupError):  # a real member cannot click a disabled button
        await plaza.ana.click(page, label="Next")

    await plaza.ana.click(page, label="Previous")
    assert names(result.response)[0] == "citizen-13"
    assert result.response.embeds[0].footer.text == "Page 2 of 3 · 23 citizens"
    assert_clean(sim)


async def test_someone_elses_buttons_are_politely_refused(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "leaderboard")

    click = await plaza.bo.click(result.response, label="Next")

    assert (
        refusal(click)
        == "These buttons belong to whoever asked for this board; run /leaderboard for your own."
    )
    assert result.response.embeds[0].footer.text.startswith("Page 1 of 3"), "the page did not move"


async def test_the_bottom_lists_from_the_worst(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "leaderboard", order="bottom")

    message = reply(result)
    assert message.embeds[0].title == "🏆 Bottom citizens, season 1"
    assert names(message)[:3] == ["citizen-1", "citizen-2", "citizen-3"]
    # Ranks stay counted from the top.
    assert message.embeds[0].description.splitlines()[0].startswith("`# 23` **610** citizen-1")


async def test_a_page_past_the_end_shows_the_last_page_and_says_so(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "leaderboard", page=9)

    message = reply(result)
    assert message.embeds[0].description.startswith("*There are only 3 pages; here is the last.*")
    assert names(message) == ["citizen-3", "citizen-2", "citizen-1"]
    assert_clean(sim)


async def test_page_zero_cannot_be_sent(sim: simcord.Env, plaza: Plaza) -> None:
    # Discord itself refuses values under the option's minimum, before the bot hears of them.
    with pytest.raises(simcord.OptionError):
        await plaza.ana.slash(plaza.square, "leaderboard", page=0)


async def test_the_member_who_asked_is_marked(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.ana)

    message = reply(await plaza.ana.slash(plaza.square, "leaderboard", order="bottom"))

    assert "**600** Ana · Ordinary ← you" in message.embeds[0].description


async def test_without_any_season_it_says_how_to_start_one(sim: simcord.Env) -> None:
    plaza = await build_plaza(sim, season=False)

    result = await plaza.ana.slash(plaza.square, "leaderboard")

    assert refusal(result) == "No season is running here. A moderator can start one with /season start."


async def test_after_the_season_its_final_standings_stay_readable(sim: simcord.Env, plaza: Plaza) -> None:
    bot = bot_of(sim)
    await seasons.end_season(bot.engine, guild_id=plaza.guild.id, now=sim.now(), claimed_by="test")

    message = reply(await plaza.bo.slash(plaza.square, "leaderboard"))

    assert message.embeds[0].title == "🏆 Season 1 final standings: top"
    assert names(message)[0] == "citizen-23"
