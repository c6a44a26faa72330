from __future__ import annotations

import pytest
import simcord
from sqlalchemy import event

from bot.client import CitizenBot
from game.models import Citizen, Enrollment, PendingMessage
from game.services import seasons
from tests.support.bureau import Town, build_town, configure, enrol, rows, start_season


@pytest.fixture
async def town(sim: simcord.Env) -> Town:
    town = build_town(sim)
    await configure(sim, town)
    await start_season(sim, town)
    return town


def the_bot(sim: simcord.Env) -> CitizenBot:
    return sim.bot  # type: ignore[return-value]


async def pending(sim: simcord.Env) -> list[PendingMessage]:
    await the_bot(sim).recorder.flush()
    return await rows(sim, PendingMessage)


async def test_a_citizens_message_in_a_game_channel_is_recorded(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    [citizen] = await enrol(sim, town, ana)

    message = await ana.send(town.square, "Positive energy for the motherland!")

    [row] = await pending(sim)
    assert (row.citizen_id, row.channel_id, row.message_id) == (citizen.id, town.square.id, message.id)
    assert row.content == "Positive energy for the motherland!"


async def test_nobody_else_is_recorded(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    robot = town.guild.add_member(sim.create_user("robot", bot=True))
    # Even a bot account that somehow became a citizen is never recorded.
    await enrol(sim, town, ana, robot)
    stranger = town.guild.add_member(sim.create_user("stranger"))
    hook = town.guild.create_webhook(town.square, "news-feed")
    elsewhere = town.guild.create_text_channel("off-topic")

    await stranger.send(town.square, "I never joined")
    await robot.send(town.square, "beep, Tiananmen")
    await hook.send("A webhook says Tiananmen")
    await ana.send(elsewhere, "Not a game channel")
    await ana.send_dm("A private word")

    assert await pending(sim) == []


async def test_nothing_is_recorded_while_the_season_is_paused(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    await town.mod.slash(town.square, "season pause")
    await the_bot(sim).recorder.wait_refreshed()

    await ana.send(town.square, "Said during the pause")

    assert await pending(sim) == []


async def test_a_channel_added_by_setup_is_watched_at_once(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    debate = town.guild.create_text_channel("debate")
    await ana.send(debate, "before")

    await town.mod.slash(town.square, "setup game-channel add", channel=debate)
    await the_bot(sim).recorder.wait_refreshed()
    await ana.send(debate, "after")

    assert [row.content for row in await pending(sim)] == ["after"]


async def test_mandatory_enrolment_enrols_whoever_speaks(sim: simcord.Env, town: Town) -> None:
    bot = the_bot(sim)
    async with bot.transaction() as session:
        await seasons.set_enrollment(
            session, guild_id=town.guild.id, enrollment=Enrollment.MANDATORY, now=bot.clock.now()
        )
    bot.game_state_changed(town.guild.id)
    await bot.recorder.wait_refreshed()
    bo = town.guild.add_member(sim.create_user("bo"))

    await bo.send(town.square, "I only came to talk about the stock market crash")
    await sim.settle()

    [citizen] = await rows(sim, Citizen)
    assert citizen.user_id == bo.id
    [row] = await pending(sim)
    assert row.citizen_id == citizen.id


async def test_the_message_path_touches_no_database(sim: simcord.Env, town: Town) -> None:
    bot = the_bot(sim)
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    bot.recorder.flush_interval = 3600  # only the batch size or an audit writes
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(bot.engine.sync_engine, "before_cursor_execute", count)
    try:
        for n in range(20):
            await ana.send(town.square, f"message {n}")
        on_the_path = list(statements)
        await bot.recorder.flush()
    finally:
        event.remove(bot.engine.sync_engine, "before_cursor_execute", count)

    assert on_the_path == []
    assert sum("INSERT INTO pending_message" in s for s in statements) == 1
    assert len(await rows(sim, PendingMessage)) == 20


async def test_messages_buffered_at_shutdown_are_written(sim: simcord.Env, town: Town) -> None:
    bot = the_bot(sim)
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    bot.recorder.flush_interval = 3600
    await ana.send(town.square, "last words before the restart")
    assert bot.recorder.buffered == 1

    await bot.close()

    assert [row.content for row in await rows(sim, PendingMessage)] == ["last words before the restart"]
