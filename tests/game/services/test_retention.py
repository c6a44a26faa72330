"""No text outlives its season's last audit, and deleted text is gone from the database file too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from game.models import GameChannel, PendingMessage, SeasonStatus, metadata
from game.services.audits import run_due_audit
from game.services.recorder import MessageRecorder
from tests.conftest import make_engine
from tests.factories.rows import CHANNEL, GUILD, T0, new_citizen, new_season, post, season_row

pending_t = PendingMessage.__table__
channel_t = GameChannel.__table__


async def game_channel(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(sa.insert(channel_t).values(guild_id=GUILD, channel_id=CHANNEL))


async def texts(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(sa.select(pending_t.c.content))).scalars())


async def test_two_processes_store_no_text_for_a_season_that_ended_at_its_deadline(database_url: str) -> None:
    """Two bot processes both believe the season is running (their views are minutes old) when it ends
    at its deadline: what they buffered before the last audit, and what is said after it, is never
    stored for a season no audit will read again."""
    first, second = make_engine(database_url), make_engine(database_url)
    try:
        async with first.begin() as connection:
            await connection.run_sync(metadata.create_all)
        season = await new_season(first, duration=timedelta(hours=1))
        await new_citizen(first, season, user_id=1)
        await game_channel(first)
        recorders = [
            MessageRecorder(engine, batch_size=1000, flush_interval=3600, refresh_interval=300)
            for engine in (first, second)
        ]
        for recorder in recorders:
            await recorder.start(background=False)
        deadline = T0 + timedelta(hours=1)
        # The first process's buffer is flushed by its own audit; the second's sits in its buffer.
        recorders[0].record(
            GUILD, CHANNEL, 1, 1, "first process, before the end", deadline - timedelta(seconds=2)
        )
        recorders[1].record(
            GUILD, CHANNEL, 1, 2, "second process, before the end", deadline - timedelta(seconds=1)
        )

        last = await run_due_audit(
            first, season_id=season, now=deadline, claimed_by="a", recorder=recorders[0]
        )
        assert last is not None
        assert last.season_ended
        assert last.messages_scored == 1
        # Both caches still say "running": every message said in the next minutes is taken...
        for message_id, recorder in enumerate(recorders * 2, start=3):
            assert recorder.record(GUILD, CHANNEL, 1, message_id, f"after the end {message_id}", deadline)
        for recorder in recorders:
            await recorder.flush()
        # ...and none is stored.
        assert await texts(first) == []
        assert (recorders[0].dropped, recorders[1].dropped) == (2, 3)
        assert (await season_row(first, season)).status == SeasonStatus.ENDED.value
        for recorder in recorders:
            await recorder.aclose()
        assert await texts(second) == []
    finally:
        await first.dispose()
        await second.dispose()


async def test_the_last_audit_deletes_every_text_left_for_the_guilds_ended_seasons(
    engine: AsyncEngine,
) -> None:
    """Belt and braces: text of an ended season (left by an earlier version, or a write that got past
    every check) is deleted when the guild's next season ends."""
    old = await new_season(engine, status=SeasonStatus.ENDED, number=1, duration=timedelta(hours=1))
    old_citizen = await new_citizen(engine, old, user_id=1)
    await post(engine, old, old_citizen, "left over from an old season")
    season = await new_season(engine, number=2, start=T0 + timedelta(hours=2), duration=timedelta(hours=1))
    citizen = await new_citizen(engine, season, user_id=1)
    await post(engine, season, citizen, "scored by the last audit", at=T0 + timedelta(hours=2, minutes=1))
    other_guild = await new_season(engine, guild_id=GUILD + 1)
    other = await new_citizen(engine, other_guild, user_id=1)
    await post(engine, other_guild, other, "another guild, still running")

    last = await run_due_audit(engine, season_id=season, now=T0 + timedelta(hours=3), claimed_by="a")

    assert last is not None
    assert last.season_ended
    assert await texts(engine) == ["another guild, still running"]


async def test_deleted_text_is_not_left_in_the_sqlite_file_or_its_log(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the database file is SQLite's")
    database = Path(str(engine.url.database))
    season = await new_season(engine)
    citizen = await new_citizen(engine, season, user_id=1)
    secret = "zebra-quartz-unique-7719 " * 4
    # Another guild's messages share the table's pages and stay (their season is not audited yet).
    elsewhere = await new_season(engine, guild_id=GUILD + 1)
    someone = await new_citizen(engine, elsewhere, user_id=2)
    for n in range(20):
        await post(engine, season, citizen, f"{secret} {n}")
        await post(engine, elsewhere, someone, f"another guild {n}")
    files = [database, database.with_name(database.name + "-wal")]

    def found() -> bool:
        return any(path.exists() and secret.encode() in path.read_bytes() for path in files)

    assert found()  # the text is there before the audit

    result = await run_due_audit(engine, season_id=season, now=T0 + timedelta(minutes=15), claimed_by="a")

    assert result is not None
    assert result.messages_scored == 20
    assert not found()
