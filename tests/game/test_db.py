"""The two kinds of transaction: reads never wait for a write; writers queue, and none is refused."""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from game.db import create_engine, reading, transaction
from game.models import Citizen
from game.services import shop
from tests.factories import GUILD_ID, NOW, make_citizens, make_season, set_balance
from tests.support.races import outcome, race


async def _reader_finishes_while_a_write_is_open(engine: AsyncEngine, *, read_with: str) -> bool:
    """A writer holds its transaction open until the reader is done (or 3 s pass); True when the
    reader finished while the write was still open."""
    read_done = asyncio.Event()
    write_open = asyncio.Event()

    async def writer() -> None:
        async with transaction(engine) as session:
            await session.exec(sa.update(Citizen).values(balance=Citizen.balance + 1))  # type: ignore[call-overload]
            write_open.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(read_done.wait(), timeout=3)

    async def reader() -> bool:
        await write_open.wait()
        opener = reading if read_with == "reading" else transaction
        async with opener(engine) as session:
            (await session.exec(sa.select(sa.func.count()).select_from(Citizen))).one()  # type: ignore[call-overload]
        finished_during_write = not writer_task.done()
        read_done.set()
        return finished_during_write

    writer_task = asyncio.create_task(writer())
    during = await reader()
    await writer_task
    return during


async def test_a_read_does_not_wait_for_a_write_in_progress(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizens(engine, count=3)
    assert await _reader_finishes_while_a_write_is_open(engine, read_with="reading")


async def test_a_write_transaction_does_queue_behind_another_on_sqlite(tmp_path: Path) -> None:
    """The other half, so the first test can fail: on SQLite a write transaction (``BEGIN IMMEDIATE``)
    used for a read waits for the open write."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    from game.models import metadata

    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await make_season(engine)
    await make_citizens(engine, count=3)
    try:
        assert not await _reader_finishes_while_a_write_is_open(engine, read_with="transaction")
    finally:
        await engine.dispose()


async def test_many_racing_purchases_on_a_big_pool_are_all_answered(tmp_path: Path) -> None:
    """160 purchases at once through one SQLite engine whose pool opens a connection for each (as a
    busy bot's would): the writers queue; nobody gets a raw 'database is locked'."""
    from game.models import metadata

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", pool_size=180, max_overflow=0)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        await make_season(engine)
        people = await make_citizens(engine, count=40)
        for person in people:
            await set_balance(engine, citizen_id=person.id, balance=10_000)

        async def buy(index: int) -> str:
            async with transaction(engine) as session:
                return await outcome(
                    shop.purchase(
                        session,
                        guild_id=GUILD_ID,
                        user_id=people[index % 40].user_id,
                        item_key="diapers",
                        now=NOW,
                    )
                )

        outcomes = await race([partial(buy, i) for i in range(160)])
        assert outcomes == {"ok": 160}
    finally:
        await engine.dispose()
