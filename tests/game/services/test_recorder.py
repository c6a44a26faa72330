"""The message recorder: who is recorded, when buffers are written, and that nothing is lost."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from game.models import Citizen, Enrollment, GameChannel, PendingMessage, SeasonStatus, metadata
from game.services.audits import run_due_audit
from game.services.recorder import MessageRecorder
from tests.conftest import make_engine
from tests.factories.rows import CHANNEL, GUILD, T0, ledger, new_citizen, new_season

pending_t = PendingMessage.__table__
channel_t = GameChannel.__table__
citizen_t = Citizen.__table__
OTHER_CHANNEL = 333


class FakeMonotonic:
    """The recorder's interval clock, moved by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


async def game_channel(engine: AsyncEngine, channel_id: int = CHANNEL, guild_id: int = GUILD) -> None:
    async with engine.begin() as connection:
        await connection.execute(sa.insert(channel_t).values(guild_id=guild_id, channel_id=channel_id))


async def stored(engine: AsyncEngine) -> list[tuple[int, int, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(pending_t.c.citizen_id, pending_t.c.message_id, pending_t.c.content).order_by(
                pending_t.c.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_records_only_citizens_in_game_channels_of_the_running_season(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    paused = await new_season(engine, guild_id=999, status=SeasonStatus.PAUSED)
    await new_citizen(engine, paused, user_id=1)
    await game_channel(engine, guild_id=999)
    recorder = MessageRecorder(engine, batch_size=100)
    await recorder.start(background=False)

    assert recorder.record(GUILD, CHANNEL, 1, 1, "hello", at(1))
    assert not recorder.record(GUILD, CHANNEL, 1, 2, "a bot with a citizen's id", at(2), author_is_bot=True)
    assert not recorder.record(GUILD, CHANNEL, 2, 3, "not a citizen", at(3))
    assert not recorder.record(GUILD, OTHER_CHANNEL, 1, 4, "not a game channel", at(4))
    assert not recorder.record(999, CHANNEL, 1, 5, "a paused season", at(5))
    assert not recorder.record(12345, CHANNEL, 1, 6, "a guild without a season", at(6))
    await recorder.aclose()

    assert await stored(engine) == [(ana, 1, "hello")]
    assert (recorder.recorded, recorder.flushed) == (1, 1)
    assert not recorder.record(GUILD, CHANNEL, 1, 7, "after close", at(7))


async def test_writes_a_batch_when_it_is_full(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=3, flush_interval=3600, monotonic=FakeMonotonic())
    await recorder.start(background=False)

    for n in range(2):
        recorder.record(GUILD, CHANNEL, 1, n, f"message {n}", at(n))
    await recorder.flush_due()
    assert await stored(engine) == []  # two of three, and not old enough

    recorder.record(GUILD, CHANNEL, 1, 2, "message 2", at(2))
    await recorder.wait_flushed()
    assert [row[1] for row in await stored(engine)] == [0, 1, 2]
    assert recorder.buffered == 0
    await recorder.aclose()


async def test_writes_when_the_oldest_message_has_waited_the_interval(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    clock = FakeMonotonic()
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=0.5, monotonic=clock)
    await recorder.start(background=False)

    recorder.record(GUILD, CHANNEL, 1, 1, "first", at(1))
    clock.value += 0.4
    assert await recorder.flush_due() == 0
    clock.value += 0.1
    assert await recorder.flush_due() == 1  # what the timer does in a quiet channel

    recorder.record(GUILD, CHANNEL, 1, 2, "second", at(2))
    clock.value += 0.6
    recorder.record(GUILD, CHANNEL, 1, 3, "third", at(3))  # a busy channel: the next message triggers it
    await recorder.wait_flushed()
    assert [row[1] for row in await stored(engine)] == [1, 2, 3]
    await recorder.aclose()


async def test_close_writes_everything_buffered(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=3600)
    await recorder.start()  # with its timers running

    for n in range(10):
        recorder.record(GUILD, CHANNEL, 1, n, "x", at(n))
    assert await stored(engine) == []
    await recorder.aclose()

    assert len(await stored(engine)) == 10
    assert recorder.flushed == 10


async def test_nothing_is_lost_under_a_burst(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    users = range(1, 21)
    for user in users:
        await new_citizen(engine, season, user_id=user)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=64, flush_interval=0.05)
    await recorder.start()

    burst = 5_000
    for n in range(burst):
        assert recorder.record(GUILD, CHANNEL, users[n % 20], n, f"message {n}", at(n / 1000))
    await recorder.aclose()

    rows = await stored(engine)
    assert sorted(row[1] for row in rows) == list(range(burst))
    assert recorder.recorded == recorder.flushed == burst
    assert recorder.dropped == 0


async def test_invalidate_picks_up_a_new_citizen_and_forgets_one_who_left(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=3600)
    await recorder.start(background=False)
    assert not recorder.record(GUILD, CHANNEL, 2, 1, "before joining", at(1))

    bo = await new_citizen(engine, season, user_id=2)  # /join, then the service calls invalidate
    recorder.invalidate(GUILD)
    await recorder.wait_refreshed()
    assert recorder.record(GUILD, CHANNEL, 2, 2, "after joining", at(2))
    assert recorder.record(GUILD, CHANNEL, 1, 3, "ana, just before she leaves", at(3))

    async with engine.begin() as connection:  # /leave deletes the citizen
        await connection.execute(sa.delete(citizen_t).where(citizen_t.c.id == ana))
    recorder.invalidate(GUILD)
    await recorder.wait_refreshed()
    assert not recorder.record(GUILD, CHANNEL, 1, 4, "after leaving", at(4))
    await recorder.aclose()

    assert await stored(engine) == [(bo, 2, "after joining")]
    assert recorder.dropped == 1


async def test_a_citizen_who_left_before_the_flush_is_not_written(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    bo = await new_citizen(engine, season, user_id=2)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=3600)
    await recorder.start(background=False)
    recorder.record(GUILD, CHANNEL, 1, 1, "ana", at(1))
    recorder.record(GUILD, CHANNEL, 2, 2, "bo", at(2))
    async with engine.begin() as connection:  # left, and nobody told the recorder
        await connection.execute(sa.delete(citizen_t).where(citizen_t.c.id == ana))

    assert await recorder.flush() == 1
    assert await stored(engine) == [(bo, 2, "bo")]
    assert recorder.dropped == 1
    await recorder.aclose()


async def test_a_game_channel_added_later_is_recorded_after_invalidate(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    await new_citizen(engine, season, user_id=1)
    recorder = MessageRecorder(engine, batch_size=1000)
    await recorder.start(background=False)
    assert not recorder.record(GUILD, CHANNEL, 1, 1, "no game channel yet", at(1))
    await game_channel(engine)
    recorder.invalidate(GUILD)
    await recorder.wait_refreshed()
    assert recorder.record(GUILD, CHANNEL, 1, 2, "now", at(2))
    await recorder.aclose()
    assert [row[1] for row in await stored(engine)] == [2]


async def test_mandatory_enrolment_enrols_the_poster_and_keeps_the_message(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE season SET enrollment = :e"), {"e": Enrollment.MANDATORY.value}
        )
    await game_channel(engine)
    enrolled: list[tuple[int, int, str | None]] = []

    async def enrol(guild_id: int, user_id: int, display_name: str | None, now: datetime) -> int | None:
        enrolled.append((guild_id, user_id, display_name))
        return await new_citizen(engine, season, user_id=user_id, name=display_name)

    recorder = MessageRecorder(engine, batch_size=1000, enrol=enrol)
    await recorder.start(background=False)

    assert recorder.record(GUILD, CHANNEL, 7, 1, "first words", at(1), display_name="gu")
    assert recorder.record(GUILD, CHANNEL, 7, 2, "second words", at(2), display_name="gu")
    assert not recorder.record(GUILD, CHANNEL, 8, 3, "a bot", at(3), author_is_bot=True)
    await recorder.aclose()

    assert enrolled == [(GUILD, 7, "gu")]  # once, however many messages came meanwhile
    rows = await stored(engine)
    assert [(row[1], row[2]) for row in rows] == [(1, "first words"), (2, "second words")]


async def test_the_audit_flushes_the_recorder_first(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=3600)
    await recorder.start(background=False)
    recorder.record(GUILD, CHANNEL, 1, 1, "tank man", at(60))

    result = await run_due_audit(
        engine, season_id=season, now=T0 + timedelta(minutes=15), claimed_by="a", recorder=recorder
    )

    assert result is not None
    assert result.messages_scored == 1
    assert [e.delta for e in await ledger(engine, ana)] == [-60]
    await recorder.aclose()


async def test_a_message_seen_by_several_processes_is_scored_once(database_url: str) -> None:
    """Two bot processes without shards both receive every message; and one of them writes its
    buffer only after the other's audit has scored (and deleted) the message."""
    first, second = make_engine(database_url), make_engine(database_url)
    try:
        async with first.begin() as connection:
            await connection.run_sync(metadata.create_all)
        season = await new_season(first)
        ana = await new_citizen(first, season, user_id=1)
        await game_channel(first)
        recorders = [
            MessageRecorder(engine, batch_size=1000, flush_interval=3600) for engine in (first, second)
        ]
        for recorder in recorders:
            await recorder.start(background=False)
            recorder.record(GUILD, CHANNEL, 1, 77, "tank man", at(60))
        await recorders[0].flush()

        result = await run_due_audit(first, season_id=season, now=T0 + timedelta(minutes=15), claimed_by="a")
        await recorders[1].flush()  # late: after the audit deleted the text it scored
        again = await run_due_audit(first, season_id=season, now=T0 + timedelta(minutes=30), claimed_by="a")

        assert result is not None
        assert again is not None
        assert (result.messages_scored, again.messages_scored) == (1, 0)
        assert [e.delta for e in await ledger(first, ana)] == [-60]
        assert recorders[1].duplicates == 1
        for recorder in recorders:
            await recorder.aclose()
    finally:
        await first.dispose()
        await second.dispose()


async def test_nothing_is_stored_for_a_season_that_has_ended(engine: AsyncEngine) -> None:
    """A buffer written after the season's last audit keeps no text: nothing would ever delete it."""
    season = await new_season(engine, duration=timedelta(hours=1))
    await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=3600)
    await recorder.start(background=False)
    recorder.record(GUILD, CHANNEL, 1, 78, "said as the season closed", at(3599))

    last = await run_due_audit(engine, season_id=season, now=T0 + timedelta(hours=1), claimed_by="a")
    await recorder.flush()

    assert last is not None
    assert last.season_ended
    assert await stored(engine) == []
    assert recorder.dropped == 1
    await recorder.aclose()


# ---------------------------------------------------------------------------------------------------
# A bad row never holds up the others


OTHER_GUILD = 444


def _log_lines(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if word in record.getMessage()]


async def test_nul_and_lone_surrogates_are_removed_when_recorded(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=3600)
    await recorder.start(background=False)

    assert recorder.record(GUILD, CHANNEL, 1, 1, "tank\x00 man \ud800!", at(1))
    assert recorder.record(GUILD, CHANNEL, 1, 2, "\x00", at(2))  # nothing left but still a message
    await recorder.aclose()

    assert await stored(engine) == [(ana, 1, "tank man !"), (ana, 2, "")]


async def test_a_row_the_database_refuses_is_dropped_alone_and_named(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A row no database can store (here: one that slipped past cleaning) is retried alone, dropped
    with one log line naming its message, and every other guild's messages are written at once."""
    first = await new_season(engine)
    ana = await new_citizen(engine, first, user_id=1)
    await game_channel(engine)
    second = await new_season(engine, guild_id=OTHER_GUILD)
    bea = await new_citizen(engine, second, user_id=2)
    await game_channel(engine, channel_id=OTHER_CHANNEL, guild_id=OTHER_GUILD)
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=3600)
    await recorder.start(background=False)
    recorder.record(GUILD, CHANNEL, 1, 1, "before", at(1))
    recorder.record(OTHER_GUILD, OTHER_CHANNEL, 2, 2, "other guild", at(2))
    poison_into_buffer(recorder, GUILD, CHANNEL, 1, 3)
    recorder.record(GUILD, CHANNEL, 1, 4, "after", at(4))

    with caplog.at_level(logging.WARNING, logger="game.services.recorder"):
        written = await recorder.flush()

    assert written == 3
    assert recorder.buffered == 0
    assert await stored(engine) == [(ana, 1, "before"), (bea, 2, "other guild"), (ana, 4, "after")]
    lines = _log_lines(caplog, "could not be stored")
    assert len(lines) == 1
    link = f"https://discord.com/channels/{GUILD}/{CHANNEL}/3"
    assert lines[0].startswith(f"message {link} could not be stored")
    assert recorder.dropped == 1
    # The other guild's audit is not held up, nor this guild's.
    result = await run_due_audit(
        engine, season_id=second, now=T0 + timedelta(minutes=15), claimed_by="a", recorder=recorder
    )
    assert result is not None
    assert result.messages_scored == 1
    await recorder.aclose()


async def test_a_clean_shutdown_stores_everything_that_can_be_stored(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=3600)
    await recorder.start(background=False)
    for message_id in range(1, 6):
        recorder.record(GUILD, CHANNEL, 1, message_id, f"said {message_id}", at(message_id))
    poison_into_buffer(recorder, GUILD, CHANNEL, 1, 6)
    recorder.record(GUILD, CHANNEL, 1, 7, "said 7", at(7))

    await recorder.aclose()

    assert await stored(engine) == [(ana, n, f"said {n}") for n in (1, 2, 3, 4, 5, 7)]
    assert recorder.buffered == 0


async def test_a_database_that_is_down_keeps_the_buffer(engine: AsyncEngine) -> None:
    """An outage is not a bad row: nothing is dropped, the next flush writes it all."""
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1)
    await game_channel(engine)
    recorder = MessageRecorder(engine, batch_size=1000, flush_interval=3600)
    await recorder.start(background=False)
    recorder.record(GUILD, CHANNEL, 1, 1, "kept", at(1))
    recorder.engine = make_engine(unreachable_url(engine))
    with pytest.raises((sa.exc.DBAPIError, OSError)):
        await recorder.flush()
    assert recorder.buffered == 1
    await recorder.engine.dispose()
    recorder.engine = engine
    await recorder.aclose()
    assert await stored(engine) == [(ana, 1, "kept")]


def unreachable_url(engine: AsyncEngine) -> str:
    if engine.dialect.name == "sqlite":
        return "sqlite+aiosqlite:////nonexistent-folder/for/sure/x.db"
    return "postgresql+asyncpg://postgres@127.0.0.1:1/test"


def poison_into_buffer(
    recorder: MessageRecorder, guild_id: int, channel_id: int, user_id: int, message_id: int
) -> None:
    """A row no engine can store: its text is not valid Unicode (a lone surrogate, which cleaning
    would have removed), put straight into the buffer as if cleaning had missed it."""
    view = recorder.view(guild_id)
    assert view is not None
    recorder._append(  # the test stands in for a cleaning bug
        (view.season_id, view.citizens[user_id], channel_id, message_id, "bad \ud800 text", at(message_id))
    )
