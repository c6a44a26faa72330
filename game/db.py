"""One async engine factory, right on both engines.

SQLite (the default, a file under ``./var/``) runs through aiosqlite with WAL, a busy timeout,
foreign keys, and write transactions that take the write lock when they begin (``BEGIN IMMEDIATE``):
deferred transactions that read and then write fail with "database is locked" under concurrent
writers even with a busy timeout. PostgreSQL runs through asyncpg.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/citizen-score.db"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def sqlite_time_text(moment: datetime) -> str:
    """A timestamp as the tables store it on SQLite: naive UTC text, ``2026-03-01 12:15:00.000000``.

    Fixed width, so text comparisons and sorts follow time. ``moment`` is aware (any zone), or naive
    and already UTC (what the column type hands its bind processor).
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(" ", "microseconds")


def normalise_url(url: str | URL) -> URL:
    """Accept the URLs people paste (``postgres://``, ``sqlite:///``) and pick the async driver."""
    parsed = make_url(str(url).replace("postgres://", "postgresql://", 1)) if isinstance(url, str) else url
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {parsed.drivername!r}: use sqlite or postgresql")


def is_sqlite(engine_or_url: AsyncEngine | URL | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, AsyncEngine) else normalise_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN, so we can make it BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str | URL = DEFAULT_DATABASE_URL, **kwargs: Any) -> AsyncEngine:
    """The engine for ``url``; creates the folder of a SQLite file if needed."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(parsed, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One session, one transaction: committed on success, rolled back on any error."""
    async with session_factory(engine)() as session, session.begin():
        yield session


def is_unique_violation(error: BaseException) -> bool:
    """True when a database error is a unique-constraint violation, on either engine."""
    orig = getattr(error, "orig", None)
    if isinstance(orig, sqlite3.IntegrityError) or "sqlite3.IntegrityError" in repr(type(orig)):
        return "UNIQUE" in str(orig)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return sqlstate == "23505" or "UniqueViolationError" in repr(orig)
