from __future__ import annotations

import pytest
import simcord
from sqlmodel import col

from bot.client import CitizenBot
from game.models import Citizen, FriendRequest, Friendship, RequestStatus
from tests.bot.conftest import build_test_bot
from tests.support.citizens import (
    Plaza,
    assert_clean,
    bot_of,
    build_plaza,
    buttons,
    join,
    refusal,
    reply,
    rows,
    run_audit,
    text_of,
)

NOT_A_CITIZEN = "You are not a citizen of this season yet. Use /join to enrol."


@pytest.fixture
async def plaza(sim: simcord.Env) -> Plaza:
    plaza = await build_plaza(sim)
    await join(sim, plaza, plaza.ana, plaza.bo)
    return plaza


async def friendships(sim: simcord.Env) -> set[tuple[int, int]]:
    """Friendships as pairs of user ids, one per direction stored."""
    ids = {c.id: c.user_id for c in await rows(sim, Citizen)}
    return {(ids[f.citizen_id], ids[f.friend_id]) for f in await rows(sim, Friendship)}


async def ask(
    plaza: Plaza, asker: simcord.MemberActor, asked: simcord.MemberActor
) -> simcord.ResponseMessage:
    result = await asker.slash(plaza.square, "friend add", user=asked)
    assert not result.ephemeral, text_of(result)
    return reply(result)


# ------------------------------------------------------------------------------------------ requests


async def test_a_request_reaches_the_other_member_with_buttons(sim: simcord.Env, plaza: Plaza) -> None:
    message = await ask(plaza, plaza.ana, plaza.bo)

    assert message.content.startswith(
        f"{plaza.bo.mention}, {plaza.ana.mention} would like to be your friend."
    )
    assert buttons(message) == {"Accept": True, "Decline": True}
    [request] = await rows(sim, FriendRequest)
    assert request.status == RequestStatus.PENDING
    assert_clean(sim)


async def test_accepting_makes_friends_both_ways_and_retires_the_buttons(
    sim: simcord.Env, plaza: Plaza
) -> None:
    message = await ask(plaza, plaza.ana, plaza.bo)

    click = await plaza.bo.click(message, label="Accept")

    answered = reply(click)
    assert answered.content == f"🤝 {plaza.ana.mention} and {plaza.bo.mention} are friends now."
    assert buttons(answered) == {}
    assert await friendships(sim) == {(plaza.ana.id, plaza.bo.id), (plaza.bo.id, plaza.ana.id)}
    with pytest.raises(simcord.SetupError):  # nothing left to click twice
        await plaza.bo.click(answered, label="Accept")
    assert_clean(sim)


async def test_declining_leaves_no_friendship(sim: simcord.Env, plaza: Plaza) -> None:
    message = await ask(plaza, plaza.ana, plaza.bo)

    click = await plaza.bo.click(message, label="Decline")

    assert reply(click).content == f"{plaza.bo.mention} declined {plaza.ana.mention}'s friend request."
    assert not await friendships(sim)
    [request] = await rows(sim, FriendRequest)
    assert request.status == RequestStatus.DENIED


async def test_buttons_clicked_by_the_wrong_member_are_politely_refused(
    sim: simcord.Env, plaza: Plaza
) -> None:
    message = await ask(plaza, plaza.ana, plaza.bo)

    by_stranger = await plaza.cy.click(message, label="Accept")
    by_asker = await plaza.ana.click(message, label="Accept")

    assert (
        refusal(by_stranger)
        == "This friend request is not addressed to you; /friend add sends one of your own."
    )
    assert refusal(by_asker).startswith("You sent this request; the other member answers it.")
    assert not await friendships(sim)
    assert buttons(message) == {"Accept": True, "Decline": True}, "the request is still open for Bo"


async def test_a_button_clicked_after_the_request_was_answered_does_no_harm(
    sim: simcord.Env, plaza: Plaza
) -> None:
    message = await ask(plaza, plaza.ana, plaza.bo)
    await plaza.bo.slash(plaza.square, "friend accept", user=str(plaza.ana.id))

    late = await plaza.bo.click(message, label="Decline")

    assert refusal(late) == "Ana has no pending friend request to you."
    assert len(await friendships(sim)) == 2, "still friends"


async def test_the_buttons_still_work_after_a_restart(sim: simcord.Env, plaza: Plaza) -> None:
    message = await ask(plaza, plaza.ana, plaza.bo)
    old: CitizenBot = bot_of(sim)

    await sim.restart_bot(build_test_bot(old.settings.database_url, old.clock))
    assert sim.bot is not old
    click = await plaza.bo.click(message, label="Accept")

    assert "are friends now" in reply(click).content
    assert len(await friendships(sim)) == 2
    await old.engine.dispose()


# --------------------------------------------------------------------------------------- odd requests


async def test_befriending_yourself_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "friend add", user=plaza.ana)

    assert refusal(result) == "You cannot befriend yourself; the Bureau already keeps a close eye on you."
    assert not await rows(sim, FriendRequest)


async def test_befriending_a_bot_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "friend add", user=plaza.robot)

    assert refusal(result) == "Bots are not citizens, so they cannot be your friends."


async def test_asking_twice_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    await ask(plaza, plaza.ana, plaza.bo)

    result = await plaza.ana.slash(plaza.square, "friend add", user=plaza.bo)

    assert refusal(result) == "You already asked Bo; wait for their answer."
    assert len(await rows(sim, FriendRequest)) == 1


async def test_asking_a_friend_again_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    await plaza.bo.click(await ask(plaza, plaza.ana, plaza.bo), label="Accept")

    result = await plaza.bo.slash(plaza.square, "friend add", user=plaza.ana)

    assert refusal(result) == "You and Ana are already friends."


