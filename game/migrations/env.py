"""Alembic environment: runs on the connection handed over by :func:`game.migrations.upgrade`, or,
for developers' ``alembic`` commands, on ``DATABASE_URL`` (default: the SQLite file under ./var/)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from game.db import DEFAULT_DATABASE_URL, create_engine
from game.models import metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite can alter a table only by copying it: batch mode does that on SQLite, plain ALTER elsewhere.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone() -> None:
    engine = create_engine(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_standalone())
