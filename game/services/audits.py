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
"""

from __future__ import annotations

import functools
import json
import logging
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
    UTCDateTime,
)
from game.rules.speech import (
    RewardGate,
    SpeechMatcher,
    message_digest,
    recent_digests_after,
    reward_gate,
)
from game.scenario import Scenario, restore_scenario
from game.services.outbox import add_message

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
_REASON_MAX = 300


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

    def __init__(self, row: Any) -> None:
        self.id: int = row.id
        self.user_id: int = row.user_id
        self.display_name: str = row.display_name
        self.start_score: int = row.score
        self.score: int = row.score
        self.start_tier: str = row.tier_key
        self.balance: int = row.balance
        self.debt: int = row.debt
        self.last_reward_at: datetime | None = row.last_reward_at
        self.digests: list[str] = list(row.recent_digests or [])
        self.digests_changed = False
        # The sum of the negative deltas applied in steps 1-3: what this citizen's friends pay for.
        self.penalty = 0


class _Ledger:
    """Builds ledger rows, clamping each delta as it is applied (the invariant lives here)."""

    __slots__ = ("audit_number", "high", "low", "now", "rows", "season_id")

    def __init__(self, *, season_id: int, audit_number: int, low: int, high: int, now: datetime) -> None:
        self.season_id = season_id
        self.audit_number = audit_number
        self.low = low
        self.high = high
        self.now = now
        self.rows: list[dict[str, Any]] = []

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
            {
                "season_id": self.season_id,
                "citizen_id": citizen.id,
                "audit_number": self.audit_number,
                "dimension": dimension.value,
                "delta": applied,
                "score_before": before,
                "score_after": after,
                "reason": reason[:_REASON_MAX],
                "source_kind": source_kind.value,
                "source_ref": source_ref,
                "rule_key": rule_key,
                "related_citizen_id": None,
                "reverses_entry_id": None,
                "created_at": self.now,
            }
        )
        return applied


# ---------------------------------------------------------------------------------------------------
# Public entry points


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
            season_values["next_audit_at"] = now + timedelta(seconds=season.audit_every_s)
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
# The steps


_SOCIAL_SQL = """
WITH pair AS (
    SELECT f.citizen_id AS citizen_id, f.friend_id AS friend_id, p.penalty AS penalty
    FROM audit_citizen p CROSS JOIN friendship f
    WHERE p.penalty < 0 AND f.friend_id = p.citizen_id
),
owed AS (
    SELECT citizen_id, total,
           CASE WHEN (total * :num) / :den < :cap THEN :cap ELSE (total * :num) / :den END AS amount
    FROM (SELECT citizen_id, SUM(penalty) AS total FROM pair GROUP BY citizen_id) sums
),
share AS (
    SELECT pair.citizen_id, pair.friend_id, pair.penalty, owed.amount AS owed,
           (owed.amount * pair.penalty) / owed.total AS base,
           ROW_NUMBER() OVER (PARTITION BY pair.citizen_id ORDER BY pair.penalty, pair.friend_id) AS rn
    FROM pair JOIN owed ON owed.citizen_id = pair.citizen_id
    WHERE owed.amount < 0
),
portion AS (
    SELECT citizen_id, friend_id, penalty, rn,
           base - CASE WHEN rn <= short THEN 1 ELSE 0 END AS amount
    FROM (SELECT share.*, SUM(base) OVER (PARTITION BY citizen_id) - owed AS short FROM share) shares
),
running AS (
    SELECT portion.citizen_id, portion.friend_id, portion.penalty, portion.amount,
           COALESCE(ac.score, c.score) AS start,
           SUM(portion.amount) OVER (
               PARTITION BY portion.citizen_id ORDER BY portion.rn ROWS UNBOUNDED PRECEDING
           ) AS cum
    FROM portion
    JOIN citizen c ON c.id = portion.citizen_id
    LEFT JOIN audit_citizen ac ON ac.citizen_id = portion.citizen_id
    WHERE portion.amount < 0
),
clamped AS (
    SELECT citizen_id, friend_id, penalty,
           CASE WHEN start + cum - amount < :low THEN :low ELSE start + cum - amount END AS before,
           CASE WHEN start + cum < :low THEN :low ELSE start + cum END AS after
    FROM running
)
INSERT INTO ledger_entry (
    season_id, citizen_id, audit_number, dimension, delta, score_before, score_after, reason,
    source_kind, source_ref, rule_key, related_citizen_id, created_at
)
SELECT :season_id, clamped.citizen_id, :audit_number, :dimension, clamped.after - clamped.before,
       clamped.before, clamped.after,
       'Your friend ' || fc.display_name || ' was penalised ' || CAST(-clamped.penalty AS VARCHAR)
           || ' this audit',
       :source_kind, CAST(clamped.friend_id AS VARCHAR), :rule_key, clamped.friend_id, :now
