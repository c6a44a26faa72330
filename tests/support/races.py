"""Races for storage tests: several engines (separate pools, so real connections) on one database,
and racers released together, so the database, not Python, decides who wins."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from game.errors import GameError
from tests.conftest import make_engine

__all__ = ["ENGINES", "engines", "outcome", "race"]

ENGINES = 4
WARM_CONNECTIONS = 4


@pytest.fixture
async def engines(engine: AsyncEngine, database_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """The test's engine and three more on the same database: separate pools, separate connections,
    each with a few connections already open so that no racer is held back by connecting."""
    more = [make_engine(database_url) for _ in range(ENGINES - 1)]
    everyone = [engine, *more]
    for each in everyone:
        held = [await each.connect() for _ in range(WARM_CONNECTIONS)]
        for connection in held:
            await connection.close()
    yield everyone
    for extra in more:
        await extra.dispose()


async def race(racers: list[Callable[[], Awaitable[str]]]) -> Counter[str]:
    """Run the racers together: each waits until all are ready, then goes."""
    barrier = asyncio.Barrier(len(racers))

    async def run(racer: Callable[[], Awaitable[str]]) -> str:
        await barrier.wait()
        return await racer()

    return Counter(await asyncio.gather(*(run(racer) for racer in racers)))


async def outcome(coroutine: object) -> str:
    try:
        await coroutine  # type: ignore[misc]
    except GameError as error:
        return error.code.value if error.code else type(error).__name__
    return "ok"
