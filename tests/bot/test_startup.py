from __future__ import annotations

import simcord


async def test_bot_starts_migrates_and_answers(sim: simcord.Env) -> None:
    guild = sim.create_guild("Harmony Hall")
    channel = guild.create_text_channel("town-square")
    ana = guild.add_member(sim.create_user("ana"))

    result = await ana.slash(channel, "ping")

    assert result.ephemeral
    assert result.response.content == "The Bureau is listening."
