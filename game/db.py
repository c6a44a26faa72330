"""One async engine factory, right on both engines, and the two kinds of transaction the game uses.

SQLite (the default, a file under ``./var/``) runs through aiosqlite with WAL, a busy timeout (set
first on every new connection, before anything that may need a lock), foreign keys, ``secure_delete``
(deleted rows are overwritten; :func:`empty_write_ahead_log` then takes them out of the log), and:

* write transactions (:func:`transaction`) that take the write lock when they begin (``BEGIN
  IMMEDIATE``): deferred transactions that read and then write fail with "database is locked" under
  concurrent writers even with a busy timeout, so writers queue for the lock instead;
* read transactions (:func:`reading`, and any connection made from :func:`read_only`) that begin
  deferred: in WAL mode a reader never waits for a writer, nor a writer for it.

PostgreSQL runs through asyncpg; both kinds are plain transactions there.

A write path follows one lock order (``docs/architecture.md``: the season row, then citizen rows by
id, then the rest), so deadlocks do not happen; :func:`run_in_transaction` still retries a
transaction that the database aborted as a deadlock or serialisation failure, a bounded number of
times and logged, as a last resort only.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/citizen-score.db"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# The execution option that makes a SQLite transaction a deferred (reading) one.
READ_ONLY = "citizen_score_read_only"
# How often a transaction the database aborted (deadlock, serialisation) is tried again, at most.
RETRIES = 3

log = logging.getLogger(__name__)
T = TypeVar("T")


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
        # First: switching to WAL needs a lock, and without the timeout a busy database refuses at once.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows (scored message text above all) are overwritten with zeros, not just unlinked.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


async def empty_write_ahead_log(engine: AsyncEngine) -> None:
    """SQLite: copy the write-ahead log into the database file and truncate it, so text just deleted
    (overwritten in the file by ``secure_delete``) is not left readable in the log either. Waits for
    the write lock like any writer; a checkpoint that readers kept from finishing is logged. Nothing
    to do on PostgreSQL."""
    if not is_sqlite(engine):
        return
    async with engine.connect() as connection:
        # Outside any transaction: a checkpoint cannot run inside one.
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = await cursor.fetchone()
        await cursor.close()
    if busy and busy[0]:
        log.warning("write-ahead log checkpoint could not finish (readers active); it runs again later")


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


# One queue of writers per SQLite file and event loop (see :func:`transaction`).
_writers: dict[tuple[str, int], asyncio.Lock] = {}


def _writer_queue(engine: AsyncEngine) -> asyncio.Lock | None:
    if engine.url.get_backend_name() != "sqlite":
        return None
    loop = asyncio.get_running_loop()
    key = (str(engine.url.database), id(loop))
    queue = _writers.get(key)
    if queue is None:
        if len(_writers) > 64:  # loops of finished runs (tests): forget them
            _writers.clear()
        queue = _writers[key] = asyncio.Lock()
    return queue


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One session, one write transaction: committed on success, rolled back on any error.

    On SQLite the process's writers to one file wait their turn in an asyncio queue before they ask
    for the write lock: SQLite's own busy handler polls, is not fair, and with a hundred writers
    waiting some of them would pass the busy timeout and be refused ("database is locked"). The busy
    timeout still covers writers of other processes."""
    queue = _writer_queue(engine)
    if queue is None:
        async with session_factory(engine)() as session, session.begin():
            yield session
        return
    async with queue, session_factory(engine)() as session, session.begin():
        yield session


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same engine, whose transactions only read (deferred on SQLite: they never wait for writers)."""
    return engine.execution_options(**{READ_ONLY: True})


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One session, one read transaction (see :func:`read_only`); nothing it does is committed."""
    async with session_factory(read_only(engine))() as session, session.begin():
        yield session


def is_retryable(error: BaseException) -> bool:
    """True for a transaction the database aborted through no fault of its own: a deadlock, a
    serialisation failure (PostgreSQL), a lock not granted within the busy timeout (SQLite)."""
    orig = getattr(error, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    if sqlstate in ("40P01", "40001"):
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(orig)


async def run_in_transaction(
    engine: AsyncEngine, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = RETRIES
) -> T:
    """``work`` in one write transaction, tried again (at most ``attempts`` times in all, each logged)
    when the database aborted it as a deadlock or a serialisation failure. A last resort: the lock
    order is what keeps those from happening."""
    for attempt in range(1, attempts + 1):
        try:
            async with transaction(engine) as session:
                return await work(session)
        except DBAPIError as error:
            if attempt == attempts or not is_retryable(error):
                raise
            log.warning(
                "transaction aborted by the database (%s); attempt %d of %d", error.orig, attempt, attempts
            )
            await asyncio.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def is_unique_violation(error: BaseException) -> bool:
    """True when a database error is a unique-constraint violation, on either engine."""
    orig = getattr(error, "orig", None)
    if isinstance(orig, sqlite3.IntegrityError) or "sqlite3.IntegrityError" in repr(type(orig)):
        return "UNIQUE" in str(orig)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return sqlstate == "23505" or "UniqueViolationError" in repr(orig)
