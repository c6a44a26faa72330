"""Audits: the Bureau reviews a season's files in one batch, once, in one transaction.

An audit of one season (GAME.md, "Audits: scoring on a schedule"):

0. **Claim.** The season row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
   already holds the write lock), checked (running, due), and audit ``last_audit_number + 1`` is
   claimed with ``INSERT INTO audit ... ON CONFLICT DO NOTHING RETURNING``. No row back: another
   process has it, and this one does nothing. The whole audit commits or rolls back as one, so a
   retried audit either finds its work done (the number is taken, the season no longer due) or
   starts from scratch.
1. **Speech.** ``DELETE FROM pending_message WHERE season_id = ? RETURNING ...`` takes exactly the
   messages this audit scores (and removes their text in the same statement); each is judged in
   Python by the season's compiled matcher with the citizen's permits active at the message's time;
   rewards are gated (one per ``rewards.min_interval``, no repeats of the last digests kept on the
   citizen row); penalties never are.
2. **Consumption.** ``UPDATE purchase SET audit_number = ? WHERE audit_number IS NULL RETURNING ...``
   stamps and fetches the purchases since the last audit; one entry per purchase with an effect.
3. **Finance.** Stipend, then debt and cost of living; who cannot pay keeps the rest as debt and gets
   the unpaid penalty. Balances never go below zero.
4. **Social.** Each citizen's penalties of steps 1-3 (applied deltas) go into a temporary table; one
   ``INSERT INTO ledger_entry ... SELECT`` over ``friendship`` computes, per citizen, ``max(cap,
   trunc(k * S))`` (:func:`game.rules.social.friend_penalty`), splits it exactly over the friends who
   caused it (one entry per friend, ``related_citizen_id`` = the friend), clamps with ``CASE`` and
   chains ``score_before``/``score_after`` with a running ``SUM() OVER``. The graph never leaves the
   database; social penalties are not in the temporary table, so they never propagate (one hop, no echo).
5. **Scores.** Every entry is clamped as it is applied and records the delta *actually applied*, so
   ``start + sum(deltas) == score`` always. New scores, tiers, balances and reward state are written
   with one executemany ``UPDATE``; ``score_count`` is adjusted with one upsert.
6. **Outbox.** A ``ROLE_SYNC`` row per citizen whose tier changed, one ``BULLETIN`` per audit, and
   ``SEASON_END`` with the final standings when the season's deadline has passed.

Speed. The big reads and writes go to the driver directly (:class:`_Driver`). On SQLite, statements
whose results the audit does not read (the pending rows' ``DELETE``, batches of speech entries, the
citizens' updates, the outbox) are queued on aiosqlite's thread and run while Python scores and builds
the bulletin (sqlite3 releases the GIL while a statement runs); they run in the order queued, in the
same transaction, and are all awaited before the next statement whose result matters and before the
commit or rollback. Cyclic garbage collection is paused while an audit runs (:class:`_CyclicGCPause`).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import heapq
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from game.errors import Conflict, NotAllowed, NotFound
from game.models import (
    Audit,
    Citizen,
    Dimension,
    LedgerEntry,
    OutboxKind,
    OutboxMessage,
    PendingMessage,
    Permit,
    Purchase,
    RequestStatus,
    ScoreCount,
    Season,
    SeasonStatus,
    SourceKind,
)
from game.rules.speech import (
    RewardGate,
    SpeechFinding,
    SpeechMatcher,
    recent_digests_after,
    reward_gate,
)
from game.scenario import Scenario, restore_scenario

if TYPE_CHECKING:
    from game.services.recorder import MessageRecorder

__all__ = [
    "FRIEND_RULE_KEY",
    "UNPAID_RULE_KEY",
    "AuditResult",
    "message_link",
    "run_audit_now",
    "run_due_audit",
    "settle_finances",
]

log = logging.getLogger(__name__)

season_t: sa.Table = Season.__table__  # type: ignore[attr-defined]
citizen_t: sa.Table = Citizen.__table__  # type: ignore[attr-defined]
ledger_t: sa.Table = LedgerEntry.__table__  # type: ignore[attr-defined]
pending_t: sa.Table = PendingMessage.__table__  # type: ignore[attr-defined]
purchase_t: sa.Table = Purchase.__table__  # type: ignore[attr-defined]
permit_t: sa.Table = Permit.__table__  # type: ignore[attr-defined]
audit_t: sa.Table = Audit.__table__  # type: ignore[attr-defined]
score_count_t: sa.Table = ScoreCount.__table__  # type: ignore[attr-defined]
outbox_t: sa.Table = OutboxMessage.__table__  # type: ignore[attr-defined]

FRIEND_RULE_KEY = "friend"
UNPAID_RULE_KEY = "unpaid-cost-of-living"
BULLETIN_TOP = 5
BULLETIN_LIST_LIMIT = 20
STANDINGS_TOP = 10
AUDIT_CACHE_KIB = 64 * 1024
_REASON_MAX = 300
_SPEECH = Dimension.SPEECH.value
_MESSAGE = SourceKind.MESSAGE.value


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


def message_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def settle_finances(*, balance: int, debt: int, stipend: int, cost_of_living: int) -> tuple[int, int, bool]:
    """One audit's finances for one citizen: ``(balance, debt, unpaid)`` afterwards.

    The stipend is paid first; then what is owed (old debt, then this audit's cost of living) is
    taken from the balance. What cannot be paid stays as debt, and ``unpaid`` is True: the citizen gets
    the unpaid penalty. A balance never goes below zero.
    """
    balance += stipend
    owed = debt + cost_of_living
    if balance >= owed:
        return balance - owed, 0, False
    return 0, owed - balance, True


# ---------------------------------------------------------------------------------------------------
# The season's rules, compiled once per version


@dataclass(frozen=True, slots=True)
class _Compiled:
    scenario: Scenario
    matcher: SpeechMatcher
    # tier key by score, indexed from score.minimum: tiering 10,000 citizens is a list look-up each.
    tier_by_score: tuple[str, ...]
    tier_rank: Mapping[str, int]
    item_reasons: Mapping[str, str]


@functools.lru_cache(maxsize=32)
def _compile_json(rules_json: str) -> _Compiled:
    scenario = restore_scenario(json.loads(rules_json), source="the season's scenario")
    low, high = scenario.score.minimum, scenario.score.maximum
    return _Compiled(
        scenario=scenario,
        matcher=SpeechMatcher.from_scenario(scenario),
        tier_by_score=tuple(scenario.tier_for(score).key for score in range(low, high + 1)),
        tier_rank={tier.key: rank for rank, tier in enumerate(scenario.tiers)},
        item_reasons={item.key: item.reason for item in scenario.catalogue},
    )


def _compile(rules: Mapping[str, Any]) -> _Compiled:
    # Keyed by the rules' content: a moderator's edit is a new key, an unchanged season hits the cache.
    return _compile_json(json.dumps(rules, sort_keys=True, separators=(",", ":")))


# ---------------------------------------------------------------------------------------------------
# Per-citizen state while the audit runs


class _CitizenState:
    __slots__ = (
        "balance",
        "debt",
        "digests",
        "digests_changed",
        "display_name",
        "id",
        "last_reward_at",
        "penalty",
        "score",
        "start_score",
        "start_tier",
        "user_id",
    )

    def __init__(
        self,
        *,
        citizen_id: int,
        user_id: int,
        display_name: str,
        score: int,
        tier_key: str,
        balance: int,
        debt: int,
        last_reward_at: datetime | None,
        digests: list[str],
    ) -> None:
        self.id = citizen_id
        self.user_id = user_id
        self.display_name = display_name
        self.start_score = score
        self.score = score
        self.start_tier = tier_key
        self.balance = balance
        self.debt = debt
        self.last_reward_at = last_reward_at
        self.digests = digests
        self.digests_changed = False
        # The sum of the negative deltas applied in steps 1-3: what this citizen's friends pay for.
        self.penalty = 0


LEDGER_COLUMNS = (
    "season_id",
    "citizen_id",
    "audit_number",
    "dimension",
    "delta",
    "score_before",
    "score_after",
    "reason",
    "source_kind",
    "source_ref",
    "rule_key",
    "created_at",
)
_INSERT_LEDGER = (
    f"INSERT INTO ledger_entry ({', '.join(LEDGER_COLUMNS)}) VALUES ({', '.join('?' * len(LEDGER_COLUMNS))})"
)
_DELETE_PENDING = "DELETE FROM pending_message WHERE season_id = ?"
_UPDATE_CITIZEN = "UPDATE citizen SET score = ?, tier_key = ?, balance = ?, debt = ? WHERE id = ?"
_UPDATE_CITIZEN_SPEECH = (
    "UPDATE citizen SET score = ?, tier_key = ?, balance = ?, debt = ?, last_reward_at = ?, "
    "recent_digests = ? WHERE id = ?"
)
_UPSERT_SCORE_COUNT = (
    "INSERT INTO score_count (season_id, score, citizens) VALUES (?, ?, ?) "
    "ON CONFLICT (season_id, score) DO UPDATE SET citizens = score_count.citizens + excluded.citizens"
)
# Messages scored between two batches of ledger rows sent to SQLite in the background.
_BACKGROUND_CHUNK = 20_000


class _Ledger:
    """Builds ledger rows, clamping each delta as it is applied (the invariant lives here)."""

    __slots__ = ("audit_number", "high", "low", "rows", "season_id", "stamp")

    def __init__(self, *, season_id: int, audit_number: int, low: int, high: int, stamp: object) -> None:
        self.season_id = season_id
        self.audit_number = audit_number
        self.low = low
        self.high = high
        self.stamp = stamp  # the audit's time, as the driver takes it
        self.rows: list[tuple[Any, ...]] = []

    def add(
        self,
        citizen: _CitizenState,
        *,
        dimension: Dimension,
        delta: int,
        reason: str,
        source_kind: SourceKind,
        source_ref: str | None,
        rule_key: str | None,
    ) -> int:
        before = citizen.score
        after = before + delta
        if after < self.low:
            after = self.low
        elif after > self.high:
            after = self.high
        applied = after - before
        citizen.score = after
        if applied < 0:
            citizen.penalty += applied
        self.rows.append(
            (
                self.season_id,
                citizen.id,
                self.audit_number,
                dimension.value,
                applied,
                before,
                after,
                reason[:_REASON_MAX],
                source_kind.value,
                source_ref,
                rule_key,
                self.stamp,
            )
        )
        return applied

    def add_speech(self, citizen: _CitizenState, findings: Sequence[SpeechFinding], link: str) -> None:
        """:meth:`add` for one message's findings (dimension speech, source the message), clamped the
        same way: the audit's hot loop, without a call and two enum look-ups per entry."""
        low, high, append = self.low, self.high, self.rows.append
        season_id, audit_number, stamp, citizen_id = self.season_id, self.audit_number, self.stamp, citizen.id
        for finding in findings:
            before = citizen.score
            after = before + finding.delta
            if after < low:
                after = low
            elif after > high:
                after = high
            applied = after - before
            citizen.score = after
            if applied < 0:
                citizen.penalty += applied
            append(
                (
                    season_id,
                    citizen_id,
                    audit_number,
                    _SPEECH,
                    applied,
                    before,
                    after,
                    finding.reason[:_REASON_MAX],
                    _MESSAGE,
                    link,
                    finding.rule_key,
                    stamp,
                )
            )


class _Driver:
    """The audit's bulk paths, straight to the driver (sqlite3 through aiosqlite, asyncpg).

    SQLAlchemy's per-row processing (bind and result types, dicts) costs more than the database does
    on 100,000-row statements, so the big reads and writes use the DB-API cursor (``executemany``;
    ``COPY`` on PostgreSQL) inside the same transaction. The SQL is the same on both engines but for
    placeholders (``?`` / ``$n``) and how a timestamp travels (SQLAlchemy's SQLite text form / an
    aware datetime).
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    def sql(self, statement: str) -> str:
        if not self.postgres:
            return statement
        parts = statement.split("?")
        return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]

    def time(self, value: datetime | None) -> object:
        if value is None or self.postgres:
            return value
        # As SQLAlchemy's SQLite DateTime stores it: naive UTC text, so comparisons stay consistent.
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def read_time(self, value: object) -> datetime | None:
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

    async def fetch(self, statement: str, *params: object) -> list[Any]:
        """Rows as the driver returns them (tuples, asyncpg records): no result objects per row.

        Runs on the driver connection under SQLAlchemy's, in its transaction (already begun: the audit's
        first statements go through SQLAlchemy).
        """
        raw = await self.connection.get_raw_connection()
        driver: Any = raw.driver_connection
        if self.postgres:
            return list(await driver.fetch(self.sql(statement), *params))
        return list(await driver.execute_fetchall(statement, params))

    async def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self.connection.exec_driver_sql(self.sql(statement), [tuple(row) for row in rows])

    def start(self, statement: str, params: Sequence[Any], *, many: bool = False) -> asyncio.Task[None]:
        """SQLite: queue ``statement`` on the driver's thread and return at once (await the task later).

        sqlite3 releases the GIL while a statement runs, so the database works on the other core while
        this thread goes on in Python. aiosqlite runs a connection's statements one at a time in the
        order they were queued, all in this transaction; the task must have run once (yield to the
        loop) before its statement is queued.
        """
        assert not self.postgres, "asyncpg runs one statement at a time, on the event loop"

        async def run() -> None:
            raw = await self.connection.get_raw_connection()
            driver: Any = raw.driver_connection
            if many:
                cursor = await driver.executemany(statement, params)
            else:
                cursor = await driver.execute(statement, params)
            await cursor.close()

        return asyncio.ensure_future(run())

    async def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.postgres:
            raw = await self.connection.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table(table, records=rows, columns=list(columns))
            return
        marks = ", ".join("?" * len(columns))
        await self.execute_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


# ---------------------------------------------------------------------------------------------------
# Public entry points


def next_on_grid(due: datetime, interval: timedelta, now: datetime) -> datetime:
    """The first time after ``now`` on the schedule ``due + k * interval``.

    An audit that runs late does not push the later ones back, and audits missed while the bot was
    down are not run one by one: the next is simply the next slot after ``now``.
    """
    if due > now:
        return due
    return due + ((now - due) // interval + 1) * interval


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
    caught up as one: the next is set to ``now + interval``, not to the missed times. Safe to call from
    several processes at once and to retry: each audit number runs exactly once.
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
    """The moderators' ``/audit``: audit the running season at once (its schedule is unchanged).

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
    with _gc_pause:
        return await _audit_paused(
            engine,
            season_id=season_id,
            now=now,
            claimed_by=claimed_by,
            scheduled=scheduled,
            expected_number=expected_number,
        )


