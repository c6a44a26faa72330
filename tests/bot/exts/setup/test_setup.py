from __future__ import annotations

import discord
import pytest
import simcord

from bot.client import CitizenBot
from game.models import GameChannel, GuildSettings, TierRole
from tests.support.bureau import Town, assert_refused, build_town, open_bureau_commands, reply, rows


@pytest.fixture
async def town(sim: simcord.Env) -> Town:
    return build_town(sim)


async def test_channels_are_stored_and_shown(sim: simcord.Env, town: Town) -> None:
    result = await town.mod.slash(
        town.square,
        "setup channels",
        announcements=town.announcements,
        brag=town.brag,
        moderators=town.bureau,
    )

    assert result.ephemeral
    embed = result.response.embeds[0]
    assert embed.title == "Bureau channels updated"
    assert town.announcements.mention in embed.description
    assert town.bureau.mention in embed.description
    [settings] = await rows(sim, GuildSettings)
    assert settings.announcements_channel_id == town.announcements.id
    assert settings.brag_channel_id == town.brag.id
    assert settings.moderators_channel_id == town.bureau.id


async def test_changing_one_channel_keeps_the_others(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(
        town.square, "setup channels", announcements=town.announcements, moderators=town.bureau
    )
    await town.mod.slash(town.square, "setup channels", announcements=town.square)

    [settings] = await rows(sim, GuildSettings)
    assert settings.announcements_channel_id == town.square.id
    assert settings.moderators_channel_id == town.bureau.id


async def test_a_channel_the_bot_cannot_post_in_is_flagged(sim: simcord.Env, town: Town) -> None:
    hidden = town.guild.create_text_channel(
        "locked", overwrites={town.guild.default_role: discord.PermissionOverwrite(send_messages=False)}
    )
    result = await town.mod.slash(town.square, "setup channels", announcements=hidden)

    warning = result.response.embeds[1]
    assert "cannot post" in warning.title
    assert hidden.mention in warning.description
    assert "Send Messages" in warning.description


async def test_game_channels_are_added_and_removed(sim: simcord.Env, town: Town) -> None:
    added = await town.mod.slash(town.square, "setup game-channel add", channel=town.square)
    again = await town.mod.slash(town.square, "setup game-channel add", channel=town.square)

    assert "is now a game channel" in added.response.embeds[0].description
    assert "already a game channel" in again.response.embeds[0].description
    assert [row.channel_id for row in await rows(sim, GameChannel)] == [town.square.id]

    removed = await town.mod.slash(town.square, "setup game-channel remove", channel=town.square)
    assert "no longer watched" in removed.response.embeds[0].description
    assert await rows(sim, GameChannel) == []


async def test_game_channel_changes_refresh_the_recorders_cache(sim: simcord.Env, town: Town) -> None:
    bot: CitizenBot = sim.bot  # type: ignore[assignment]
    seen: list[int] = []
    bot.on_game_state_change(seen.append)

    await town.mod.slash(town.square, "setup game-channel add", channel=town.square)
    await town.mod.slash(town.square, "setup game-channel remove", channel=town.square)

    assert seen == [town.guild.id, town.guild.id]


async def test_moderator_role_lets_its_members_run_the_bureau(sim: simcord.Env, town: Town) -> None:
    wardens = town.guild.create_role("Wardens")
    deputy = town.guild.add_member(sim.create_user("deputy"), roles=[wardens])
    open_bureau_commands(sim, town.guild, wardens)

    before = await deputy.slash(town.square, "setup show")
    assert_refused(before)

    result = await town.mod.slash(town.square, "setup moderator-role", role=wardens)
    assert wardens.mention in result.response.embeds[0].description
    assert "Integrations" in result.response.embeds[0].description

    after = await deputy.slash(town.square, "setup show")
    assert after.response.embeds[0].title == "The Bureau's set-up"
    [settings] = await rows(sim, GuildSettings)
    assert settings.moderator_role_id == wardens.id


async def test_everyone_cannot_be_the_moderator_role(sim: simcord.Env, town: Town) -> None:
    result = await town.mod.slash(town.square, "setup moderator-role", role=town.guild.default_role)

    assert result.ephemeral
    assert "@everyone cannot be the moderator role" in result.response.content
    assert await rows(sim, GuildSettings) == []


async def test_tier_roles_are_created_once_then_kept(sim: simcord.Env, town: Town) -> None:
    result = await town.mod.slash(town.square, "setup roles", scenario="classic")

    description = reply(result).embeds[0].description
    for name in ("Travel Permit", "Visa", "Model Citizen"):
        assert name in town.guild.roles
        assert town.guild.roles[name].mention in description
    assert "created" in description
    mapping = {row.tier_key: row.role_id for row in await rows(sim, TierRole)}
    assert mapping == {
        "travel-permit": town.guild.roles["Travel Permit"].id,
        "visa": town.guild.roles["Visa"].id,
        "model-citizen": town.guild.roles["Model Citizen"].id,
    }

    again = await town.mod.slash(town.square, "setup roles", scenario="classic")
    assert "already set" in reply(again).embeds[0].description
    assert len([name for name in town.guild.roles if name == "Visa"]) == 1


async def test_existing_roles_are_mapped_and_hierarchy_problems_reported(
    sim: simcord.Env, town: Town
) -> None:
    # A "Visa" role above the bot's own: the bot may not hand it out.
    high = town.guild.create_role("Visa", position=50)

    result = await town.mod.slash(town.square, "setup roles", scenario="classic")

    answer, warning = reply(result).embeds
    assert f"{high.mention} (existing role)" in answer.description
    assert "above my highest role" in warning.description
    mapping = {row.tier_key: row.role_id for row in await rows(sim, TierRole)}
    assert mapping["visa"] == high.id


async def test_roles_without_a_season_or_scenario_say_what_to_do(sim: simcord.Env, town: Town) -> None:
    result = await town.mod.slash(town.square, "setup roles")

    assert "name a scenario" in reply(result).content
    assert await rows(sim, TierRole) == []


async def test_unknown_scenario_is_refused_in_a_sentence(sim: simcord.Env, town: Town) -> None:
    result = await town.mod.slash(town.square, "setup roles", scenario="utopia")

    assert "There is no scenario" in reply(result).content


async def test_scenario_autocomplete_offers_the_packs(sim: simcord.Env, town: Town) -> None:
    choices = await town.mod.autocomplete(town.square, "setup roles", "scenario", "cla")

    assert {"name": "Classic (classic)", "value": "classic"} in [
        {"name": c["name"], "value": c["value"]} for c in choices
    ]


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("setup channels", {}),
        ("setup game-channel add", {"channel": "square"}),
        ("setup game-channel remove", {"channel": "square"}),
        ("setup moderator-role", {}),
        ("setup roles", {"scenario": "classic"}),
        ("setup show", {}),
    ],
)
async def test_every_setup_command_refuses_a_plain_member(
    sim: simcord.Env, town: Town, command: str, options: dict[str, str]
) -> None:
    open_bureau_commands(sim, town.guild, town.guild.default_role)
    resolved = {key: getattr(town, value) if value == "square" else value for key, value in options.items()}

    result = await town.plain.slash(town.square, command, **resolved)

    assert_refused(result)
    assert await rows(sim, GuildSettings) == []
    assert await rows(sim, GameChannel) == []
    assert "Visa" not in town.guild.roles


async def test_setup_commands_are_hidden_from_plain_members(sim: simcord.Env, town: Town) -> None:
    assert "setup show" not in town.plain.available_commands(town.square)
    assert "setup show" in town.mod.available_commands(town.square)


async def test_created_tier_roles_stack_in_tier_order(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "setup roles", scenario="classic")

    roles = sim.bot.get_guild(town.guild.id).roles  # type: ignore[union-attr]
    position = {role.name: role.position for role in roles}
    assert position["Travel Permit"] < position["Visa"] < position["Model Citizen"]
