from __future__ import annotations

import pytest
import simcord

from game.models import OutboxKind, OutboxMessage, Permit, RequestStatus
from game.services import permits
from tests.support.citizens import (
    Plaza,
    assert_clean,
    bot_of,
    build_plaza,
    join,
    refusal,
    reply,
    rows,
)

NOT_A_CITIZEN = "You are not a citizen of this season yet. Use /join to enrol."
REASON = "I would like to discuss the coming election at the debate club."


@pytest.fixture
async def plaza(sim: simcord.Env) -> Plaza:
    plaza = await build_plaza(sim)
    await join(sim, plaza, plaza.ana)
    return plaza


async def test_a_request_goes_to_the_bureau_through_the_outbox(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "permit request", topic="politics", reason=REASON)

    assert result.ephemeral
    embed = reply(result).embeds[0]
    assert embed.title == "📜 Permit requested: politics"
    assert "lasts 1 day" in embed.description
    assert embed.fields[0].value == REASON
    [permit] = await rows(sim, Permit)
    assert (permit.topic, permit.status, permit.reason) == ("politics", RequestStatus.PENDING, REASON)
    [row] = await rows(sim, OutboxMessage, OutboxMessage.kind == OutboxKind.PERMIT_REQUEST)
    assert row.payload["permit_id"] == permit.id
    assert row.payload["user_id"] == plaza.ana.id
    assert row.payload["topic"] == "politics"
    assert_clean(sim)


async def test_topics_are_suggested_from_the_running_scenario(sim: simcord.Env, plaza: Plaza) -> None:
    everything = await plaza.ana.autocomplete(plaza.square, "permit request", "topic", "")
    typed = await plaza.ana.autocomplete(plaza.square, "permit request", "topic", "eco")

    assert [choice["value"] for choice in everything] == ["politics", "economy", "foreign-affairs"]
    assert typed == [{"name": "the economy (economy)", "value": "economy"}]


async def test_a_topic_may_be_named_rather_than_picked(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "permit request", topic="The Economy", reason=REASON)

    assert reply(result).embeds[0].title == "📜 Permit requested: the economy"


async def test_a_topic_that_needs_no_permit_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "permit request", topic="weather", reason=REASON)

    assert (
        refusal(result)
        == "“weather” does not need a permit; choose one of: politics, economy, foreign-affairs."
    )
    assert not await rows(sim, Permit)


async def test_asking_twice_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    await plaza.ana.slash(plaza.square, "permit request", topic="politics", reason=REASON)

    again = await plaza.ana.slash(plaza.square, "permit request", topic="politics", reason=REASON)

    assert refusal(again) == "You already asked for a permit on politics; wait for the Bureau's decision."
    assert len(await rows(sim, Permit)) == 1


async def test_reasons_are_bounded(sim: simcord.Env, plaza: Plaza) -> None:
    # The option declares the service's limit, so Discord refuses longer text before the bot hears it.
    with pytest.raises(simcord.OptionError):
        await plaza.ana.slash(plaza.square, "permit request", topic="politics", reason="x" * 2000)
    blank = await plaza.ana.slash(plaza.square, "permit request", topic="politics", reason="   ")
    longest = await plaza.ana.slash(
        plaza.square, "permit request", topic="economy", reason="y" * permits.MAX_PERMIT_REASON
    )

    assert refusal(blank) == "Tell the Bureau why you need the permit, in a few words."
    assert reply(longest).embeds[0].title == "📜 Permit requested: the economy", (
        "the longest reason goes through"
    )
    assert [p.topic for p in await rows(sim, Permit)] == ["economy"]


async def test_non_citizens_are_refused(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.bo.slash(plaza.square, "permit request", topic="politics", reason=REASON)

    assert refusal(result) == NOT_A_CITIZEN
    assert not await rows(sim, Permit)


async def test_without_a_season_there_is_nothing_to_request(sim: simcord.Env) -> None:
    plaza = await build_plaza(sim, season=False)

    result = await plaza.ana.slash(plaza.square, "permit request", topic="politics", reason=REASON)

    assert refusal(result) == "No season is running here. A moderator can start one with /season start."
    assert await plaza.ana.autocomplete(plaza.square, "permit request", "topic", "") == []


async def test_an_approved_permit_shows_on_the_card(sim: simcord.Env, plaza: Plaza) -> None:
    await plaza.ana.slash(plaza.square, "permit request", topic="politics", reason=REASON)
    [permit] = await rows(sim, Permit)
    bot = bot_of(sim)
    async with bot.transaction() as session:
        await permits.approve_permit(
            session, guild_id=plaza.guild.id, permit_id=permit.id, moderator_id=plaza.cy.id, now=sim.now()
        )

    embed = reply(await plaza.ana.slash(plaza.square, "score")).embeds[0]

    fields = {field.name: field.value for field in embed.fields}
    assert fields["Permits"] == "`politics` politics, ends in 1 day"