async def _audit_paused(
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
    started = time.perf_counter()
    async with engine.begin() as connection:
        season = (
            await connection.execute(
                sa.select(
                    season_t.c.id,
                    season_t.c.guild_id,
                    season_t.c.number,
                    season_t.c.rules,
                    season_t.c.status,
                    season_t.c.audit_every_s,
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
            raise NotFound("That season does not exist.")
        ending = now >= season.ends_at
        if scheduled:
            if season.status != SeasonStatus.RUNNING or not (season.next_audit_at <= now or ending):
                return None
        elif season.status == SeasonStatus.PAUSED:
            raise NotAllowed("The season is paused: resume it before calling an audit.")
        elif season.status == SeasonStatus.ENDED:
            raise Conflict("This season has ended; its last audit has been run.")
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
        run = _AuditRun(
            connection=connection,
            season_id=season_id,
            guild_id=season.guild_id,
            number=number,
            now=now,
            compiled=_compile(season.rules),
        )
        await run.execute()
        if ending:
            await run.write_season_end(season_number=season.number)
        season_values: dict[str, Any] = {"last_audit_number": number}
        if scheduled:
            season_values["next_audit_at"] = next_on_grid(
                season.next_audit_at, timedelta(seconds=season.audit_every_s), now
            )
        if ending:
            season_values.update(status=SeasonStatus.ENDED.value, ended_at=now)
        await connection.execute(
            sa.update(season_t).where(season_t.c.id == season_id).values(**season_values)
        )
        duration = time.perf_counter() - started
        stats = run.stats(duration)
        await connection.execute(
            sa.update(audit_t)
            .where(audit_t.c.season_id == season_id, audit_t.c.number == number)
            .values(finished_at=now, stats=stats)
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
        tier_changes=run.tier_changes,
        outbox_messages=run.outbox_messages,
        season_ended=ending,
        duration_s=time.perf_counter() - started,
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


# ---------------------------------------------------------------------------------------------------
# Step 4: friends, in SQL

# The friends who lost points in steps 1-3 of this audit are in the temporary table ``audit_citizen``
# (``penalty`` < 0, the sum of their negative applied deltas), with everyone whose score changed in
# steps 1-3 (``score``, their score now). One window pass over the friendships, in the primary key's
# order (citizen, friend), gives for each (citizen, friend) pair the citizen's total ``S`` and the
# running sum up to this friend. With ``owed = max(cap, trunc(k * S))`` (rules.social), the pair's
# share is the difference of the cumulative shares ``trunc(owed * running / S)``: whole points that
# add up to ``owed`` exactly, each within one point of ``owed * penalty / S``. The cumulative share is
# also the running total of the citizen's social entries, so each entry's score before and after
# (clamped at the floor with CASE) needs no second pass. The friend is named by ``related_citizen_id``,
# not in the reason's words: a name copied into other citizens' ledgers would outlive the friend's
# ``/leave``, and the bot shows the friend's current name anyway. The rows are inserted in that same order, so
# the ledger's ids chain each citizen's entries as the running sums did. Social entries are not in
# ``audit_citizen``: they never propagate (one hop, no echo back).
_SOCIAL_SQL = """
WITH pair AS (
    SELECT f.citizen_id AS citizen_id, f.friend_id AS friend_id, p.penalty AS penalty,
           SUM(p.penalty) OVER everyone AS total,
           SUM(p.penalty) OVER so_far AS running
    FROM {join_order}
    WHERE p.penalty < 0 AND f.friend_id = p.citizen_id
    WINDOW everyone AS (PARTITION BY f.citizen_id ORDER BY f.friend_id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
           so_far AS (PARTITION BY f.citizen_id ORDER BY f.friend_id ROWS UNBOUNDED PRECEDING)
),
owed AS (
    SELECT citizen_id, friend_id, penalty, total, running,
           CASE WHEN (total * :num) / :den < :cap THEN :cap ELSE (total * :num) / :den END AS owed
    FROM pair
),
shares AS (
    SELECT owed.citizen_id, owed.friend_id, owed.penalty,
           COALESCE(mine.score, c.score) AS start,
           (owed.owed * (owed.running - owed.penalty)) / owed.total AS owed_before,
           (owed.owed * owed.running) / owed.total AS owed_after
    FROM owed
    JOIN citizen c ON c.id = owed.citizen_id
    LEFT JOIN audit_citizen mine ON mine.citizen_id = owed.citizen_id
    WHERE owed.owed < 0
),
clamped AS (
    SELECT citizen_id, friend_id, penalty,
           CASE WHEN start + owed_before < :low THEN :low ELSE start + owed_before END AS score_before,
           CASE WHEN start + owed_after < :low THEN :low ELSE start + owed_after END AS score_after
    FROM shares
    WHERE owed_after < owed_before
)
INSERT INTO ledger_entry (
    season_id, citizen_id, audit_number, dimension, delta, score_before, score_after, reason,
    source_kind, source_ref, rule_key, related_citizen_id, created_at
)
SELECT :season_id, citizen_id, :audit_number, :dimension, score_after - score_before, score_before,
       score_after, 'A friend was penalised ' || CAST(-penalty AS VARCHAR) || ' points in this audit',
       :source_kind, CAST(friend_id AS VARCHAR), :rule_key, friend_id, :now
FROM clamped
ORDER BY clamped.citizen_id, clamped.friend_id
RETURNING citizen_id, related_citizen_id, delta, score_after
"""

# Few penalised citizens: start from them and find their friends through ix_friendship_friend (then
# sort the few pairs). Many: read the friendships in primary-key order, already sorted for the window.
# A CROSS JOIN fixes SQLite's join order. PostgreSQL plans a CROSS JOIN as any inner join, and with a
# million friendships it hashes the whole table for 10,000 penalised citizens (1.4 s where 10,000
# index look-ups take milliseconds): a LATERAL subquery that it cannot flatten (OFFSET 0) makes it look
# the friends up instead.
_FEW_PENALISED = "audit_citizen p CROSS JOIN friendship f"
_FEW_PENALISED_POSTGRES = (
    "audit_citizen p CROSS JOIN LATERAL "
    "(SELECT citizen_id, friend_id FROM friendship WHERE friendship.friend_id = p.citizen_id OFFSET 0) f"
)
_MANY_PENALISED = "friendship f CROSS JOIN audit_citizen p"
_FEW_PENALISED_SHARE = 0.2


_SOCIAL_PARAM_TYPES = {
    "num": "INTEGER",
    "den": "INTEGER",
    "cap": "INTEGER",
    "low": "INTEGER",
    "season_id": "BIGINT",
    "audit_number": "INTEGER",
    "dimension": "VARCHAR",
    "source_kind": "VARCHAR",
    "rule_key": "VARCHAR",
    "now": "TIMESTAMP WITH TIME ZONE",
}
_NAMED_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@functools.lru_cache(maxsize=8)
def _social_driver_sql(*, many: bool, postgres: bool) -> tuple[str, tuple[str, ...]]:
    """Step 4's SQL for the driver: ``?`` placeholders (each typed with a CAST on PostgreSQL, where a
    parameter in a select list has no type to infer) and the parameters' names in their order."""
    join_order = _MANY_PENALISED if many else _FEW_PENALISED_POSTGRES if postgres else _FEW_PENALISED
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        names.append(name)
        return f"CAST(? AS {_SOCIAL_PARAM_TYPES[name]})" if postgres else "?"

    sql = _NAMED_PARAM.sub(placeholder, _SOCIAL_SQL.format(join_order=join_order))
    return sql, tuple(names)


async def create_work_table(connection: AsyncConnection) -> None:
    """The temporary ``audit_citizen(citizen_id, score, penalty)``: scores after steps 1-3, penalties."""
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE audit_citizen "
            "(citizen_id BIGINT PRIMARY KEY, score INTEGER NOT NULL, penalty INTEGER NOT NULL) ON COMMIT DROP"
        )
    else:
        await connection.exec_driver_sql("DROP TABLE IF EXISTS temp.audit_citizen")
        await connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE audit_citizen "
            "(citizen_id INTEGER PRIMARY KEY, score INTEGER NOT NULL, penalty INTEGER NOT NULL)"
        )


async def fill_work_table(connection: AsyncConnection, rows: Sequence[tuple[int, int, int]]) -> None:
    driver = _Driver(connection)
    await driver.insert_many("audit_citizen", ("citizen_id", "score", "penalty"), rows)
    if driver.postgres:
        # A temporary table has no statistics until analysed; without them the planner guesses badly.
        await connection.exec_driver_sql("ANALYZE audit_citizen")


async def drop_work_table(connection: AsyncConnection) -> None:
    if connection.dialect.name != "postgresql":  # PostgreSQL drops it at commit
        await connection.exec_driver_sql("DROP TABLE IF EXISTS temp.audit_citizen")


async def friends_penalties(
    connection: AsyncConnection,
    *,
    season_id: int,
    audit_number: int,
    now: datetime,
    factor_numerator: int,
    factor_denominator: int,
    cap: int,
    low: int,
    penalised: int,
    citizens: int,
) -> list[tuple[int, int, int, int]]:
    """Run step 4 over a filled ``audit_citizen``: ``(citizen, friend, delta, score_after)`` per entry.

    The 80,000-row ``RETURNING`` of a big audit is read straight from the driver (tuples/records, no
    SQLAlchemy result rows).
    """
    driver = _Driver(connection)
    sql, names = _social_driver_sql(
        many=penalised > _FEW_PENALISED_SHARE * max(citizens, 1), postgres=driver.postgres
    )
    values: dict[str, object] = {
        "num": factor_numerator,
        "den": factor_denominator,
        "cap": cap,
        "low": low,
        "season_id": season_id,
        "audit_number": audit_number,
        "dimension": Dimension.SOCIAL.value,
        "source_kind": SourceKind.FRIEND.value,
        "rule_key": FRIEND_RULE_KEY,
        "now": driver.time(now),
    }
    return await driver.fetch(sql, *(values[name] for name in names))


# ---------------------------------------------------------------------------------------------------
# One audit


class _AuditRun:
    """One audit's work inside the caller's transaction."""

    def __init__(
        self,
        *,
        connection: AsyncConnection,
        season_id: int,
        guild_id: int,
        number: int,
        now: datetime,
        compiled: _Compiled,
    ) -> None:
        self.connection = connection
        self.driver = _Driver(connection)
        self.season_id = season_id
        self.guild_id = guild_id
        self.number = number
        self.now = now
        self.compiled = compiled
        self.scenario = compiled.scenario
        self.ledger = _Ledger(
            season_id=season_id,
            audit_number=number,
            low=self.scenario.score.minimum,
            high=self.scenario.score.maximum,
            stamp=self.driver.time(now),
        )
        self.citizens: dict[int, _CitizenState] = {}
        self.social_rows: list[tuple[int, int, int, int]] = []
        self.messages_scored = 0
        self.purchases_applied = 0
        self.ledger_entries = 0
        self.social_entries = 0
        self.citizens_changed = 0
        self.tier_changes = 0
        self.outbox_messages = 0
        self.timings: dict[str, float] = {}
        # SQLite: statements queued on the driver's thread while Python works (see _Driver.start).
        self.background_ok = not self.driver.postgres
        self.pending_tasks: list[asyncio.Task[None]] = []
        self.ledger_queued = 0  # ledger rows already queued for insertion
        self.cpu: dict[str, float] = {}
        self._cpu_mark = time.process_time()

    def stats(self, duration: float) -> dict[str, Any]:
        return {
            "messages_scored": self.messages_scored,
            "purchases_applied": self.purchases_applied,
            "ledger_entries": self.ledger_entries,
            "social_entries": self.social_entries,
            "citizens_changed": self.citizens_changed,
            "tier_changes": self.tier_changes,
            "duration_s": round(duration, 4),
            "timings_s": {step: round(seconds, 4) for step, seconds in self.timings.items()},
            "cpu_s": {step: round(seconds, 4) for step, seconds in self.cpu.items()},
        }

    def _background(self, task: asyncio.Task[None]) -> None:
        self.pending_tasks.append(task)

    async def _drain(self, *, raising: bool = True) -> None:
        """Wait for the statements queued in the background; the first failure is raised (after all
        have finished, so nothing runs on the connection behind the caller's back)."""
        tasks, self.pending_tasks = self.pending_tasks, []
        if not tasks:
            return
        results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors and raising:
            raise errors[0]

    def _lap(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[step] = now - since
        cpu = time.process_time()
        # CPU time of the process (the driver's thread included): steadier than wall time on a busy host.
        self.cpu[step] = cpu - self._cpu_mark
        self._cpu_mark = cpu
        return now

    async def execute(self) -> None:
        try:
            await self._steps()
        finally:
            # Nothing may still run on the connection when the caller commits or rolls back.
            await self._drain(raising=False)

    async def _steps(self) -> None:
        mark = time.perf_counter()
        await self._load_citizens()
        mark = self._lap("load", mark)
        pending = await self._take_pending()
        permits = await self._permits() if pending else {}
        if self.background_ok:
            # SQLite: the DELETE of the pending rows runs on the driver's thread while they are scored.
            self._background(self.driver.start(_DELETE_PENDING, (self.season_id,)))
        mark = self._lap("take_messages", mark)
        await self._speech(pending, permits)
        await self._drain()
        mark = self._lap("speech", mark)
        await self._consumption()
        self._finance()
        mark = self._lap("consumption_finance", mark)
        await self.driver.insert_many("ledger_entry", LEDGER_COLUMNS, self.ledger.rows[self.ledger_queued :])
        self.ledger_entries = len(self.ledger.rows)
        mark = self._lap("ledger_write", mark)
        await self._social()
        mark = self._lap("social", mark)
        changes = await self._write_citizens()
        mark = self._lap("citizens_write", mark)
        await self._outbox(changes)
        mark = self._lap("outbox", mark)
        # SQLite: the statements queued in the background (citizens, score counts, outbox) finish.
        await self._drain()
        self._lap("writes_drain", mark)

    async def _load_citizens(self) -> None:
        driver = self.driver
        rows = await driver.fetch(
            "SELECT id, user_id, display_name, score, tier_key, balance, debt, last_reward_at, "
            "recent_digests FROM citizen WHERE season_id = ?",
            self.season_id,
        )
        read_time, read_list = driver.read_time, driver.read_json_list
        self.citizens = {
            row[0]: _CitizenState(
                citizen_id=row[0],
                user_id=row[1],
                display_name=row[2],
                score=row[3],
                tier_key=row[4],
                balance=row[5],
                debt=row[6],
                last_reward_at=read_time(row[7]),
                digests=read_list(row[8]),
            )
            for row in rows
        }

    async def _permits(self) -> dict[int, list[tuple[str, datetime | None, datetime | None]]]:
        rows = await self.connection.execute(
            sa.select(
                permit_t.c.citizen_id, permit_t.c.topic, permit_t.c.decided_at, permit_t.c.expires_at
            ).where(
                permit_t.c.season_id == self.season_id,
                permit_t.c.status.in_([RequestStatus.APPROVED.value, RequestStatus.EXPIRED.value]),
            )
        )
        permits: dict[int, list[tuple[str, datetime | None, datetime | None]]] = {}
        for row in rows:
            permits.setdefault(row.citizen_id, []).append((row.topic, row.decided_at, row.expires_at))
        return permits

    async def _speech(
        self, pending: list[Any], permits: Mapping[int, list[tuple[str, datetime | None, datetime | None]]]
    ) -> None:
        if not pending:
            return
        read_time = self.driver.read_time
        judge = self.compiled.matcher.judge_with_digest
        rewards = self.scenario.rewards
        add_speech = self.ledger.add_speech
        citizens = self.citizens
        # message_link's form, its constant part built once
        link_prefix = message_link(self.guild_id, 0, 0).removesuffix("0/0")
        no_permits: frozenset[str] = frozenset()
        scored = 0
        rows = self.ledger.rows
        chunk = _BACKGROUND_CHUNK if self.background_ok else len(pending) + 1
        for index, (_id, citizen_id, channel_id, message_id, content, stored_at) in enumerate(pending):
            if index % chunk == chunk - 1 and len(rows) > self.ledger_queued:
                # SQLite: the entries so far go to the database while the next messages are scored.
                self._background(self.driver.start(_INSERT_LEDGER, rows[self.ledger_queued :], many=True))
                self.ledger_queued = len(rows)
                await asyncio.sleep(0)  # let the task queue its statement
            citizen = citizens.get(citizen_id)
            if citizen is None:  # cannot happen: pending rows are deleted with their citizen
                continue
            scored += 1
            # The message's time is parsed only when a rule needs it (a permit, a reward).
            created_at: datetime | None = None
            held = permits.get(citizen_id)
            if held:
                created_at = read_time(stored_at)
                assert created_at is not None
                active = frozenset(
                    topic
                    for topic, since, until in held
                    if (since is None or since <= created_at) and (until is None or created_at < until)
                )
            else:
                active = no_permits
            findings, digest = judge(content, permits=active)
            if findings and findings[-1].delta > 0:
                # Only a reward is ever gated, and a message has at most one, last.
                created_at = created_at or read_time(stored_at)
                assert created_at is not None
                gate = reward_gate(
                    digest=digest,
                    recent_digests=citizen.digests,
                    last_reward_at=citizen.last_reward_at,
                    now=created_at,
                    rules=rewards,
                )
                if gate is RewardGate.ALLOWED:
                    citizen.last_reward_at = created_at
                else:
                    findings = findings[:-1]
            # The whole audit's digests are kept in order (the gate reads only the last window of
            # them); _write_citizens trims them to the window with the rule's own function.
            citizen.digests.append(digest)
            citizen.digests_changed = True
            if findings:
                add_speech(citizen, findings, f"{link_prefix}{channel_id}/{message_id}")
        self.messages_scored = scored

    async def _take_pending(self) -> list[tuple[Any, ...]]:
        """The season's pending messages, in the order they were said, deleted in the same breath.

        PostgreSQL: one ``DELETE ... RETURNING``, so a message recorded meanwhile by another connection
        is neither scored nor lost. SQLite: ``SELECT`` here, and :meth:`execute` queues the ``DELETE``
        to run while the messages are scored (cheaper than ``RETURNING`` there), equally exact because
        this transaction holds the write lock (``BEGIN IMMEDIATE``).
        Message text is gone from the database once the audit commits.
        """
        columns = "id, citizen_id, channel_id, message_id, content, created_at"
        if self.driver.postgres:
            rows = await self.driver.fetch(
                f"DELETE FROM pending_message WHERE season_id = ? RETURNING {columns}", self.season_id
            )
        else:
            rows = await self.driver.fetch(
                f"SELECT {columns} FROM pending_message WHERE season_id = ?", self.season_id
            )
        # SQLite's timestamps are fixed-width text, which sorts as the times do.
        rows.sort(key=itemgetter(5, 0))
        return rows

    async def _consumption(self) -> None:
        purchases = await self.driver.fetch(
            "UPDATE purchase SET audit_number = ? WHERE season_id = ? AND audit_number IS NULL "
            "RETURNING id, citizen_id, item_key, item_name, quantity, effect, dimension",
            self.number,
            self.season_id,
        )
        purchases.sort(key=itemgetter(0))
        reasons = self.compiled.item_reasons
        for purchase_id, citizen_id, item_key, item_name, quantity, effect, dimension in purchases:
            citizen = self.citizens.get(citizen_id)
            if citizen is None:
                continue
            self.purchases_applied += 1
            if effect == 0:
                continue
            what = item_name if quantity == 1 else f"{quantity} × {item_name}"
            reason = reasons.get(item_key)
            self.ledger.add(
                citizen,
                dimension=Dimension(dimension),
                delta=effect,
                reason=f"Bought {what}: {reason}" if reason else f"Bought {what}",
                source_kind=SourceKind.PURCHASE,
                source_ref=str(purchase_id),
                rule_key=item_key,
            )

    def _finance(self) -> None:
        economy = self.scenario.economy
        stipend, cost = economy.stipend, economy.cost_of_living
        penalty = economy.unpaid_penalty
        reason = f"Could not pay the cost of living ({cost} credits): debt recorded"
        add = self.ledger.add
        for citizen in self.citizens.values():
            citizen.balance, citizen.debt, unpaid = settle_finances(
                balance=citizen.balance, debt=citizen.debt, stipend=stipend, cost_of_living=cost
            )
            if unpaid:
                add(
                    citizen,
                    dimension=Dimension.FINANCE,
                    delta=penalty,
                    reason=reason,
                    source_kind=SourceKind.FINANCE,
                    source_ref=None,
                    rule_key=UNPAID_RULE_KEY,
                )

    async def _social(self) -> None:
        friends = self.scenario.friends
        work = [
            (c.id, c.score, c.penalty)
            for c in self.citizens.values()
            if c.penalty < 0 or c.score != c.start_score
        ]
        penalised = sum(1 for row in work if row[2] < 0)
        if penalised == 0 or friends.factor_numerator == 0:
            return
        await create_work_table(self.connection)
        await fill_work_table(self.connection, work)
        self.social_rows = await friends_penalties(
            self.connection,
            season_id=self.season_id,
            audit_number=self.number,
            now=self.now,
            factor_numerator=friends.factor_numerator,
            factor_denominator=friends.factor_denominator,
            cap=friends.cap_per_audit,
            low=self.scenario.score.minimum,
            penalised=penalised,
            citizens=len(self.citizens),
        )
        await drop_work_table(self.connection)
        self.social_entries = len(self.social_rows)
        self.ledger_entries += self.social_entries
        # Social deltas are all <= 0, so the lowest score_after is each citizen's final score.
        citizens = self.citizens
        for citizen_id, _friend_id, _delta, score_after in self.social_rows:
            citizen = citizens[citizen_id]
            if score_after < citizen.score:
                citizen.score = score_after

    async def _write_citizens(self) -> list[tuple[_CitizenState, str]]:
        tier_by_score = self.compiled.tier_by_score
        low = self.scenario.score.minimum
        driver = self.driver
        with_speech: list[tuple[Any, ...]] = []
        others: list[tuple[Any, ...]] = []
        tier_changes: list[tuple[_CitizenState, str]] = []
        counts: Counter[int] = Counter()
        rewards = self.scenario.rewards
        for citizen in self.citizens.values():
            if citizen.digests_changed:
                digests = citizen.digests
                citizen.digests = recent_digests_after(digests[:-1], digests[-1], rewards) if digests else []
            tier = tier_by_score[citizen.score - low]
            if tier != citizen.start_tier:
                tier_changes.append((citizen, tier))
            if citizen.score != citizen.start_score:
                counts[citizen.start_score] -= 1
                counts[citizen.score] += 1
                self.citizens_changed += 1
            if citizen.digests_changed:
                with_speech.append(
                    (
                        citizen.score,
                        tier,
                        citizen.balance,
                        citizen.debt,
                        driver.time(citizen.last_reward_at),
                        json.dumps(citizen.digests),
                        citizen.id,
                    )
                )
            else:
                others.append((citizen.score, tier, citizen.balance, citizen.debt, citizen.id))
        self.tier_changes = len(tier_changes)
        deltas = [(self.season_id, score, change) for score, change in sorted(counts.items()) if change]
        for statement, rows in (
            (_UPDATE_CITIZEN, others),
            (_UPDATE_CITIZEN_SPEECH, with_speech),
            (_UPSERT_SCORE_COUNT, deltas),
        ):
            if not rows:
                continue
            if self.background_ok:
                self._background(driver.start(statement, rows, many=True))
            else:
                await driver.execute_many(statement, rows)
        return tier_changes

    def _person(self, citizen: _CitizenState) -> dict[str, Any]:
        return {"citizen_id": citizen.id, "user_id": citizen.user_id, "display_name": citizen.display_name}

    async def _write_outbox(self, messages: Sequence[tuple[OutboxKind, Mapping[str, Any]]]) -> None:
        stamp = self.driver.time(self.now)
        rows = [
            (self.guild_id, self.season_id, kind.value, json.dumps(payload), stamp, 0)
            for kind, payload in messages
        ]
        columns = ("guild_id", "season_id", "kind", "payload", "created_at", "attempts")
        if self.background_ok and rows:
            marks = ", ".join("?" * len(columns))
            statement = f"INSERT INTO outbox ({', '.join(columns)}) VALUES ({marks})"
            self._background(self.driver.start(statement, rows, many=True))
        else:
            await self.driver.insert_many("outbox", columns, rows)
        self.outbox_messages += len(rows)

    async def _outbox(self, tier_changes: list[tuple[_CitizenState, str]]) -> None:
        ranks = self.compiled.tier_rank
        messages: list[tuple[OutboxKind, Mapping[str, Any]]] = [
            (
                OutboxKind.ROLE_SYNC,
                {
                    **self._person(citizen),
                    "audit_number": self.number,
                    "old_tier": citizen.start_tier,
                    "new_tier": tier,
                },
            )
            for citizen, tier in tier_changes
        ]
        changed = [c for c in self.citizens.values() if c.score != c.start_score]
        gains = sorted(
            (c for c in changed if c.score > c.start_score), key=lambda c: (c.start_score - c.score, c.id)
        )
        losses = sorted(
            (c for c in changed if c.score < c.start_score), key=lambda c: (c.score - c.start_score, c.id)
        )

        def movement(citizen: _CitizenState) -> dict[str, Any]:
            return {
                **self._person(citizen),
                "delta": citizen.score - citizen.start_score,
                "score": citizen.score,
            }

        def tier_change(citizen: _CitizenState, tier: str) -> dict[str, Any]:
            return {
                **self._person(citizen),
                "old_tier": citizen.start_tier,
                "new_tier": tier,
                "score": citizen.score,
            }

        # The biggest few of up to ~100,000 entries: a heap, not a sort (same result as sorted()[:n]).
        cascades = [row for row in self.social_rows if row[2] < 0]
        top_cascades = heapq.nsmallest(BULLETIN_TOP, cascades, key=itemgetter(2, 0, 1))
        promotions = [(c, tier) for c, tier in tier_changes if ranks[tier] > ranks.get(c.start_tier, -1)]
        demotions = [(c, tier) for c, tier in tier_changes if ranks[tier] <= ranks.get(c.start_tier, -1)]
        bulletin = {
            "audit_number": self.number,
            "messages_scored": self.messages_scored,
            "purchases_applied": self.purchases_applied,
            "ledger_entries": self.ledger_entries,
            "citizens_changed": self.citizens_changed,
            "top_gains": [movement(c) for c in gains[:BULLETIN_TOP]],
            "top_losses": [movement(c) for c in losses[:BULLETIN_TOP]],
            "friend_cascades": [
                {
                    **self._person(self.citizens[citizen_id]),
                    "delta": delta,
                    "friend": self._person(self.citizens[friend_id]),
                }
                for citizen_id, friend_id, delta, _after in top_cascades
                if friend_id in self.citizens
            ],
            "friend_cascades_total": len(cascades),
            "promotions": [tier_change(c, tier) for c, tier in promotions[:BULLETIN_LIST_LIMIT]],
            "promotions_total": len(promotions),
            "demotions": [tier_change(c, tier) for c, tier in demotions[:BULLETIN_LIST_LIMIT]],
            "demotions_total": len(demotions),
        }
        messages.append((OutboxKind.BULLETIN, bulletin))
        await self._write_outbox(messages)

    async def write_season_end(self, *, season_number: int) -> None:
        def standings(order: Sequence[_CitizenState]) -> list[dict[str, Any]]:
            return [{**self._person(c), "score": c.score} for c in order[:STANDINGS_TOP]]

        everyone = list(self.citizens.values())
        top = sorted(everyone, key=lambda c: (-c.score, c.id))
        bottom = sorted(everyone, key=lambda c: (c.score, c.id))
        tiers = Counter(self.compiled.tier_by_score[c.score - self.scenario.score.minimum] for c in everyone)
        payload = {
            "season_id": self.season_id,
            "season_number": season_number,
            "audits": self.number,
            "citizens": len(everyone),
            "average_score": round(sum(c.score for c in everyone) / len(everyone), 1) if everyone else None,
            "top": standings(top),
            "bottom": standings(bottom),
            "tiers": {tier.key: tiers.get(tier.key, 0) for tier in self.scenario.tiers},
            "ended_at": self.now.astimezone(UTC).isoformat(),
        }
        await self._write_outbox([(OutboxKind.SEASON_END, payload)])
        await self._drain()