async def test_asking_back_accepts_the_pending_request(sim: simcord.Env, plaza: Plaza) -> None:
    await ask(plaza, plaza.ana, plaza.bo)

    result = await plaza.bo.slash(plaza.square, "friend add", user=plaza.ana)

    assert (
        reply(result).content
        == f"🤝 {plaza.bo.mention} and {plaza.ana.mention} are friends now: Ana had already asked."
    )
    assert len(await friendships(sim)) == 2


async def test_non_citizens_can_neither_ask_nor_be_asked(sim: simcord.Env, plaza: Plaza) -> None:
    assert refusal(await plaza.cy.slash(plaza.square, "friend add", user=plaza.ana)) == NOT_A_CITIZEN
    assert refusal(await plaza.ana.slash(plaza.square, "friend add", user=plaza.cy)) == (
        "That member is not a citizen of this season; they can /join first."
    )
    assert refusal(await plaza.cy.slash(plaza.square, "friend list")) == NOT_A_CITIZEN
    assert not await rows(sim, FriendRequest)


# ---------------------------------------------------------------------------------- accept / decline


async def test_accept_and_decline_suggest_pending_requests(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.cy)
    await ask(plaza, plaza.ana, plaza.bo)
    await ask(plaza, plaza.cy, plaza.bo)

    offered = await plaza.bo.autocomplete(plaza.square, "friend accept", "user", "")
    typed = await plaza.bo.autocomplete(plaza.square, "friend decline", "user", "c")

    assert offered == [{"name": "Ana", "value": str(plaza.ana.id)}, {"name": "Cy", "value": str(plaza.cy.id)}]
    assert typed == [{"name": "Cy", "value": str(plaza.cy.id)}]
    assert await plaza.ana.autocomplete(plaza.square, "friend accept", "user", "") == []


async def test_accept_by_command_and_decline_by_name(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.cy)
    await ask(plaza, plaza.ana, plaza.bo)
    await ask(plaza, plaza.cy, plaza.bo)

    accepted = await plaza.bo.slash(plaza.square, "friend accept", user=str(plaza.ana.id))
    declined = await plaza.bo.slash(plaza.square, "friend decline", user="cy")

    assert reply(accepted).content == f"🤝 {plaza.bo.mention} and {plaza.ana.mention} are friends now."
    assert declined.ephemeral
    assert reply(declined).content.startswith(f"You declined {plaza.cy.mention}'s friend request.")
    statuses = {r.from_citizen_id: r.status for r in await rows(sim, FriendRequest)}
    assert sorted(statuses.values()) == [RequestStatus.APPROVED, RequestStatus.DENIED]


async def test_accepting_what_nobody_asked_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    by_name = await plaza.bo.slash(plaza.square, "friend accept", user="Zed")
    by_id = await plaza.bo.slash(plaza.square, "friend accept", user=str(plaza.ana.id))

    assert refusal(by_name) == "I found no friend request from anyone called “Zed”; pick one from the list."
    assert refusal(by_id) == "Ana has no pending friend request to you."
    assert not await friendships(sim)
    assert_clean(sim)


# ------------------------------------------------------------------------------------ remove and list


async def test_remove_is_instant_and_suggests_friends(sim: simcord.Env, plaza: Plaza) -> None:
    await plaza.bo.click(await ask(plaza, plaza.ana, plaza.bo), label="Accept")

    offered = await plaza.ana.autocomplete(plaza.square, "friend remove", "user", "")
    result = await plaza.ana.slash(plaza.square, "friend remove", user=offered[0]["value"])

    assert offered == [{"name": "Bo — 600, cost you ±0", "value": str(plaza.bo.id)}]
    assert result.ephemeral
    assert reply(result).content.startswith(f"{plaza.bo.mention} is no longer your friend.")
    assert not await friendships(sim)


async def test_removing_a_stranger_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.cy)

    by_name = await plaza.ana.slash(plaza.square, "friend remove", user="Cy")
    by_mention = await plaza.ana.slash(plaza.square, "friend remove", user=plaza.cy.mention)

    assert refusal(by_name) == "I found no friend called “Cy”; pick one from the list."
    assert refusal(by_mention) == "You and Cy are not friends."


async def test_list_shows_each_friends_score_and_cost(sim: simcord.Env, plaza: Plaza) -> None:
    await join(sim, plaza, plaza.cy)
    await plaza.bo.click(await ask(plaza, plaza.ana, plaza.bo), label="Accept")
    await ask(plaza, plaza.cy, plaza.ana)
    # Bo buys a video game (-20 at the audit); Ana pays 0.2 of it.
    await plaza.bo.slash(plaza.square, "buy", item="video-game")
    await run_audit(sim, plaza)

    result = await plaza.ana.slash(plaza.square, "friend list")

    assert result.ephemeral
    embed = reply(result).embeds[0]
    assert embed.title == "🤝 Your friends (1 of 25)"
    assert embed.description == (
        "Together they have cost you **−4** this season.\n\n**Bo** 580 · Ordinary · cost you **−4**"
    )
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Waiting for your answer"] == "Cy · `/friend accept`"
    [ana] = await rows(sim, Citizen, col(Citizen.user_id) == plaza.ana.id)
    assert ana.score == 596
    assert_clean(sim)


async def test_an_empty_list_says_how_to_make_friends(sim: simcord.Env, plaza: Plaza) -> None:
    embed = reply(await plaza.ana.slash(plaza.square, "friend list")).embeds[0]

    assert embed.description == "No friends yet: `/friend add` asks someone."
