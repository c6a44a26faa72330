from __future__ import annotations

from datetime import timedelta

import pytest
import simcord

from bot.client import CitizenBot
from game.models import Audit, Enrollment, OutboxMessage, Season, SeasonStatus
from tests.support.bureau import (
    Town,
    assert_refused,
    build_town,
    configure,
    open_bureau_commands,
    reply,
    rows,
)


@pytest.fixture
async def town(sim: simcord.Env) -> Town:
    town = build_town(sim)
    await configure(sim, town)
    return town


def the_bot(sim: simcord.Env) -> CitizenBot:
    return sim.bot  # type: ignore[return-value]


async def test_start_announces_the_season_and_schedules_it(sim: simcord.Env, town: Town) -> None:
    result = await town.mod.slash(
        town.square, "season start", scenario="classic", duration="2h", audit_every="15m"
    )

    assert result.ephemeral
    assert "Season 1 started" in result.response.embeds[0].title
    announcement = town.announcements.last_message.embeds[0]
    assert announcement.title == "\N{CLASSICAL BUILDING} Season 1 begins: Classic"
    fields = {field.name: field.value for field in announcement.fields}
    assert fields["Length"].startswith("2 hours, until <t:")
    assert fields["Audits"] == "every 15 minutes"
    assert town.square.mention in fields["Watched channels"]
    [season] = await rows(sim, Season)
    assert season.status == SeasonStatus.RUNNING
    assert season.audit_every_s == 900
    assert season.ends_at - season.started_at == timedelta(hours=2)
    assert season.started_by == town.mod.id
    assert season.id in the_bot(sim).season_scheduler.scheduled
    assert the_bot(sim).recorder.view(town.guild.id) is not None


async def test_start_uses_the_scenarios_defaults(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "season start", scenario="classic")

    [season] = await rows(sim, Season)
    assert season.ends_at - season.started_at == timedelta(weeks=1)
    assert season.audit_every_s == 15 * 60


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("duration", "-5m", "cannot be negative"),
        ("duration", "99999d", "longer than the longest allowed"),
        ("duration", "abc", "is not a duration the Bureau can read"),
        ("audit_every", "5s", "at most every 10 seconds"),
        ("audit_every", "3h", "would never run in a season of 2 hours"),
    ],
)
async def test_hostile_durations_get_a_clear_sentence(
    sim: simcord.Env, town: Town, option: str, value: str, expected: str
) -> None:
    options = {"duration": "2h", option: value}
    result = await town.mod.slash(town.square, "season start", scenario="classic", **options)

    assert result.ephemeral
    assert expected in result.response.content
    assert await rows(sim, Season) == []


async def test_unknown_scenario_is_named(sim: simcord.Env, town: Town) -> None:
    result = await town.mod.slash(town.square, "season start", scenario="utopia")

    assert "There is no scenario" in result.response.content
    assert "classic" in result.response.content


async def test_a_second_season_is_refused_while_one_runs(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "season start", scenario="classic")
    result = await town.mod.slash(town.square, "season start", scenario="classic")

    assert "already under way" in result.response.content
    assert len(await rows(sim, Season)) == 1


async def test_scenario_autocomplete(sim: simcord.Env, town: Town) -> None:
    choices = await town.mod.autocomplete(town.square, "season start", "scenario", "")

    assert "classic" in [choice["value"] for choice in choices]


async def test_status_reads_in_words(sim: simcord.Env, town: Town) -> None:
    nothing = await town.mod.slash(town.square, "season status")
    assert "No season is running" in nothing.response.embeds[0].description

    await town.mod.slash(town.square, "season start", scenario="classic", duration="2h", audit_every="15m")
    await sim.advance_time(5 * 60)
    result = await town.mod.slash(town.square, "season status")

    embed = result.response.embeds[0]
    assert embed.title == "Season 1: Classic"
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Time left"] == "1 hour 55 minutes"
    assert fields["Next audit"] == "in 10 minutes (every 15 minutes)"
    assert fields["Citizens"] == "0"


