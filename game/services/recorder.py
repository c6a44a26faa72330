"""The message recorder: what the bot's message listener calls for every message, on the hot path.

:meth:`MessageRecorder.record` is synchronous and touches no database: it looks the author up in an
in-memory view of each guild (its running season, its game channels, its enrolled citizens), and
appends a tuple to a buffer. The buffer is written to ``pending_message`` in batches, with one Core
``INSERT`` executemany, when it reaches ``batch_size`` rows, when its oldest row is ``flush_interval``
old, when an audit is about to score (:meth:`flush`) and at shutdown (:meth:`aclose`).

Only participants are recorded: bots never, members who are not citizens of the guild's running
season never (unless the season's enrolment is mandatory: then the member is enrolled through
``enrol``, off the hot path, and the message is recorded once that is done), channels that are not
game channels never.

The views are rebuilt from the database at :meth:`start`, for one guild after :meth:`invalidate`
(services call it after join, leave, ``/setup`` and season changes), and every ``refresh_interval``.
A refresh also drops buffered messages of citizens who are no longer enrolled: ``/leave`` deletes
everything, including what was said a moment before.

Text is made storable as it is recorded (:func:`game.inputs.storable_text`: no NUL, no lone
surrogates). A row the database still refuses never holds up the others: a batch that fails is
written again row by row, and a row that fails alone is dropped, with one log line naming its message
link. Only an unavailable database (no connection, a lock not granted) keeps the buffer for the next
flush, so every guild's messages wait for the database, never for another guild's message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from game.db import read_only
from game.errors import GameError
from game.inputs import storable_text
from game.models import Citizen, Enrollment, GameChannel, PendingMessage, Season, SeasonStatus, SeenMessage

__all__ = ["Enrol", "GuildView", "MessageRecorder"]

log = logging.getLogger(__name__)

season_t: sa.Table = Season.__table__  # type: ignore[attr-defined]
citizen_t: sa.Table = Citizen.__table__  # type: ignore[attr-defined]
channel_t: sa.Table = GameChannel.__table__  # type: ignore[attr-defined]
pending_t: sa.Table = PendingMessage.__table__  # type: ignore[attr-defined]
seen_t: sa.Table = SeenMessage.__table__  # type: ignore[attr-defined]

# (guild_id, user_id, display_name, now) -> the new citizen's id, or None if they may not be enrolled.
Enrol = Callable[[int, int, str | None, datetime], Awaitable[int | None]]

# One buffered message: season_id, citizen_id, channel_id, message_id, content, created_at.
_Row = tuple[int, int, int, int, str, datetime]
_COLUMNS = ("season_id", "citizen_id", "channel_id", "message_id", "content", "created_at")
# The most rows one INSERT transaction writes; a longer buffer is written in several, so a burst never
# holds the event loop for long (SQLAlchemy prepares each row on it: about 30 us a row).
_MAX_ROWS_PER_WRITE = 1_000


def _unavailable(error: BaseException) -> bool:
    """True when the database could not be reached or locked (try again later), not that it refused
    the rows themselves (a bad row: it would fail again, whenever it is tried)."""
    if isinstance(error, (OSError, TimeoutError, OperationalError, InterfaceError)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class _Unavailable(Exception):
    """The database went away in the middle of a write: ``remaining`` rows were not written."""

    def __init__(self, error: BaseException, remaining: list[_Row], written: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.remaining = remaining
        self.written = written


@dataclass(slots=True)
class GuildView:
    """What the recorder knows of one guild: its running season, game channels and citizens."""

    guild_id: int
    season_id: int
    mandatory: bool
    channels: frozenset[int]
    citizens: dict[int, int] = field(default_factory=dict)  # user id -> citizen id


class MessageRecorder:
    """Buffers citizens' messages in game channels and writes them to ``pending_message`` in batches.

    ``recorded`` counts messages accepted by :meth:`record`, ``flushed`` the rows written, ``dropped``
    the accepted messages that were not written (their author left or could not be enrolled, their
    season ended), ``duplicates`` those already recorded (by another process, or twice).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        refresh_interval: float = 300.0,
        enrol: Enrol | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.engine = engine
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.refresh_interval = refresh_interval
        self._enrol = enrol
        self._monotonic = monotonic
        self._views: dict[int, GuildView] = {}
        self._guild_of: dict[int, int] = {}  # season id -> guild id, for the message links in logs
        self._buffer: list[_Row] = []
        self._oldest: float | None = None
        self._flush_lock = asyncio.Lock()
        self._flush_task: asyncio.Task[int] | None = None
        self._refreshes: dict[int, asyncio.Task[None]] = {}
        # Messages of members being enrolled, by (guild, user): recorded once the enrolment is done.
        self._enrolling: dict[tuple[int, int], list[tuple[int, int, str, datetime]]] = {}
        self._enrol_tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._closed = False
        self.recorded = 0
        self.flushed = 0
        self.dropped = 0
        self.duplicates = 0

    # Life cycle ------------------------------------------------------------------------------------

    async def start(self, *, background: bool = True) -> None:
        """Load every guild with a running season; with ``background``, flush and refresh on timers."""
        await self.refresh()
        if background and self._loop_task is None:
            self._loop_task = asyncio.create_task(self._run_timers(), name="recorder-timers")

    async def aclose(self) -> None:
        """Stop the timers, finish pending enrolments and write everything buffered. Idempotent."""
        self._closed = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        if self._enrol_tasks:
            await asyncio.gather(*self._enrol_tasks, return_exceptions=True)
        if self._refreshes:
            await asyncio.gather(*self._refreshes.values(), return_exceptions=True)
        await self.flush()

    async def _run_timers(self) -> None:
        tick = max(0.01, min(self.flush_interval / 2, 1.0))
        last_refresh = self._monotonic()
        while True:
            await asyncio.sleep(tick)
            try:
                await self.flush_due()
                if self._monotonic() - last_refresh >= self.refresh_interval:
                    last_refresh = self._monotonic()
                    await self.refresh()
            except Exception:  # keep the timers alive: the next tick retries
                log.exception("recorder timer failed")

    # The hot path ----------------------------------------------------------------------------------

    def record(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        message_id: int,
        content: str,
        created_at: datetime,
        *,
        author_is_bot: bool = False,
        display_name: str | None = None,
    ) -> bool:
        """Take one message; ``True`` when it will be written (or waits for its author's enrolment)."""
        if author_is_bot or self._closed:
            return False
        view = self._views.get(guild_id)
        if view is None or channel_id not in view.channels:
            return False
        citizen_id = view.citizens.get(user_id)
        content = storable_text(content)
        if citizen_id is None:
            if not view.mandatory or self._enrol is None:
                return False
            if display_name is not None:
                display_name = storable_text(display_name)
            self._enrol_later(view, user_id, display_name, (channel_id, message_id, content, created_at))
            self.recorded += 1
            return True
        self._append((view.season_id, citizen_id, channel_id, message_id, content, created_at))
        self.recorded += 1
        return True

    def _append(self, row: _Row) -> None:
        buffer = self._buffer
        buffer.append(row)
        now = self._monotonic()
        if self._oldest is None:
            self._oldest = now
        if len(buffer) >= self.batch_size or now - self._oldest >= self.flush_interval:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush_in_background(), name="recorder-flush")

    async def _flush_in_background(self) -> int:
        try:
            return await self.flush()
        except Exception:  # the database is unavailable: the rows are back in the buffer for the next try
            log.exception("recorder flush failed; %d messages kept for the next attempt", len(self._buffer))
            return 0

    # Writing ---------------------------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    async def wait_flushed(self) -> None:
        """Wait for a background flush started by :meth:`record` (for tests and the sandbox)."""
        while self._flush_task is not None and not self._flush_task.done():
            await self._flush_task

    async def flush_due(self) -> int:
        """Flush if the oldest buffered message has waited ``flush_interval`` (what the timer calls)."""
        if self._oldest is not None and self._monotonic() - self._oldest >= self.flush_interval:
            return await self.flush()
        return 0

    async def flush(self) -> int:
        """Write everything buffered so far; returns the rows written. Awaited by audits before scoring.

        Raises only when the database is unavailable; then what was not written stays buffered, in
        order, for the next flush. A row the database refuses is dropped (and logged), not raised.
        """
        written = 0
        async with self._flush_lock:
            while self._buffer:
                rows = self._buffer[:_MAX_ROWS_PER_WRITE]
                del self._buffer[: len(rows)]
                self._oldest = self._monotonic() if self._buffer else None
                try:
                    written += await self._write(rows)
                except _Unavailable as down:
                    # Nothing is lost: the rows go back in front, in order, for the next flush.
                    written += down.written
                    self._buffer[:0] = down.remaining
                    self._oldest = self._oldest or self._monotonic()
                    raise down.error from None
        return written

    async def _write(self, rows: list[_Row]) -> int:
        """Write a batch; if the database refuses it, write it row by row and drop the rows it refuses."""
        try:
            written = await self._write_kept(rows)
        except Exception as error:
            if _unavailable(error):
                raise _Unavailable(error, rows, 0) from error
            written = 0
            for position, row in enumerate(rows):
                try:
                    written += await self._write_kept([row])
                except Exception as row_error:
                    if _unavailable(row_error):
                        raise _Unavailable(row_error, rows[position:], written) from row_error
                    self.dropped += 1
                    log.warning(
                        "message %s could not be stored; dropped (%s)",
                        self._link(row),
                        type(row_error).__name__,
                    )
        self.flushed += written
        return written

    def _link(self, row: _Row) -> str:
        guild_id = self._guild_of.get(row[0], 0)
        return f"https://discord.com/channels/{guild_id}/{row[2]}/{row[3]}"

    async def _write_kept(self, rows: list[_Row]) -> int:
        try:
            return await self._insert(rows)
        except IntegrityError:
            # A citizen left between the message and the flush: keep the rows of those still enrolled.
            kept = await self._still_enrolled(rows)
            self.dropped += len(rows) - len(kept)
            if not kept:
                return 0
            return await self._insert(kept)

    async def _insert(self, rows: list[_Row]) -> int:
        """Store the rows of running seasons whose message is new to the season; returns how many.

        The season rows are held first (``FOR SHARE`` on PostgreSQL, in id order, the order the audit
        takes them in), so a season's last audit and this write never overlap: what is written is
        either scored by that audit or refused because the season has ended. ``seen_message`` keeps
        each message's ids once per season, so a message that several processes record (or one
        records twice) is written, and scored, once.
        """
        async with self.engine.begin() as connection:
            running_query = (
                sa.select(season_t.c.id)
                .where(
                    season_t.c.id.in_(sorted({row[0] for row in rows})),
                    season_t.c.status == SeasonStatus.RUNNING.value,
                )
                .order_by(season_t.c.id)
            )
            if connection.dialect.name == "postgresql":
                running_query = running_query.with_for_update(read=True)
            running = set((await connection.execute(running_query)).scalars())
            unique: dict[tuple[int, int], _Row] = {}
            for row in rows:
                if row[0] in running:
                    unique.setdefault((row[0], row[3]), row)
            ended = len(rows) - len(unique)
            if not unique:
                self.dropped += ended
                return 0
            insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
            fresh = await connection.execute(
                insert(seen_t).on_conflict_do_nothing().returning(seen_t.c.season_id, seen_t.c.message_id),
                [
                    {"season_id": season_id, "message_id": message_id, "citizen_id": row[1]}
                    for (season_id, message_id), row in unique.items()
                ],
            )
            new = [unique[(season_id, message_id)] for season_id, message_id in fresh]
            if new:
                await connection.execute(
                    sa.insert(pending_t), [dict(zip(_COLUMNS, row, strict=True)) for row in new]
                )
        # Counted once committed: a batch that fails is written again, row by row.
        self.dropped += ended
        self.duplicates += len(unique) - len(new)
        return len(new)

    async def _still_enrolled(self, rows: list[_Row]) -> list[_Row]:
        ids = sorted({row[1] for row in rows})
        async with read_only(self.engine).connect() as connection:
            present = set(
                (await connection.execute(sa.select(citizen_t.c.id).where(citizen_t.c.id.in_(ids)))).scalars()
            )
        return [row for row in rows if row[1] in present]

    # Enrolment -------------------------------------------------------------------------------------

    def _enrol_later(
        self, view: GuildView, user_id: int, display_name: str | None, message: tuple[int, int, str, datetime]
    ) -> None:
        key = (view.guild_id, user_id)
        held = self._enrolling.get(key)
        if held is not None:
            held.append(message)
            return
        self._enrolling[key] = [message]
        task = asyncio.create_task(self._enrol_member(view.guild_id, user_id, display_name, message[3]))
        self._enrol_tasks.add(task)
        task.add_done_callback(self._enrol_tasks.discard)

    async def _enrol_member(
        self, guild_id: int, user_id: int, display_name: str | None, now: datetime
    ) -> None:
        assert self._enrol is not None
        citizen_id: int | None = None
        try:
            citizen_id = await self._enrol(guild_id, user_id, display_name, now)
        except GameError as error:  # already enrolled by a racing message or command: look them up
            log.info("enrolment of %s in guild %s: %s", user_id, guild_id, error)
        except Exception:
            log.exception("could not enrol %s in guild %s", user_id, guild_id)
        if citizen_id is None:
            await self.refresh(guild_id)
            view = self._views.get(guild_id)
            citizen_id = view.citizens.get(user_id) if view else None
        held = self._enrolling.pop((guild_id, user_id), [])
        view = self._views.get(guild_id)
        if citizen_id is None or view is None:
            self.dropped += len(held)
            return
        view.citizens[user_id] = citizen_id
        for channel_id, message_id, content, created_at in held:
            self._append((view.season_id, citizen_id, channel_id, message_id, content, created_at))

    # The cache -------------------------------------------------------------------------------------

    def invalidate(self, guild_id: int) -> None:
        """Reload the guild's view soon (after join, leave, /setup, season start, pause, end)."""
        running = self._refreshes.get(guild_id)
        if running is not None and not running.done():
            # A reload already under way may have read the old state: chain another after it.
            async def again(previous: asyncio.Task[None]) -> None:
                await asyncio.gather(previous, return_exceptions=True)
                await self.refresh(guild_id)

            task = asyncio.create_task(again(running))
        else:
            task = asyncio.create_task(self.refresh(guild_id))
        self._refreshes[guild_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._refreshes.get(guild_id) is finished:
                del self._refreshes[guild_id]
            if not finished.cancelled() and finished.exception() is not None:
                log.error("refresh of guild %s failed", guild_id, exc_info=finished.exception())

        task.add_done_callback(done)

    async def wait_refreshed(self) -> None:
        """Wait for the reloads :meth:`invalidate` started (for tests and the sandbox)."""
        while self._refreshes:
            await asyncio.gather(*list(self._refreshes.values()), return_exceptions=True)

    def view(self, guild_id: int) -> GuildView | None:
        return self._views.get(guild_id)

    async def refresh(self, guild_id: int | None = None) -> None:
        """Rebuild the view of one guild (or of all) from the database, now."""
        views = await self._load(guild_id)
        for view in views.values():
            self._guild_of[view.season_id] = view.guild_id
        if guild_id is None:
            self._views = views
        elif guild_id in views:
            self._views[guild_id] = views[guild_id]
        else:
            self._views.pop(guild_id, None)
        self._drop_departed()

    def _drop_departed(self) -> None:
        """Forget buffered messages whose author is no longer a citizen of a running season."""
        if not self._buffer:
            return
        live = {
            (view.season_id, citizen_id)
            for view in self._views.values()
            for citizen_id in view.citizens.values()
        }
        kept = [row for row in self._buffer if (row[0], row[1]) in live]
        if len(kept) != len(self._buffer):
            self.dropped += len(self._buffer) - len(kept)
            self._buffer[:] = kept
            if not kept:
                self._oldest = None

    async def _load(self, guild_id: int | None) -> dict[int, GuildView]:
        seasons_query = sa.select(season_t.c.id, season_t.c.guild_id, season_t.c.enrollment).where(
            season_t.c.status == SeasonStatus.RUNNING.value
        )
        channels_query = sa.select(channel_t.c.guild_id, channel_t.c.channel_id)
        if guild_id is not None:
            seasons_query = seasons_query.where(season_t.c.guild_id == guild_id)
            channels_query = channels_query.where(channel_t.c.guild_id == guild_id)
        async with read_only(self.engine).connect() as connection:
            seasons = (await connection.execute(seasons_query)).all()
            if not seasons:
                return {}
            channels: dict[int, set[int]] = {}
            for row in await connection.execute(channels_query):
                channels.setdefault(row.guild_id, set()).add(row.channel_id)
            views = {
                row.guild_id: GuildView(
                    guild_id=row.guild_id,
                    season_id=row.id,
                    mandatory=row.enrollment == Enrollment.MANDATORY.value,
                    channels=frozenset(channels.get(row.guild_id, ())),
                )
                for row in seasons
            }
            by_season = {view.season_id: view for view in views.values()}
            citizens_query: Any = sa.select(citizen_t.c.season_id, citizen_t.c.user_id, citizen_t.c.id)
            citizens_query = citizens_query.where(citizen_t.c.season_id.in_(list(by_season)))
            for season_id, user_id, citizen_id in await connection.execute(citizens_query):
                by_season[season_id].citizens[user_id] = citizen_id
        return views
