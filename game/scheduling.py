"""Audits on a schedule: one APScheduler job per running season, rebuilt from the database at start.

The database is the only state: which seasons run, when each is next due (``season.next_audit_at``),
which audit numbers are taken (``audit`` claim rows). The in-memory jobs only wake the process up;
each job calls :meth:`SeasonScheduler.run_season`, which asks :func:`~game.services.audits.run_due_audit`
to audit the season *if it is due by the game's clock*. So a job that fires twice, two processes with
the same jobs, or a job that fires late all come to the same thing: each audit runs exactly once.

APScheduler's timers follow the wall clock. When the game's clock is the wall clock (a bot on
Discord), jobs wake the process on time, and a refresh job picks up seasons that another process
sharing the database started, paused or ended. When the game runs on another clock (the sandbox plays
a season on the simulator's clock), no wall-clock job is added: whoever moves the game clock calls
:meth:`SeasonScheduler.run_pending`, which runs, for every scheduled season, exactly what a job would.
The bot's heartbeat does that on any clock, asking :meth:`SeasonScheduler.next_due` when to look again.

Decrees need no jobs of their own: the audit that reaches a decree's position takes it, under the
season's lock (:mod:`game.services.audits.decrees` says why that is exactly once).

No job store: APScheduler 3's ``SQLAlchemyJobStore`` is synchronous and, shared by several
processes, runs jobs more than once. Jobs have fixed ids (``audit:{season_id}``,
``end:{season_id}``), ``coalesce=True`` and ``max_instances=1``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from game.clock import Clock, SystemClock
from game.db import read_only
from game.models import Season, SeasonStatus
from game.services.audits import AuditResult, run_due_audit

if TYPE_CHECKING:
    from game.services.recorder import MessageRecorder

__all__ = ["AuditCallback", "ScheduledSeason", "SeasonScheduler"]

log = logging.getLogger(__name__)

season_t: sa.Table = Season.__table__  # type: ignore[attr-defined]

AuditCallback = Callable[[AuditResult], Awaitable[None]]


class ScheduledSeason(Protocol):
    """What scheduling needs of a season: a ``Season`` row, or anything shaped like one."""

    @property
    def id(self) -> int | None: ...
    @property
    def status(self) -> str: ...
    @property
    def audit_every_s(self) -> int: ...
    @property
    def ends_at(self) -> datetime: ...


def audit_job_id(season_id: int) -> str:
    return f"audit:{season_id}"


def end_job_id(season_id: int) -> str:
    return f"end:{season_id}"


REFRESH_JOB_ID = "seasons:refresh"


class SeasonScheduler:
    """Keeps one audit job and one end job per running season in an APScheduler ``AsyncIOScheduler``.

    ``on_audit(result)`` runs after every audit this process ran (the bot delivers the outbox there);
    ``recorder``, when given, is flushed before each audit so nothing recorded before it is missed.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        scheduler: BaseScheduler,
        *,
        claimed_by: str,
        on_audit: AuditCallback | None = None,
        recorder: MessageRecorder | None = None,
        misfire_grace_time: int = 3600,
        wall_clock: bool | None = None,
        refresh_every: timedelta = timedelta(minutes=1),
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.scheduler = scheduler
        self.claimed_by = claimed_by
        self.on_audit = on_audit
        self.recorder = recorder
        self.misfire_grace_time = misfire_grace_time
        # Wall-clock jobs make sense only when the game's time is the wall clock's.
        self.wall_clock = isinstance(clock, SystemClock) if wall_clock is None else wall_clock
        self.refresh_every = refresh_every
        self._seasons: dict[int, int] = {}  # season id -> audit interval in seconds
        self._locks: dict[int, asyncio.Lock] = {}

    @property
    def scheduled(self) -> frozenset[int]:
        """The ids of the seasons this process has jobs for."""
        return frozenset(self._seasons)

    async def start(self) -> int:
        """Schedule every running season in the database; returns how many."""
        count = await self.refresh()
        if self.wall_clock:
            self._remove_jobs(REFRESH_JOB_ID)
            self.scheduler.add_job(
                self.refresh,
                IntervalTrigger(seconds=self.refresh_every.total_seconds(), timezone=UTC),
                id=REFRESH_JOB_ID,
                name="pick up seasons changed by other processes",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
            )
        log.info("scheduled audits for %d running seasons", count)
        return count

    async def refresh(self) -> int:
        """Match the scheduled seasons to the running seasons in the database; returns how many run.

        Another process sharing the database may have started, paused or ended a season.
        """
        async with read_only(self.engine).connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(season_t.c.id, season_t.c.status, season_t.c.audit_every_s, season_t.c.ends_at)
                    .where(season_t.c.status == SeasonStatus.RUNNING.value)
                    .order_by(season_t.c.id)
                )
            ).all()
        running = {row.id for row in rows}
        for season_id in self.scheduled - running:
            self.unschedule_season(season_id)
        for row in rows:
            if self._seasons.get(row.id) != row.audit_every_s:
                self.schedule_season(row)
        return len(rows)

    async def next_due(self) -> datetime | None:
        """The earliest time an audit or a season's end is due among the scheduled seasons.

        Only says when to look again; whether an audit is due is decided by the audit service.
        """
        if not self._seasons:
            return None
        query = sa.select(sa.func.min(season_t.c.next_audit_at), sa.func.min(season_t.c.ends_at)).where(
            season_t.c.id.in_(sorted(self._seasons)), season_t.c.status == SeasonStatus.RUNNING.value
        )
        async with read_only(self.engine).connect() as connection:
            row = (await connection.execute(query)).one()
        # min() keeps the column's type: aware UTC datetimes on either engine.
        return min((value for value in row if value is not None), default=None)

    def schedule_season(self, season: ScheduledSeason) -> None:
        """(Re)schedule a season after it starts or resumes; a season that is not running is unscheduled.

        Services call it whenever a season's status or interval changes.
        """
        if season.id is None:
            raise ValueError("the season has no id yet: schedule it after it is saved")
        season_id = season.id
        if season.status != SeasonStatus.RUNNING:
            self.unschedule_season(season_id)
            return
        self._seasons[season_id] = season.audit_every_s
        # replace_existing only replaces once the scheduler runs: before that, drop the old jobs by hand.
        self._remove_jobs(audit_job_id(season_id), end_job_id(season_id))
        if not self.wall_clock:
            return
        self.scheduler.add_job(
            self._job,
            IntervalTrigger(seconds=season.audit_every_s, timezone=UTC),
            args=[season_id],
            id=audit_job_id(season_id),
            name=f"audit season {season_id}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=self.misfire_grace_time,
        )
        self.scheduler.add_job(
            self._job,
            DateTrigger(run_date=season.ends_at, timezone=UTC),
            args=[season_id],
            id=end_job_id(season_id),
            name=f"end season {season_id}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            # However late the process comes back, the season still has to end.
            misfire_grace_time=None,
        )

    def unschedule_season(self, season_id: int) -> None:
        """Remove the season's jobs (pause, end, or a season that is gone). Idempotent."""
        self._seasons.pop(season_id, None)
        self._remove_jobs(audit_job_id(season_id), end_job_id(season_id))

    def _remove_jobs(self, *job_ids: str) -> None:
        for job_id in job_ids:
            # A scheduler that has not started keeps a list in which one id can appear more than once.
            while self.scheduler.get_job(job_id) is not None:
                self.scheduler.remove_job(job_id)

    async def _job(self, season_id: int) -> None:
        await self.run_season(season_id, self.clock.now())

    async def run_pending(self, now: datetime | None = None) -> list[AuditResult]:
        """Run whatever is due by the game clock (``now``, else ``clock.now()``) for every scheduled season.

        The sandbox and tests call it after moving the game clock; a failing season is logged and
        does not stop the others.
        """
        moment = now or self.clock.now()
        results: list[AuditResult] = []
        for season_id in sorted(self._seasons):
            try:
                result = await self.run_season(season_id, moment)
            except Exception:
                log.exception("audit of season %s failed; it will be retried when next due", season_id)
                continue
            if result is not None:
                results.append(result)
        return results

    async def run_season(self, season_id: int, now: datetime) -> AuditResult | None:
        """Audit one season if it is due by ``now``; what every job and :meth:`run_pending` call."""
        lock = self._locks.setdefault(season_id, asyncio.Lock())
        async with lock:  # a job and run_pending in one process: the second finds nothing due
            result = await run_due_audit(
                self.engine, season_id=season_id, now=now, claimed_by=self.claimed_by, recorder=self.recorder
            )
        if result is None:
            await self._unschedule_if_over(season_id)
            return None
        if result.season_ended:
            self.unschedule_season(season_id)
        if self.on_audit is not None:
            try:
                await self.on_audit(result)
            except Exception:  # the audit is committed; delivery retries from the outbox
                log.exception("on_audit failed after audit %s of season %s", result.number, season_id)
        return result

    async def _unschedule_if_over(self, season_id: int) -> None:
        """Drop the jobs of a season another process ended or paused, so they stop waking us."""
        async with read_only(self.engine).connect() as connection:
            status = (
                await connection.execute(sa.select(season_t.c.status).where(season_t.c.id == season_id))
            ).scalar_one_or_none()
        if status != SeasonStatus.RUNNING:
            self.unschedule_season(season_id)

    def next_wakeup(self, season_id: int) -> timedelta | None:
        """The season's audit interval, if it is scheduled here (for status displays)."""
        seconds = self._seasons.get(season_id)
        return None if seconds is None else timedelta(seconds=seconds)
