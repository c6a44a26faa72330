"""One audit of one season, claimed, scored and committed as one transaction.

0. **Claim.** The season row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
   already holds the write lock), checked (running, due), and audit ``last_audit_number + 1`` is
   claimed with ``INSERT INTO audit ... ON CONFLICT DO NOTHING RETURNING``. No row back: another
   process has it, and this one does nothing. The whole audit commits or rolls back as one, so a
   retried audit either finds its work done (the number is taken, the season no longer due) or starts
   from scratch.
1-5. :class:`.steps.AuditRun` scores.
6. :mod:`.announcements` writes the outbox; the season's schedule moves on the grid
   (:func:`game.rules.schedule.next_on_grid`) and, past the deadline, the season ends.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from game.db import empty_write_ahead_log
from game.errors import Conflict, ErrorCode, NotAllowed, NotFound, ScenarioError
from game.models import Audit, PendingMessage, Season, SeasonStatus
from game.rules.schedule import next_on_grid
from game.services.audits.announcements import write_announcements, write_season_end
from game.services.audits.books import compile_rules
from game.services.audits.decrees import DecreeState, friends_note
from game.services.audits.steps import AuditRun

if TYPE_CHECKING:
    from game.services.recorder import MessageRecorder

__all__ = ["AUDIT_CACHE_KIB", "AuditResult", "run_audit_now", "run_due_audit"]

log = logging.getLogger(__name__)

season_t: sa.Table = Season.__table__  # type: ignore[attr-defined]
audit_t: sa.Table = Audit.__table__  # type: ignore[attr-defined]
pending_t: sa.Table = PendingMessage.__table__  # type: ignore[attr-defined]

AUDIT_CACHE_KIB = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditResult:
    """What one audit did. ``duration_s`` is wall-clock time, for logs and benchmarks."""

    season_id: int
    guild_id: int
    number: int
    audited_at: datetime
    messages_scored: int
    purchases_applied: int
    ledger_entries: int
    social_entries: int
    citizens_changed: int
    tier_changes: int
    outbox_messages: int
    season_ended: bool
    duration_s: float
    # Decrees that took effect or lapsed at this audit (enrolment and the shop may have changed).
    decrees_changed: int = 0


async def run_due_audit(
    engine: AsyncEngine,
    *,
    season_id: int,
    now: datetime,
    claimed_by: str,
    recorder: MessageRecorder | None = None,
) -> AuditResult | None:
    """Run the season's audit if it is due by ``now``; ``None`` when there was nothing to do.

    Due means: the season is running and ``next_audit_at <= now``, or its deadline ``ends_at`` has
    passed (then this is the last audit and the season ends). Audits missed while the bot was down are
    caught up as one. Safe to call from several processes at once and to retry: each audit number runs
    exactly once.
    """
    if recorder is not None:
        await recorder.flush()
    return await _audit(engine, season_id=season_id, now=now, claimed_by=claimed_by, scheduled=True)


async def run_audit_now(
    engine: AsyncEngine,
    *,
    season_id: int,
    now: datetime,
    claimed_by: str,
    number: int | None = None,
    recorder: MessageRecorder | None = None,
) -> AuditResult | None:
    """The moderators' audit on demand: audit the running season at once (its schedule is unchanged).

    ``number``, when given, makes a retry safe: the audit runs only if ``number`` is the next one,
    else ``None``. Raises :class:`NotFound` for an unknown season, :class:`NotAllowed` for a paused one
    and :class:`Conflict` for one that has ended.
    """
    if recorder is not None:
        await recorder.flush()
    return await _audit(
        engine, season_id=season_id, now=now, claimed_by=claimed_by, scheduled=False, expected_number=number
    )


def _dialect_insert(connection: AsyncConnection, table: sa.Table) -> Any:
    if connection.dialect.name == "postgresql":
        return pg_dialect.insert(table)
    return sqlite_dialect.insert(table)


class _CyclicGCPause:
    """Cyclic garbage collection off while audits run (re-entrant: audits of several seasons may overlap
    on one event loop); reference counting still frees everything as usual.

    A big audit holds some 300,000 tuples at once (messages, ledger rows, friends' entries) and creates
    few reference cycles; each full collection walks all of them, and the allocation counters trigger
    a few per audit: about 0.2 s of a 3 s audit measured, for no garbage found. Collection resumes (as
    it was) when the last audit ends.
    """

    def __init__(self) -> None:
        self.holders = 0
        self.was_enabled = False

    def __enter__(self) -> None:
        if self.holders == 0:
            self.was_enabled = gc.isenabled()
            gc.disable()
        self.holders += 1

    def __exit__(self, *_exc: object) -> None:
        self.holders -= 1
        if self.holders == 0 and self.was_enabled:
            gc.enable()


_gc_pause = _CyclicGCPause()


async def _audit(
    engine: AsyncEngine,
    *,
    season_id: int,
    now: datetime,
    claimed_by: str,
    scheduled: bool,
    expected_number: int | None = None,
) -> AuditResult | None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with _gc_pause:
        started = time.perf_counter()
        async with engine.begin() as connection:
            claimed = await _claim(
                connection,
                season_id=season_id,
                now=now,
                claimed_by=claimed_by,
                scheduled=scheduled,
                expected_number=expected_number,
            )
            if claimed is None:
                return None
            season, number, ending = claimed
            compiled = compile_rules(season.rules)
            decrees = DecreeState(
                connection=connection,
                season_id=season_id,
                guild_id=season.guild_id,
                base=compiled.scenario,
                number=number,
                now=now,
                started_at=season.started_at,
                ends_at=season.ends_at,
                audit_every=timedelta(seconds=season.audit_every_s),
                ending=ending,
            )
            in_force = await decrees.load()
            if in_force.decrees:
                # The rules in force at this audit: the season's, with its decrees (game.rules.decrees).
                try:
                    compiled = compile_rules(in_force.scenario.model_dump(mode="json"))
                except ScenarioError:
                    # Never expected (the rules keep decrees apart from the season's own topics); an
                    # audit that cannot run would stop the season, so it plays by the season's rules.
                    log.exception(
                        "season %s: the decrees in force do not compile; audit %s ignores them",
                        season_id,
                        number,
                    )
            run = AuditRun(
                connection=connection,
                season_id=season_id,
                guild_id=season.guild_id,
                number=number,
                now=now,
                compiled=compiled,
            )
            run.before_write = decrees.take_due
            run.friends_note = friends_note(in_force.decrees)
            await _score_and_announce(run, season_number=season.number, ending=ending)
            leftover = (
                await _forget_ended_text(connection, guild_id=season.guild_id, season_id=season_id)
                if ending
                else 0
            )
            season_values: dict[str, Any] = {"last_audit_number": number}
            next_audit_at = next_on_grid(season.next_audit_at, timedelta(seconds=season.audit_every_s), now)
            if scheduled:
                season_values["next_audit_at"] = next_audit_at
            await decrees.announce(next_audit_at=next_audit_at)
            if ending:
                season_values.update(status=SeasonStatus.ENDED.value, ended_at=now)
            await connection.execute(
                sa.update(season_t).where(season_t.c.id == season_id).values(**season_values)
            )
            await connection.execute(
                sa.update(audit_t)
                .where(audit_t.c.season_id == season_id, audit_t.c.number == number)
                .values(finished_at=now, stats=run.stats(time.perf_counter() - started))
            )
        result = AuditResult(
            season_id=season_id,
            guild_id=season.guild_id,
            number=number,
            audited_at=now,
            messages_scored=run.messages_scored,
            purchases_applied=run.purchases_applied,
            ledger_entries=run.ledger_entries,
            social_entries=run.social_entries,
            citizens_changed=run.citizens_changed,
            tier_changes=len(run.tier_changes),
            outbox_messages=run.outbox_messages,
            season_ended=ending,
            duration_s=time.perf_counter() - started,
            decrees_changed=decrees.changed,
        )
    if run.messages_scored or leftover:
        try:
            await empty_write_ahead_log(engine)
        except Exception:  # the audit is committed; the next one empties the log
            log.exception(
                "could not empty the write-ahead log after audit %s of season %s", number, season_id
            )
    log.info(
        "audit %s of season %s: %d messages, %d purchases, %d ledger entries (%d social) in %.3f s",
        number,
        season_id,
        result.messages_scored,
        result.purchases_applied,
        result.ledger_entries,
        result.social_entries,
        result.duration_s,
    )
    return result


async def _forget_ended_text(connection: AsyncConnection, *, guild_id: int, season_id: int) -> int:
    """The season's last audit: no text of the guild's ended seasons (this one included) is kept.

    The audit has just scored and deleted this season's messages, and the recorder stores none for a
    season that is not running; this catches anything else (belt and braces), and says so."""
    ended = sa.select(season_t.c.id).where(
        season_t.c.guild_id == guild_id,
        sa.or_(season_t.c.id == season_id, season_t.c.status == SeasonStatus.ENDED.value),
    )
    deleted = (
        await connection.execute(sa.delete(pending_t).where(pending_t.c.season_id.in_(ended)))
    ).rowcount
    if deleted:
        log.warning("deleted %d messages left for ended seasons of guild %s", deleted, guild_id)
    return int(deleted or 0)


async def _score_and_announce(run: AuditRun, *, season_number: int, ending: bool) -> None:
    try:
        await run.score()
        mark = time.perf_counter()
        await write_announcements(run)
        mark = run.lap("outbox", mark)
        if ending:
            await write_season_end(run, season_number=season_number)
        # SQLite: the statements queued in the background (citizens, score counts, outbox) finish.
        await run.drain()
        run.lap("writes_drain", mark)
    finally:
        # Nothing may still run on the connection when the caller commits or rolls back.
        await run.drain(raising=False)


async def _claim(
    connection: AsyncConnection,
    *,
    season_id: int,
    now: datetime,
    claimed_by: str,
    scheduled: bool,
    expected_number: int | None,
) -> tuple[Any, int, bool] | None:
    """Lock the season, check it may be audited now, and claim the next audit number:
    ``(season row, number, is this the last audit)``, or ``None`` when there is nothing to do here."""
    season = (
        await connection.execute(
            sa.select(
                season_t.c.id,
                season_t.c.guild_id,
                season_t.c.number,
                season_t.c.rules,
                season_t.c.status,
                season_t.c.audit_every_s,
                season_t.c.started_at,
                season_t.c.ends_at,
                season_t.c.next_audit_at,
                season_t.c.last_audit_number,
            )
            .where(season_t.c.id == season_id)
            .with_for_update()
        )
    ).one_or_none()
    if connection.dialect.name == "postgresql":
        # Audit statements are big but simple: compiling them (JIT) costs more than it saves.
        await connection.exec_driver_sql("SET LOCAL jit = off")
    else:
        # A big audit touches tens of MB of pages; SQLite's default 2 MB cache re-reads them from
        # the OS (a quarter of the audit's CPU time measured). Pages are allocated only as used.
        await connection.exec_driver_sql(f"PRAGMA cache_size = -{AUDIT_CACHE_KIB}")
    if season is None:
        if scheduled:
            return None
        raise NotFound(ErrorCode.SEASON_NOT_FOUND)
    ending = now >= season.ends_at
    if scheduled:
        if season.status != SeasonStatus.RUNNING or not (season.next_audit_at <= now or ending):
            return None
    elif season.status == SeasonStatus.PAUSED:
        raise NotAllowed(ErrorCode.SEASON_PAUSED, action="audit")
    elif season.status == SeasonStatus.ENDED:
        raise Conflict(ErrorCode.SEASON_ENDED, what="audit")
    number = season.last_audit_number + 1
    if expected_number is not None and expected_number != number:
        return None
    claimed = (
        await connection.execute(
            _dialect_insert(connection, audit_t)
            .values(season_id=season_id, number=number, started_at=now, claimed_by=claimed_by, stats={})
            .on_conflict_do_nothing()
            .returning(audit_t.c.number)
        )
    ).scalar_one_or_none()
    if claimed is None:
        log.info("audit %s of season %s is already claimed", number, season_id)
        return None
    return season, number, ending
