"""The migrations build exactly the schema the models describe, on both engines, from empty."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from game.migrations import current_revision, downgrade, upgrade
from game.models import metadata
from tests.conftest import make_engine


async def test_upgrade_from_empty_matches_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert diff == [], f"models and migrations differ: {diff}"
        assert set(metadata.tables) <= tables
        assert await current_revision(engine) is not None

        # Running it again is a no-op, and the whole history goes down and up again cleanly.
        await upgrade(engine)
        await downgrade(engine, "base")
        async with engine.connect() as connection:
            left = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert not (set(metadata.tables) & left)
        await upgrade(engine)
    finally:
        await engine.dispose()