FROM clamped JOIN citizen fc ON fc.id = clamped.friend_id
RETURNING citizen_id, related_citizen_id, delta, score_after
"""


def social_statement() -> sa.TextClause:
    """Step 4 as one statement, over the temporary table ``audit_citizen(citizen_id, score, penalty)``."""
    return sa.text(_SOCIAL_SQL).bindparams(
        sa.bindparam("num", type_=sa.Integer),
        sa.bindparam("den", type_=sa.Integer),
        sa.bindparam("cap", type_=sa.Integer),
        sa.bindparam("low", type_=sa.Integer),
        sa.bindparam("season_id", type_=sa.BigInteger),
        sa.bindparam("audit_number", type_=sa.Integer),
        sa.bindparam("dimension", type_=sa.String),
        sa.bindparam("source_kind", type_=sa.String),
        sa.bindparam("rule_key", type_=sa.String),
        sa.bindparam("now", type_=UTCDateTime()),
    )


async def create_work_table(connection: AsyncConnection) -> None:
    """The temporary ``audit_citizen`` table: scores after steps 1-3 and penalties, for step 4."""
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


async def drop_work_table(connection: AsyncConnection) -> None:
    if connection.dialect.name != "postgresql":  # PostgreSQL drops it at commit
        await connection.exec_driver_sql("DROP TABLE IF EXISTS temp.audit_citizen")


async def fill_work_table(connection: AsyncConnection, rows: Sequence[Mapping[str, int]]) -> None:
    if rows:
        await connection.execute(
            sa.text(
                "INSERT INTO audit_citizen (citizen_id, score, penalty) "
                "VALUES (:citizen_id, :score, :penalty)"
            ),
            list(rows),
        )
    if connection.dialect.name == "postgresql":
        # A temporary table has no statistics until analysed; without them the planner guesses badly.
        await connection.exec_driver_sql("ANALYZE audit_citizen")


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
            now=now,
        )
        self.citizens: dict[int, _CitizenState] = {}
        self.social_rows: list[Any] = []
        self.messages_scored = 0
        self.purchases_applied = 0
        self.ledger_entries = 0
        self.social_entries = 0
        self.citizens_changed = 0
        self.tier_changes = 0
        self.outbox_messages = 0
        self.timings: dict[str, float] = {}

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
        }

    def _lap(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[step] = now - since
        return now

    async def execute(self) -> None:
        mark = time.perf_counter()
        await self._load_citizens()
        mark = self._lap("load", mark)
        await self._speech()
        mark = self._lap("speech", mark)
        await self._consumption()
        self._finance()
        mark = self._lap("consumption_finance", mark)
        if self.ledger.rows:
            await self.connection.execute(sa.insert(ledger_t), self.ledger.rows)
        self.ledger_entries = len(self.ledger.rows)
        mark = self._lap("ledger_write", mark)
        await self._social()
        mark = self._lap("social", mark)
        changes = await self._write_citizens()
        mark = self._lap("citizens_write", mark)
        await self._outbox(changes)
        self._lap("outbox", mark)

    async def _load_citizens(self) -> None:
        rows = await self.connection.execute(
            sa.select(
                citizen_t.c.id,
                citizen_t.c.user_id,
                citizen_t.c.display_name,
                citizen_t.c.score,
                citizen_t.c.tier_key,
                citizen_t.c.balance,
                citizen_t.c.debt,
                citizen_t.c.last_reward_at,
                citizen_t.c.recent_digests,
            ).where(citizen_t.c.season_id == self.season_id)
        )
        self.citizens = {row.id: _CitizenState(row) for row in rows}

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

    async def _speech(self) -> None:
        pending = list(
            await self.connection.execute(
                sa.delete(pending_t)
                .where(pending_t.c.season_id == self.season_id)
                .returning(
                    pending_t.c.id,
                    pending_t.c.citizen_id,
                    pending_t.c.channel_id,
                    pending_t.c.message_id,
                    pending_t.c.content,
                    pending_t.c.created_at,
                )
            )
        )
        if not pending:
            return
        # In the order they were said: the reward gate depends on it.
        pending.sort(key=itemgetter(5, 0))
        permits = await self._permits()
        scenario = self.scenario
        judge = self.compiled.matcher.judge_message
        rewards = scenario.rewards
        add = self.ledger.add
        citizens = self.citizens
        guild = self.guild_id
        no_permits: frozenset[str] = frozenset()
        scored = 0
        for _id, citizen_id, channel_id, message_id, content, created_at in pending:
            citizen = citizens.get(citizen_id)
            if citizen is None:  # left the season in this very transaction's snapshot: nothing to score
                continue
            scored += 1
            held = permits.get(citizen_id)
            active = (
                frozenset(
                    topic
                    for topic, since, until in held
                    if (since is None or since <= created_at) and (until is None or created_at < until)
                )
                if held
                else no_permits
            )
            findings = judge(content, permits=active)
            digest = message_digest(content)
            if findings and findings[-1].delta > 0:
                # Only a reward is ever gated, and a message has at most one, last.
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
            citizen.digests = recent_digests_after(citizen.digests, digest, rewards)
            citizen.digests_changed = True
            if findings:
                link = message_link(guild, channel_id, message_id)
                for finding in findings:
                    add(
                        citizen,
                        dimension=Dimension.SPEECH,
                        delta=finding.delta,
                        reason=finding.reason,
                        source_kind=SourceKind.MESSAGE,
                        source_ref=link,
                        rule_key=finding.rule_key,
                    )
        self.messages_scored = scored

    async def _consumption(self) -> None:
        purchases = list(
            await self.connection.execute(
                sa.update(purchase_t)
                .where(purchase_t.c.season_id == self.season_id, purchase_t.c.audit_number.is_(None))
                .values(audit_number=self.number)
                .returning(
                    purchase_t.c.id,
                    purchase_t.c.citizen_id,
                    purchase_t.c.item_key,
                    purchase_t.c.item_name,
                    purchase_t.c.quantity,
                    purchase_t.c.effect,
                    purchase_t.c.dimension,
                )
            )
        )
        purchases.sort(key=itemgetter(0))
        reasons = self.compiled.item_reasons
        for purchase in purchases:
            citizen = self.citizens.get(purchase.citizen_id)
            if citizen is None:
                continue
            self.purchases_applied += 1
            if purchase.effect == 0:
                continue
            what = (
                purchase.item_name
                if purchase.quantity == 1
                else f"{purchase.quantity} × {purchase.item_name}"
            )
            reason = reasons.get(purchase.item_key)
            self.ledger.add(
                citizen,
                dimension=Dimension(purchase.dimension),
                delta=purchase.effect,
                reason=f"Bought {what}: {reason}" if reason else f"Bought {what}",
                source_kind=SourceKind.PURCHASE,
                source_ref=str(purchase.id),
                rule_key=purchase.item_key,
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
            {"citizen_id": c.id, "score": c.score, "penalty": c.penalty}
            for c in self.citizens.values()
            if c.penalty < 0 or c.score != c.start_score
        ]
        if not any(row["penalty"] < 0 for row in work) or friends.factor_numerator == 0:
            return
        await create_work_table(self.connection)
        await fill_work_table(self.connection, work)
        rows = (
            await self.connection.execute(
                social_statement(),
                {
                    "num": friends.factor_numerator,
                    "den": friends.factor_denominator,
                    "cap": friends.cap_per_audit,
                    "low": self.scenario.score.minimum,
                    "season_id": self.season_id,
                    "audit_number": self.number,
                    "dimension": Dimension.SOCIAL.value,
                    "source_kind": SourceKind.FRIEND.value,
                    "rule_key": FRIEND_RULE_KEY,
                    "now": self.now,
                },
            )
        ).all()
        await drop_work_table(self.connection)
        self.social_rows = list(rows)
        self.social_entries = len(rows)
        self.ledger_entries += len(rows)
        # Social deltas are all <= 0, so the lowest score_after is each citizen's final score.
        for citizen_id, _friend_id, _delta, score_after in rows:
            citizen = self.citizens[citizen_id]
            if score_after < citizen.score:
                citizen.score = score_after

    async def _write_citizens(self) -> list[tuple[_CitizenState, str]]:
        tier_by_score = self.compiled.tier_by_score
        low = self.scenario.score.minimum
        full: list[dict[str, Any]] = []
        money: list[dict[str, Any]] = []
        tier_changes: list[tuple[_CitizenState, str]] = []
        counts: Counter[int] = Counter()
        for citizen in self.citizens.values():
            tier = tier_by_score[citizen.score - low]
            if tier != citizen.start_tier:
                tier_changes.append((citizen, tier))
            if citizen.score != citizen.start_score:
                counts[citizen.start_score] -= 1
                counts[citizen.score] += 1
                self.citizens_changed += 1
            values = {
                "b_id": citizen.id,
                "b_score": citizen.score,
                "b_tier": tier,
                "b_balance": citizen.balance,
                "b_debt": citizen.debt,
            }
            if citizen.digests_changed:
                values["b_last_reward_at"] = citizen.last_reward_at
                values["b_digests"] = citizen.digests
                full.append(values)
            else:
                money.append(values)
        self.tier_changes = len(tier_changes)
        base = sa.update(citizen_t).where(citizen_t.c.id == sa.bindparam("b_id"))
        money_values: dict[str, Any] = {
            "score": sa.bindparam("b_score"),
            "tier_key": sa.bindparam("b_tier"),
            "balance": sa.bindparam("b_balance"),
            "debt": sa.bindparam("b_debt"),
        }
        if money:
            await self.connection.execute(base.values(**money_values), money)
        if full:
            await self.connection.execute(
                base.values(
                    **money_values,
                    last_reward_at=sa.bindparam("b_last_reward_at"),
                    recent_digests=sa.bindparam("b_digests"),
                ),
                full,
            )
        deltas = [
            {"season_id": self.season_id, "score": score, "citizens": change}
            for score, change in sorted(counts.items())
            if change
        ]
        if deltas:
            upsert = _dialect_insert(self.connection, score_count_t)
            await self.connection.execute(
                upsert.on_conflict_do_update(
                    index_elements=[score_count_t.c.season_id, score_count_t.c.score],
                    set_={"citizens": score_count_t.c.citizens + upsert.excluded.citizens},
                ),
                deltas,
            )
        return tier_changes

    def _person(self, citizen: _CitizenState) -> dict[str, Any]:
        return {"citizen_id": citizen.id, "user_id": citizen.user_id, "display_name": citizen.display_name}

    async def _outbox(self, tier_changes: list[tuple[_CitizenState, str]]) -> None:
        rows: list[dict[str, Any]] = []
        ranks = self.compiled.tier_rank
        for citizen, tier in tier_changes:
            rows.append(
                add_message(
                    guild_id=self.guild_id,
                    season_id=self.season_id,
                    kind=OutboxKind.ROLE_SYNC,
                    payload={
                        **self._person(citizen),
                        "audit_number": self.number,
                        "old_tier": citizen.start_tier,
                        "new_tier": tier,
                    },
                    now=self.now,
                )
            )
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

        cascades = sorted(
            (row for row in self.social_rows if row[2] < 0), key=lambda row: (row[2], row[0], row[1])
        )
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
                for citizen_id, friend_id, delta, _after in cascades[:BULLETIN_TOP]
                if friend_id in self.citizens
            ],
            "friend_cascades_total": len(cascades),
            "promotions": [
                {**self._person(c), "old_tier": c.start_tier, "new_tier": tier, "score": c.score}
                for c, tier in promotions[:BULLETIN_LIST_LIMIT]
            ],
            "promotions_total": len(promotions),
            "demotions": [
                {**self._person(c), "old_tier": c.start_tier, "new_tier": tier, "score": c.score}
                for c, tier in demotions[:BULLETIN_LIST_LIMIT]
            ],
            "demotions_total": len(demotions),
        }
        rows.append(
            add_message(
                guild_id=self.guild_id,
                season_id=self.season_id,
                kind=OutboxKind.BULLETIN,
                payload=bulletin,
                now=self.now,
            )
        )
        await self.connection.execute(sa.insert(outbox_t), rows)
        self.outbox_messages = len(rows)

    async def write_season_end(self, *, season_number: int) -> None:
        def standings(order: Sequence[Any]) -> list[dict[str, Any]]:
            return [
                {
                    "citizen_id": citizen.id,
                    "user_id": citizen.user_id,
                    "display_name": citizen.display_name,
                    "score": citizen.score,
                }
                for citizen in order[:STANDINGS_TOP]
            ]

        everyone = list(self.citizens.values())
        top = sorted(everyone, key=lambda c: (-c.score, c.id))
        bottom = sorted(everyone, key=lambda c: (c.score, c.id))
        tiers = Counter(self.compiled.tier_by_score[c.score - self.scenario.score.minimum] for c in everyone)
        payload = {
            "season_number": season_number,
            "audits": self.number,
            "citizens": len(everyone),
            "average_score": round(sum(c.score for c in everyone) / len(everyone), 1) if everyone else None,
            "top": standings(top),
            "bottom": standings(bottom),
            "tiers": {tier.key: tiers.get(tier.key, 0) for tier in self.scenario.tiers},
            "ended_at": self.now.astimezone(UTC).isoformat(),
        }
        await self.connection.execute(
            sa.insert(outbox_t),
            [
                add_message(
                    guild_id=self.guild_id,
                    season_id=self.season_id,
                    kind=OutboxKind.SEASON_END,
                    payload=payload,
                    now=self.now,
                )
            ],
        )
        self.outbox_messages += 1
