"""Scheduling audits: jobs rebuilt from the database, the game clock, and two processes racing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from game.clock import FunctionClock, SystemClock
from game.models import LedgerEntry, OutboxKind, Season, SeasonStatus
from game.scheduling import REFRESH_JOB_ID, SeasonScheduler
from game.services.audits import AuditResult
from tests.conftest import TestClock, make_engine
from tests.factories.rows import (
    T0,
    assert_books_balance,
    new_citizen,
    new_season,
    outbox,
    post,
    season_row,
)

ledger_t = LedgerEntry.__table__


def scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(timezone="UTC")


async def test_start_schedules_the_running_seasons_with_fixed_ids(engine: AsyncEngine) -> None:
    running = await new_season(engine, guild_id=1, audit_every=timedelta(minutes=5))
    await new_season(engine, guild_id=2, status=SeasonStatus.PAUSED)
    await new_season(engine, guild_id=3, status=SeasonStatus.ENDED)
    jobs = scheduler()
    seasons = SeasonScheduler(engine, TestClock(T0), jobs, claimed_by="a", wall_clock=True)

    assert await seasons.start() == 1

    assert seasons.scheduled == {running}
    audit_job = jobs.get_job(f"audit:{running}")
    end_job = jobs.get_job(f"end:{running}")
    assert audit_job is not None
    assert end_job is not None
    assert isinstance(audit_job.trigger, IntervalTrigger)
    assert audit_job.trigger.interval == timedelta(minutes=5)
    assert (audit_job.coalesce, audit_job.max_instances) == (True, 1)
    assert audit_job.misfire_grace_time >= 60
    assert isinstance(end_job.trigger, DateTrigger)
    assert end_job.trigger.run_date == (await season_row(engine, running)).ends_at
    assert jobs.get_job(REFRESH_JOB_ID) is not None
    # Rebuilding replaces, never duplicates.
    await seasons.start()
    assert len(jobs.get_jobs()) == 3


async def test_pause_and_resume_unschedule_and_reschedule(engine: AsyncEngine) -> None:
    season_id = await new_season(engine)
    jobs = scheduler()
    seasons = SeasonScheduler(engine, TestClock(T0), jobs, claimed_by="a", wall_clock=True)
    await seasons.start()
    jobs.remove_job(REFRESH_JOB_ID)
    stored = dict((await season_row(engine, season_id))._mapping)
    row = Season(**{**stored, "status": SeasonStatus.RUNNING})  # a Season, as the services hold it

    seasons.schedule_season(Season(**{**stored, "status": SeasonStatus.PAUSED}))
    assert seasons.scheduled == frozenset()
    assert jobs.get_jobs() == []

    seasons.schedule_season(row)
    assert seasons.scheduled == {season_id}
    seasons.unschedule_season(season_id)
    seasons.unschedule_season(season_id)
    assert jobs.get_jobs() == []


async def test_run_pending_runs_what_the_game_clock_says_is_due(engine: AsyncEngine) -> None:
    fast = await new_season(
        engine, guild_id=1, audit_every=timedelta(seconds=10), duration=timedelta(minutes=1)
    )
    slow = await new_season(engine, guild_id=2, audit_every=timedelta(minutes=15))
    ana = await new_citizen(engine, fast, user_id=1)
    await post(engine, fast, ana, "tank man", at=T0 + timedelta(seconds=1))
    clock = TestClock(T0)
    seen: list[AuditResult] = []

    async def on_audit(result: AuditResult) -> None:
        seen.append(result)

    seasons = SeasonScheduler(engine, clock, scheduler(), claimed_by="a", on_audit=on_audit)
    await seasons.start()

    assert await seasons.run_pending(clock.advance(seconds=9)) == []
    first = await seasons.run_pending(clock.advance(seconds=1))
    assert [(r.season_id, r.number) for r in first] == [(fast, 1)]
    # The game clock jumps far ahead: one catch-up audit for each season, and the short one ends.
    caught_up = await seasons.run_pending(clock.advance(hours=1))
    assert sorted((r.season_id, r.number, r.season_ended) for r in caught_up) == [
        (fast, 2, True),
        (slow, 1, False),
    ]
    assert seen == first + caught_up
    assert seasons.scheduled == {slow}
    assert (await season_row(engine, fast)).status == SeasonStatus.ENDED
    assert len(await outbox(engine, fast, OutboxKind.SEASON_END)) == 1


async def test_the_job_runs_the_same_audit_as_run_pending(engine: AsyncEngine) -> None:
    season_id = await new_season(engine, audit_every=timedelta(seconds=30))
    clock = TestClock(T0 + timedelta(seconds=30))
    done = asyncio.Event()
    results: list[AuditResult] = []

    async def on_audit(result: AuditResult) -> None:
        results.append(result)
        done.set()

    jobs = scheduler()
    seasons = SeasonScheduler(engine, clock, jobs, claimed_by="a", on_audit=on_audit, wall_clock=True)
    await seasons.start()
    jobs.start()
    try:
        # Fire the real APScheduler job now instead of in 30 real seconds.
        job = jobs.get_job(f"audit:{season_id}")
        assert job is not None
        job.modify(next_run_time=datetime.now(UTC))
        await asyncio.wait_for(done.wait(), timeout=20)
    finally:
        jobs.shutdown(wait=False)
    assert [(r.season_id, r.number, r.audited_at) for r in results] == [(season_id, 1, clock.now())]
    # Run again at the same game time: not due any more.
    assert await seasons.run_pending(clock.now()) == []


async def test_a_season_ended_elsewhere_stops_waking_this_process(engine: AsyncEngine) -> None:
    season_id = await new_season(engine)
    seasons = SeasonScheduler(engine, TestClock(T0), scheduler(), claimed_by="a")
    await seasons.start()
    async with engine.begin() as connection:
        await connection.execute(sa.text("UPDATE season SET status = 'ended'"))

    assert await seasons.run_pending(T0 + timedelta(days=30)) == []
    assert seasons.scheduled == frozenset()
    assert (await season_row(engine, season_id)).last_audit_number == 0


async def test_two_processes_racing_run_each_audit_exactly_once(
    engine: AsyncEngine, database_url: str
) -> None:
    """Two schedulers, two engines on one database (two bot processes), the same due audits."""
    seasons_ids = [
        await new_season(
            engine, guild_id=guild, audit_every=timedelta(seconds=10), duration=timedelta(minutes=1)
        )
        for guild in (1, 2, 3)
    ]
    for season_id in seasons_ids:
        for user in range(4):
            citizen_id = await new_citizen(engine, season_id, user_id=user)
            await post(engine, season_id, citizen_id, "tank man")
    other_engine = make_engine(database_url)
    clock = TestClock(T0)
    results: dict[str, list[AuditResult]] = {"a": [], "b": []}

    def collector(name: str):  # type: ignore[no-untyped-def]
        async def on_audit(result: AuditResult) -> None:
            results[name].append(result)

        return on_audit

    a = SeasonScheduler(engine, clock, scheduler(), claimed_by="a", on_audit=collector("a"))
    b = SeasonScheduler(other_engine, clock, scheduler(), claimed_by="b", on_audit=collector("b"))
    try:
        await a.start()
        await b.start()
        for _ in range(7):  # 70 s: six audits, the last of them ending each season
            now = clock.advance(seconds=10)
            await asyncio.gather(
                a.run_pending(now), b.run_pending(now), a.run_pending(now), b.run_pending(now)
            )
    finally:
        await other_engine.dispose()

    everything = results["a"] + results["b"]
    ran = sorted((r.season_id, r.number) for r in everything)
    assert ran == sorted((season_id, number) for season_id in seasons_ids for number in range(1, 7))
    async with engine.connect() as connection:
        claims = (await connection.execute(sa.text("SELECT season_id, number, claimed_by FROM audit"))).all()
        speech = (
            await connection.execute(
                sa.select(sa.func.count()).select_from(ledger_t).where(ledger_t.c.dimension == "speech")
            )
        ).scalar_one()
    assert sorted((c.season_id, c.number) for c in claims) == ran
    assert {c.claimed_by for c in claims} <= {"a", "b"}
    assert speech == 12  # each message scored once
    for season_id in seasons_ids:
        assert (await season_row(engine, season_id)).status == SeasonStatus.ENDED
        assert len(await outbox(engine, season_id, OutboxKind.BULLETIN)) == 6
        await assert_books_balance(engine, season_id)


async def test_wall_clock_jobs_only_when_the_game_runs_on_the_wall_clock(engine: AsyncEngine) -> None:
    """A game on a simulator's clock gets no wall-clock jobs: its driver calls run_pending."""
    season_id = await new_season(engine)
    simulated, real = scheduler(), scheduler()
    on_sim = SeasonScheduler(engine, FunctionClock(lambda: T0), simulated, claimed_by="a")
    on_wall = SeasonScheduler(engine, SystemClock(), real, claimed_by="b")

    await on_sim.start()
    await on_wall.start()

    assert on_sim.scheduled == on_wall.scheduled == {season_id}
    assert simulated.get_jobs() == []
    assert {job.id for job in real.get_jobs()} == {f"audit:{season_id}", f"end:{season_id}", REFRESH_JOB_ID}


async def test_refresh_follows_seasons_changed_by_another_process(engine: AsyncEngine) -> None:
    first = await new_season(engine, guild_id=1)
    seasons = SeasonScheduler(engine, TestClock(T0), scheduler(), claimed_by="a")
    await seasons.start()
    # Another process sharing the database ends one season and starts another.
    second = await new_season(engine, guild_id=2, audit_every=timedelta(minutes=5))
    async with engine.begin() as connection:
        await connection.execute(sa.text(f"UPDATE season SET status = 'ended' WHERE id = {first}"))

    assert await seasons.refresh() == 1
    assert seasons.scheduled == {second}
    row = await season_row(engine, second)
    assert await seasons.next_due() == min(row.next_audit_at, row.ends_at)
