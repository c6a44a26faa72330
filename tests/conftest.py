"""Shared fixtures: a clean database on each engine, and the clock tests control.

Storage tests take the ``engine`` fixture and run twice: on SQLite (a temporary file) and on
PostgreSQL (``CITIZEN_SCORE_TEST_PG``, default 127.0.0.1:5432 database ``test`` user ``postgres``), each
test in a schema of its own. Where PostgreSQL cannot be reached its cases are skipped, and the run
says so once in its summary.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from game.db import create_engine, normalise_url
from game.models import metadata

PG_URL = os.environ.get("CITIZEN_SCORE_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, object] = {}


def postgres_reason() -> str | None:
    """None when PostgreSQL answers, else why not (asked once per run)."""
    if "reason" not in _pg_state:

        async def probe() -> str | None:
            import asyncpg

            url = normalise_url(PG_URL)
            try:
                connection = await asyncio.wait_for(
                    asyncpg.connect(
                        host=url.host, port=url.port or 5432, user=url.username, database=url.database
                    ),
                    timeout=3,
                )
            except (OSError, TimeoutError, asyncpg.PostgresError) as error:
                return f"{type(error).__name__}: {error}"
            await connection.close()
            return None

        _pg_state["reason"] = asyncio.run(probe())
    reason = _pg_state["reason"]
    return reason if isinstance(reason, str) else None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Asked here too: with pytest-xdist the tests ran in worker processes, this is the controller.
    if reason := postgres_reason():
        terminalreporter.write_line(
            f"PostgreSQL not reachable at {PG_URL} ({reason}): "
            "the PostgreSQL runs of the storage tests were SKIPPED; SQLite runs only.",
            yellow=True,
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and (reason := postgres_reason()):
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database of the chosen engine (a fresh schema on PostgreSQL)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'citizen-score.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        import asyncpg

        url = normalise_url(PG_URL)
        connection = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, database=url.database
        )
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    asyncio.run(admin(f'DROP SCHEMA "{schema}" CASCADE'))


# Connections one test engine may open on PostgreSQL. The server allows 100 in all, and two test
# workers racing four engines each must stay well inside that (racers queue for a connection).
PG_POOL = {"pool_size": 4, "max_overflow": 4}


def make_engine(url: str) -> AsyncEngine:
    """An engine for a test URL; on PostgreSQL the schema travels as a server setting."""
    if url.startswith("postgresql") and "?options=-csearch_path%3D" in url:
        base, schema = url.split("?options=-csearch_path%3D")
        return create_engine(base, connect_args={"server_settings": {"search_path": schema}}, **PG_POOL)
    return create_engine(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated-equivalent, empty database on each engine (tables from the models; the migration
    test checks that the migrations build the same schema)."""
    eng = make_engine(database_url)
    async with eng.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()


class TestClock:
    """A clock the test moves by hand."""

    __test__ = False

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


@pytest.fixture
def clock() -> TestClock:
    return TestClock()
