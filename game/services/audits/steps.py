"""Steps 1 to 5 of one audit, inside the caller's transaction: speech, consumption, finance, the
friends' penalties (in SQL, :mod:`.social`) and the new scores.

1. **Speech.** The season's pending messages are taken and deleted in one breath (their text is gone
   once the audit commits); each is judged by the season's compiled matcher with the citizen's permits
   active at the message's time; rewards are gated (one per ``rewards.min_interval``, no repeat of the
   digests kept on the citizen row); penalties never are.
2. **Consumption.** ``UPDATE purchase SET audit_number = ? WHERE audit_number IS NULL RETURNING ...``
   stamps and fetches the purchases since the last audit; one entry per purchase with an effect.
3. **Finance.** :func:`game.rules.economy.settle_finances` for every citizen.
4. **Social.** :func:`.social.friends_penalties`.
5. **Scores.** New scores, tiers, balances and reward state in one executemany ``UPDATE``;
   ``score_count`` adjusted with one upsert.

On SQLite, statements whose results the audit does not read (the pending rows' ``DELETE``, batches of
speech entries, the citizens' updates, the outbox) are queued on the driver's thread
(:meth:`.driver.Driver.start`) and run while Python scores; all are awaited before the next statement
whose result matters and before the commit or rollback.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from game.models import Permit, RequestStatus
from game.rules.economy import settle_finances
from game.rules.speech import RewardGate, recent_digests_after, reward_gate
from game.services.audits.books import LEDGER_COLUMNS, CitizenState, CompiledRules, LedgerRows
from game.services.audits.driver import Driver
from game.services.audits.social import create_work_table, drop_work_table, fill_work_table, friends_penalties
from game.vocabulary import Dimension, SourceKind, message_ref

__all__ = ["UNPAID_RULE_KEY", "AuditRun"]

UNPAID_RULE_KEY = "unpaid-cost-of-living"
permit_t: sa.Table = Permit.__table__  # type: ignore[attr-defined]

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

Permits = Mapping[int, list[tuple[str, datetime | None, datetime | None]]]


class AuditRun:
    """One audit's work inside the caller's transaction; :mod:`.announcements` reads what it leaves."""

    def __init__(
        self,
        *,
        connection: AsyncConnection,
        season_id: int,
        guild_id: int,
        number: int,
        now: datetime,
        compiled: CompiledRules,
    ) -> None:
        self.connection = connection
        self.driver = Driver(connection)
        self.season_id = season_id
        self.guild_id = guild_id
        self.number = number
        self.now = now
        self.compiled = compiled
        self.scenario = compiled.scenario
        self.ledger = LedgerRows(
            season_id=season_id,
            audit_number=number,
            low=self.scenario.score.minimum,
            high=self.scenario.score.maximum,
            stamp=self.driver.time(now),
        )
        self.citizens: dict[int, CitizenState] = {}
        # (citizen, friend, delta, score_after) of every friends' penalty entry, in ledger order.
        self.social_rows: list[tuple[int, int, int, int]] = []
        self.tier_changes: list[tuple[CitizenState, str]] = []
        self.messages_scored = 0
        self.purchases_applied = 0
        self.ledger_entries = 0
        self.social_entries = 0
        self.citizens_changed = 0
        self.outbox_messages = 0
        self.timings: dict[str, float] = {}
        # SQLite: statements queued on the driver's thread while Python works.
        self.background_ok = not self.driver.postgres
        self.pending_tasks: list[asyncio.Task[None]] = []
        self.ledger_queued = 0  # ledger rows already queued for insertion
        self.cpu: dict[str, float] = {}
        self._cpu_mark = time.process_time()
        # Runs once the scores are final, before they are written: the decrees due at this audit
        # (an amnesty moves scores); returns how many ledger entries it wrote.
        self.before_write: Callable[[dict[int, CitizenState], Driver], Awaitable[int]] | None = None
        # Added to the friends' penalties' reason when a decree set the factor.
        self.friends_note = ""

    def stats(self, duration: float) -> dict[str, Any]:
        return {
            "messages_scored": self.messages_scored,
            "purchases_applied": self.purchases_applied,
            "ledger_entries": self.ledger_entries,
            "social_entries": self.social_entries,
            "citizens_changed": self.citizens_changed,
            "tier_changes": len(self.tier_changes),
            "duration_s": round(duration, 4),
            "timings_s": {step: round(seconds, 4) for step, seconds in self.timings.items()},
            "cpu_s": {step: round(seconds, 4) for step, seconds in self.cpu.items()},
        }

    # -- the driver's background queue (SQLite) ------------------------------------------------------

    def background(self, task: asyncio.Task[None]) -> None:
        self.pending_tasks.append(task)

    async def drain(self, *, raising: bool = True) -> None:
        """Wait for the statements queued in the background; the first failure is raised (after all
        have finished, so nothing runs on the connection behind the caller's back)."""
        tasks, self.pending_tasks = self.pending_tasks, []
        if not tasks:
            return
        results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors and raising:
            raise errors[0]

    def lap(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[step] = now - since
        cpu = time.process_time()
        # CPU time of the process (the driver's thread included): steadier than wall time on a busy host.
        self.cpu[step] = cpu - self._cpu_mark
        self._cpu_mark = cpu
        return now

    async def score(self) -> None:
        """Steps 1 to 5. Nothing runs on the connection behind the caller's back when it returns."""
        try:
            await self._steps()
        finally:
            await self.drain(raising=False)

    async def _steps(self) -> None:
        mark = time.perf_counter()
        await self._load_citizens()
        mark = self.lap("load", mark)
        pending = await self._take_pending()
        permits = await self._permits() if pending else {}
        if self.background_ok:
            # SQLite: the DELETE of the pending rows runs on the driver's thread while they are scored.
            self.background(self.driver.start(_DELETE_PENDING, (self.season_id,)))
        mark = self.lap("take_messages", mark)
        await self._speech(pending, permits)
        await self.drain()
        mark = self.lap("speech", mark)
        await self._consumption()
        self._finance()
        mark = self.lap("consumption_finance", mark)
        await self.driver.insert_many("ledger_entry", LEDGER_COLUMNS, self.ledger.rows[self.ledger_queued :])
        self.ledger_entries = len(self.ledger.rows)
        mark = self.lap("ledger_write", mark)
        await self._social()
        mark = self.lap("social", mark)
        if self.before_write is not None:
            self.ledger_entries += await self.before_write(self.citizens, self.driver)
            mark = self.lap("decrees", mark)
        await self._write_citizens()
        self.lap("citizens_write", mark)

    async def _load_citizens(self) -> None:
        driver = self.driver
        rows = await driver.fetch(
            "SELECT id, user_id, display_name, score, tier_key, balance, debt, last_reward_at, "
            "recent_digests FROM citizen WHERE season_id = ?",
            self.season_id,
        )
        read_time, read_list = driver.read_time, driver.read_json_list
        self.citizens = {
            row[0]: CitizenState(
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

    async def _take_pending(self) -> list[tuple[Any, ...]]:
        """The season's pending messages, in the order they were said, deleted in the same breath.

        PostgreSQL: one ``DELETE ... RETURNING``, so a message recorded meanwhile by another connection
        is neither scored nor lost. SQLite: ``SELECT`` here, and the ``DELETE`` is queued to run while
        the messages are scored (cheaper than ``RETURNING`` there), equally exact because this
        transaction holds the write lock (``BEGIN IMMEDIATE``).
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

    async def _speech(self, pending: list[Any], permits: Permits) -> None:
        if not pending:
            return
        read_time = self.driver.read_time
        judge = self.compiled.matcher.judge_with_digest
        rewards = self.scenario.rewards
        add_speech = self.ledger.add_speech
        citizens = self.citizens
        no_permits: frozenset[str] = frozenset()
        scored = 0
        rows = self.ledger.rows
        chunk = _BACKGROUND_CHUNK if self.background_ok else len(pending) + 1
        for index, (_id, citizen_id, channel_id, message_id, content, stored_at) in enumerate(pending):
            if index % chunk == chunk - 1 and len(rows) > self.ledger_queued:
                # SQLite: the entries so far go to the database while the next messages are scored.
                self.background(self.driver.start(_INSERT_LEDGER, rows[self.ledger_queued :], many=True))
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
                add_speech(citizen, findings, message_ref(channel_id, message_id))
        self.messages_scored = scored

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
            note=self.friends_note,
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

    async def _write_citizens(self) -> None:
        tier_of = self.compiled.tier_of
        driver = self.driver
        with_speech: list[tuple[Any, ...]] = []
        others: list[tuple[Any, ...]] = []
        counts: Counter[int] = Counter()
        rewards = self.scenario.rewards
        for citizen in self.citizens.values():
            if citizen.digests_changed:
                digests = citizen.digests
                citizen.digests = recent_digests_after(digests[:-1], digests[-1], rewards) if digests else []
            tier = tier_of(citizen.score)
            if tier != citizen.start_tier:
                self.tier_changes.append((citizen, tier))
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
        deltas = [(self.season_id, score, change) for score, change in sorted(counts.items()) if change]
        for statement, rows in (
            (_UPDATE_CITIZEN, others),
            (_UPDATE_CITIZEN_SPEECH, with_speech),
            (_UPSERT_SCORE_COUNT, deltas),
        ):
            if not rows:
                continue
            if self.background_ok:
                self.background(driver.start(statement, rows, many=True))
            else:
                await driver.execute_many(statement, rows)
