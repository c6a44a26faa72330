from __future__ import annotations

import pytest
import simcord

from game.models import Appeal, Citizen, LedgerEntry, OutboxKind, OutboxMessage, RequestStatus
from game.services import appeals
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
)

NOT_A_CITIZEN = "You are not a citizen of this season yet. Use /join to enrol."
REASON = "I was quoting the newspaper, not endorsing it."


@pytest.fixture
async def plaza(sim: simcord.Env) -> Plaza:
    plaza = await build_plaza(sim)
    await join(sim, plaza, plaza.ana, plaza.bo)
    return plaza


async def entry_of(sim: simcord.Env, member: simcord.MemberActor, score: int, reason: str) -> int:
    """Give ``member`` a ledger entry taking them to ``score``; returns its id."""
    [citizen] = await rows(sim, Citizen, Citizen.user_id == member.id)
    await set_score(bot_of(sim).engine, citizen_id=citizen.id, score=score, now=sim.now(), reason=reason)
    entries = await rows(sim, LedgerEntry, LedgerEntry.citizen_id == citizen.id)
    return max(entry.id for entry in entries)


async def test_an_appeal_is_filed_and_queued_for_the_bureau(sim: simcord.Env, plaza: Plaza) -> None:
    penalty = await entry_of(sim, plaza.ana, 570, "unhelpful remarks")

    result = await plaza.ana.slash(plaza.square, "appeal", entry=penalty, reason=REASON)

    assert result.ephemeral
    embed = reply(result).embeds[0]
    assert embed.title == f"⚖ Appeal filed against entry #{penalty}"
    assert embed.description.startswith("**−30** 🏛 Bureau · unhelpful remarks")
    assert embed.fields[0].value == REASON
    [appeal] = await rows(sim, Appeal)
    assert (appeal.ledger_entry_id, appeal.status, appeal.reason) == (penalty, RequestStatus.PENDING, REASON)
    [row] = await rows(sim, OutboxMessage, OutboxMessage.kind == OutboxKind.APPEAL_REQUEST)
    assert (row.payload["appeal_id"], row.payload["entry_id"]) == (appeal.id, penalty)
    assert_clean(sim)


async def test_suggestions_are_own_penalties_not_yet_appealed(sim: simcord.Env, plaza: Plaza) -> None:
    first = await entry_of(sim, plaza.ana, 570, "unhelpful remarks")
    await entry_of(sim, plaza.ana, 620, "a kind word")  # a gain: nothing to appeal
    second = await entry_of(sim, plaza.ana, 560, "loitering")
    await entry_of(sim, plaza.bo, 500, "Bo's own trouble")
    await plaza.ana.slash(plaza.square, "appeal", entry=first, reason=REASON)

    offered = await plaza.ana.autocomplete(plaza.square, "appeal", "entry", "")
    typed = await plaza.ana.autocomplete(plaza.square, "appeal", "entry", "loiter")

    assert [choice["value"] for choice in offered] == [second]
    assert offered[0]["name"] == f"#{second} −60 Bureau: loitering (just now)"
    assert typed == offered
    assert await plaza.cy.autocomplete(plaza.square, "appeal", "entry", "") == []


async def test_someone_elses_entry_cannot_be_appealed(sim: simcord.Env, plaza: Plaza) -> None:
    theirs = await entry_of(sim, plaza.bo, 500, "Bo's own trouble")

    result = await plaza.ana.slash(plaza.square, "appeal", entry=theirs, reason=REASON)

    assert refusal(result) == f"You have no ledger entry #{theirs}; /history lists yours with their numbers."
    assert not await rows(sim, Appeal)


async def test_an_unknown_entry_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "appeal", entry=999_999, reason=REASON)

    assert refusal(result) == "You have no ledger entry #999999; /history lists yours with their numbers."


async def test_a_gain_cannot_be_appealed(sim: simcord.Env, plaza: Plaza) -> None:
    gain = await entry_of(sim, plaza.ana, 650, "a kind word")

    result = await plaza.ana.slash(plaza.square, "appeal", entry=gain, reason=REASON)

    assert refusal(result) == (
        f"Entry #{gain} did not lower your score; the Bureau hears appeals against penalties."
    )


async def test_appealing_twice_is_refused(sim: simcord.Env, plaza: Plaza) -> None:
    penalty = await entry_of(sim, plaza.ana, 570, "unhelpful remarks")
    await plaza.ana.slash(plaza.square, "appeal", entry=penalty, reason=REASON)

    again = await plaza.ana.slash(plaza.square, "appeal", entry=penalty, reason=REASON)

    assert refusal(again) == f"You already appealed entry #{penalty} (its appeal is pending)."
    assert len(await rows(sim, Appeal)) == 1


async def test_a_reversal_cannot_itself_be_appealed(sim: simcord.Env, plaza: Plaza) -> None:
    penalty = await entry_of(sim, plaza.ana, 570, "unhelpful remarks")
    await plaza.ana.slash(plaza.square, "appeal", entry=penalty, reason=REASON)
    [appeal] = await rows(sim, Appeal)
    async with bot_of(sim).transaction() as session:
        decision = await appeals.grant_appeal(
            session, guild_id=plaza.guild.id, appeal_id=appeal.id, moderator_id=plaza.cy.id, now=sim.now()
        )
    assert decision.reversal is not None

    result = await plaza.ana.slash(plaza.square, "appeal", entry=decision.reversal.entry_id, reason=REASON)

    assert "cannot be appealed" in refusal(result)


async def test_reasons_are_bounded(sim: simcord.Env, plaza: Plaza) -> None:
    penalty = await entry_of(sim, plaza.ana, 570, "unhelpful remarks")

    with pytest.raises(simcord.OptionError):
        await plaza.ana.slash(plaza.square, "appeal", entry=penalty, reason="x" * 2000)
    blank = await plaza.ana.slash(plaza.square, "appeal", entry=penalty, reason="  ")

    assert refusal(blank) == "Tell the Bureau why the entry was wrong, in a few words."
    assert not await rows(sim, Appeal)


async def test_non_citizens_are_refused(sim: simcord.Env, plaza: Plaza) -> None:
    penalty = await entry_of(sim, plaza.ana, 570, "unhelpful remarks")

    result = await plaza.cy.slash(plaza.square, "appeal", entry=penalty, reason=REASON)

    assert refusal(result) == NOT_A_CITIZEN