async def test_pause_stops_audits_and_recording_and_resume_shifts_the_deadline(
    sim: simcord.Env, town: Town
) -> None:
    bot = the_bot(sim)
    await town.mod.slash(town.square, "season start", scenario="classic", duration="2h", audit_every="15m")
    [season] = await rows(sim, Season)

    paused = await town.mod.slash(town.square, "season pause")
    assert "is paused" in paused.response.embeds[0].title
    await bot.recorder.wait_refreshed()
    assert bot.recorder.view(town.guild.id) is None
    assert season.id not in bot.season_scheduler.scheduled

    await sim.advance_time(30 * 60)
    assert await rows(sim, Audit) == []
    again = await town.mod.slash(town.square, "season pause")
    assert "already paused" in again.response.content

    resumed = await town.mod.slash(town.square, "season resume")
    assert "resumes" in resumed.response.embeds[0].title
    [season] = await rows(sim, Season)
    assert season.status == SeasonStatus.RUNNING
    assert season.ends_at - season.started_at == timedelta(hours=2, minutes=30)
    assert season.id in bot.season_scheduler.scheduled


async def test_the_heartbeat_runs_audits_on_the_games_clock(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "season start", scenario="classic", duration="2h", audit_every="1m")

    await sim.advance_time(61)
    await sim.advance_time(60)

    audits = await rows(sim, Audit)
    assert [audit.number for audit in audits] == [1, 2]


async def test_end_asks_first_and_keep_playing_changes_nothing(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "season start", scenario="classic")

    asked = await town.mod.slash(town.square, "season end")
    assert asked.response.embeds[0].title == "End season 1 now?"
    kept = await town.mod.click(asked.response, label="Keep playing")

    assert kept.response.embeds[0].title == "Nothing changed"
    [season] = await rows(sim, Season)
    assert season.status == SeasonStatus.RUNNING


async def test_end_runs_the_last_audit_and_posts_the_standings(sim: simcord.Env, town: Town) -> None:
    bot = the_bot(sim)
    await town.mod.slash(town.square, "season start", scenario="classic")
    [season] = await rows(sim, Season)

    asked = await town.mod.slash(town.square, "season end")
    done = await town.mod.click(asked.response, label="End the season")

    assert "is over" in reply(done).embeds[0].description
    [season] = await rows(sim, Season)
    assert season.status == SeasonStatus.ENDED
    assert [audit.number for audit in await rows(sim, Audit)] == [1]
    assert season.id not in bot.season_scheduler.scheduled
    assert "Season 1 is over" in town.announcements.last_message.embeds[0].title
    assert all(row.delivered_at is not None for row in await rows(sim, OutboxMessage))

    after = await town.mod.slash(town.square, "season end")
    assert "No season is running" in after.response.content


async def test_only_the_asking_moderator_confirms_the_end(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "season start", scenario="classic")
    other = town.guild.add_member(sim.create_user("other-warden"), roles=[town.guild.roles["Staff"]])
    asked = await town.mod.slash(town.square, "season end")

    # The ephemeral confirmation is only visible to its moderator; another moderator's own /season end
    # is a separate question, and the season ends once.
    theirs = await other.slash(town.square, "season end")
    await other.click(theirs.response, label="End the season")
    late = await town.mod.click(asked.response, label="End the season")

    assert "already ended" in reply(late).embeds[0].description
    assert len([m for m in town.announcements.history() if m.embeds and "is over" in m.embeds[0].title]) == 1


async def test_enrollment_mode_is_stored(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "season start", scenario="classic")

    result = await town.mod.slash(town.square, "season enrollment", mode="mandatory")

    assert result.response.embeds[0].title == "Enrolment is now mandatory"
    [season] = await rows(sim, Season)
    assert season.enrollment == Enrollment.MANDATORY


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("season start", {"scenario": "classic"}),
        ("season status", {}),
        ("season pause", {}),
        ("season resume", {}),
        ("season end", {}),
        ("season enrollment", {"mode": "mandatory"}),
        ("season report", {}),
    ],
)
async def test_every_season_command_refuses_a_plain_member(
    sim: simcord.Env, town: Town, command: str, options: dict[str, str]
) -> None:
    open_bureau_commands(sim, town.guild, town.guild.default_role)

    result = await town.plain.slash(town.square, command, **options)

    assert_refused(result)
    assert await rows(sim, Season) == []


async def test_report_of_a_season_that_does_not_exist(sim: simcord.Env, town: Town) -> None:
    nothing = await town.mod.slash(town.square, "season report")
    assert "no season to report on yet" in nothing.response.content

    await town.mod.slash(town.square, "season start", scenario="classic")
    unknown = await town.mod.slash(town.square, "season report", number=9)
    assert "There is no season 9 here" in unknown.response.content
