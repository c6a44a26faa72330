"""The audit's bulk paths, straight to the database driver (sqlite3 through aiosqlite, asyncpg).

SQLAlchemy's per-row processing (bind and result types, dicts) costs more than the database does on
100,000-row statements, so the audit's big reads and writes use the DB-API connection under
SQLAlchemy's, inside the same transaction (already begun: the audit's first statements go through
SQLAlchemy). The SQL is the same on both engines but for placeholders (``?`` / ``$n``) and how a
timestamp travels (the tables' SQLite text form / an aware datetime).

On SQLite, :meth:`Driver.start` queues a statement whose result the audit does not read on
aiosqlite's thread and returns at once: sqlite3 releases the GIL while a statement runs, so the
database works on the other core while Python scores. aiosqlite runs a connection's statements one at
a time in the order queued, all in this transaction.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from game.db import sqlite_time_text

__all__ = ["Driver"]


class Driver:
    """One audit connection's driver-level statements."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    def sql(self, statement: str) -> str:
        """``statement`` with ``?`` placeholders, as this engine's driver takes it."""
        if not self.postgres:
            return statement
        parts = statement.split("?")
        return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]

    def time(self, value: datetime | None) -> object:
        """A timestamp as the driver takes it (text on SQLite, comparable with the tables' own)."""
        if value is None or self.postgres:
            return value
        return sqlite_time_text(value)

    @staticmethod
    def read_time(value: object) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)

    @staticmethod
    def read_json_list(value: object) -> list[str]:
        if value is None or value == "[]":
            return []
        if isinstance(value, list):
            return [str(item) for item in value]
        loaded = json.loads(str(value))
        return [str(item) for item in loaded] if isinstance(loaded, list) else []

    async def _raw(self) -> Any:
        raw = await self.connection.get_raw_connection()
        return raw.driver_connection

    async def fetch(self, statement: str, *params: object) -> list[Any]:
        """Rows as the driver returns them (tuples, asyncpg records): no result objects per row."""
        driver = await self._raw()
        if self.postgres:
            return list(await driver.fetch(self.sql(statement), *params))
        return list(await driver.execute_fetchall(statement, params))

    async def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self.connection.exec_driver_sql(self.sql(statement), [tuple(row) for row in rows])

    def start(self, statement: str, params: Sequence[Any], *, many: bool = False) -> asyncio.Task[None]:
        """SQLite: queue ``statement`` on the driver's thread and return at once (await the task later;
        the task must have run once, a yield to the loop, before its statement is queued)."""
        assert not self.postgres, "asyncpg runs one statement at a time, on the event loop"

        async def run() -> None:
            driver = await self._raw()
            if many:
                cursor = await driver.executemany(statement, params)
            else:
                cursor = await driver.execute(statement, params)
            await cursor.close()

        return asyncio.ensure_future(run())

    async def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (``COPY`` on PostgreSQL, executemany on SQLite)."""
        if not rows:
            return
        if self.postgres:
            driver = await self._raw()
            await driver.copy_records_to_table(table, records=rows, columns=list(columns))
            return
        marks = ", ".join("?" * len(columns))
        await self.execute_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
