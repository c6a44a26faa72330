from __future__ import annotations

import re
from datetime import timedelta

import pytest
import simcord

from game.scenario import load_scenario
from tests.bot.conftest import start_test_season


async def test_help_without_a_season_says_how_to_start_one(sim: simcord.Env) -> None:
    guild = sim.create_guild("Harmony Hall")
    square = guild.create_text_channel("town-square")
    ana = guild.add_member(sim.create_user("ana"))

    result = await ana.slash(square, "help")

    assert result.ephemeral
    embed = result.response.embeds[0]
    assert embed.title == "How Citizen Score works"
    assert "/season start" in embed.description
    assert any(field.name == "Commands" and "/join" in field.value for field in embed.fields)


async def test_help_explains_the_running_scenario(sim: simcord.Env) -> None:
    guild = sim.create_guild("Harmony Hall")
    square = guild.create_text_channel("town-square")
    ana = guild.add_member(sim.create_user("ana"))
    await start_test_season(sim, guild, duration=timedelta(hours=2), audit_every=timedelta(minutes=15))

    result = await ana.slash(square, "help")

    assert result.ephemeral
    embed = result.response.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert "**Classic**" in embed.description
    assert "Everyone starts at **600**" in embed.description
    assert "audits every **15 minutes**" in embed.description
    assert "ends in 2 hours" in embed.description
    # Highest tier first, with the band and what it changes.
    tiers = fields["Tiers"].splitlines()
    assert tiers[0].startswith("**Model Citizen** 850–950")
    assert tiers[-1] == "**Untrustworthy** 350–549 · shop prices +25 %, no travel items"
    assert "`politics`" in fields["What you say"]
    assert "/permit request" in fields["What you say"]
    assert "500 credits" in fields["Credits"]
    assert "20 credits" in fields["Credits"]
    assert "At most 25 friends" in fields["Friends"]
    assert "at most 50 points an audit" in fields["Friends"]
    assert len(embed) <= 6000


# What a pack says about itself never states an audit cadence or a season length: a season can be
# started with any, and /help gives the running season's own (a pack said "every fifteen minutes"
# next to "every 25 minutes").
FIXED_TIMING = re.compile(
    r"every (\w+ )?(second|minute|hour|day|week)s?\b|\b(runs|lasts) for\b"
    r"|\b(two|ninety) (hours|minutes)\b|a week",
    re.IGNORECASE,
)


@pytest.mark.parametrize("pack", ["classic", "game-night", "debate-club"])
async def test_help_gives_the_running_seasons_numbers_and_no_others(sim: simcord.Env, pack: str) -> None:
    guild = sim.create_guild("Harmony Hall")
    square = guild.create_text_channel("town-square")
    ana = guild.add_member(sim.create_user("ana"))
    await start_test_season(
        sim, guild, scenario=pack, duration=timedelta(minutes=25), audit_every=timedelta(minutes=1)
    )

    description = (await ana.slash(square, "help")).response.embeds[0].description

    assert "audits every **1 minute**" in description
    assert "the season ends in 25 minutes" in description
    rest = description.replace("The Bureau audits every **1 minute**", "")
    assert FIXED_TIMING.search(rest) is None, FIXED_TIMING.search(rest)
    assert FIXED_TIMING.search(load_scenario(pack).description) is None
