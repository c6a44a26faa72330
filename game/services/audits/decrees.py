"""Decrees inside the season's lock: the rules an audit plays by, and the decrees that fall due.

**When a decree takes effect.** A scheduled decree takes effect at the end of the first audit that
reaches its position (``after_audit = N``: audit N; ``at = f``: the first audit held at or after
``f`` of the season's length) and governs the audits after it. The audit does it, in its own
transaction, with the season row locked ``FOR UPDATE`` and its number claimed once: so a decree takes
effect exactly once however many processes run the schedule, a retried audit that rolled back takes
it again from scratch, and an audit that catches up after downtime takes every decree it passed at
once. Nothing has to be scheduled separately, and no message is judged by a rule announced after it
was written: the messages an audit scores were said under the rules it plays by.

A moderator's decree (:mod:`game.services.decrees`) takes effect at once, between audits, under the
same lock; it too governs from the next audit on, and the shop changes at once.

**What taking effect does**, here and for a moderator's decree: a ``decree`` row (which, when, whose
word, until which audit); the amnesty's reversing ledger entries (new entries, never an edit); the
shop's rows brought in line with the catalogue in force; the season's enrolment made mandatory (and
voluntary again when the last such decree ends); and a :class:`~game.payloads.DecreeNews` in the
outbox. A decree that lapses after its last audit is announced by that audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from game.models import DecreeRecord, DecreeSource, Enrollment, LedgerEntry, OutboxMessage, Season, ShopItem
from game.rules.decrees import DecreeSpan, RulesInForce, decrees_due, rules_at
from game.rules.economy import clamp
from game.scenario import Decree, EffectKind, Scenario
from game.scenario.timeline import Amnesty, FriendsFactor
from game.services.audits.books import LEDGER_COLUMNS, REASON_MAX, CitizenState
from game.services.audits.decree_news import news_row
from game.services.lookup import shop_row

__all__ = [
    "DecreeState",
    "RecordView",
    "amnesty_targets",
    "bring_in_line",
    "insert_record",
    "season_records",
    "span_of",
]

decree_t: sa.Table = DecreeRecord.__table__  # type: ignore[attr-defined]
ledger_t: sa.Table = LedgerEntry.__table__  # type: ignore[attr-defined]
shop_t: sa.Table = ShopItem.__table__  # type: ignore[attr-defined]
season_t: sa.Table = Season.__table__  # type: ignore[attr-defined]
outbox_t: sa.Table = OutboxMessage.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordView:
    """A ``decree`` row as the services read it."""

    id: int
    key: str
    name: str
    source: DecreeSource
    issued_by: int | None
    took_effect_at: datetime
    after_audit: int
    until_audit: int | None
    revoked_at: datetime | None
    revoked_by: int | None
    revoked_after_audit: int | None
    reversed_entries: int

    @property
    def last_audit(self) -> int | None:
        """The last audit it governs (``None``: to the end of the season)."""
        if self.revoked_after_audit is None:
            return self.until_audit
        if self.until_audit is None:
            return self.revoked_after_audit
        return min(self.until_audit, self.revoked_after_audit)

    def governs(self, audit_number: int) -> bool:
        return span_of(self).governs(audit_number)


def span_of(record: RecordView) -> DecreeSpan:
    return DecreeSpan(key=record.key, from_audit=record.after_audit + 1, until_audit=record.last_audit)


async def season_records(connection: AsyncConnection, season_id: int) -> list[RecordView]:
    """The season's decree rows, in the order they took effect."""
    rows = await connection.execute(
        sa.select(decree_t).where(decree_t.c.season_id == season_id).order_by(decree_t.c.id)
    )
    return [
        RecordView(
            id=row.id,
            key=row.decree_key,
            name=row.decree_name,
            source=DecreeSource(row.source),
            issued_by=row.issued_by,
            took_effect_at=row.took_effect_at,
            after_audit=row.after_audit,
            until_audit=row.until_audit,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
            revoked_after_audit=row.revoked_after_audit,
            reversed_entries=row.reversed_entries,
        )
        for row in rows
    ]


def rules_for(
    base: Scenario, records: Sequence[RecordView], audit_number: int, *, noted: bool = True
) -> RulesInForce:
    return rules_at(base, [span_of(record) for record in records], audit_number, noted=noted)


async def insert_record(
    connection: AsyncConnection,
    *,
    season_id: int,
    decree: Decree,
    source: DecreeSource,
    issued_by: int | None,
    after_audit: int,
    now: datetime,
) -> RecordView:
    until = None if decree.lasts_audits is None else after_audit + decree.lasts_audits
    values = {
        "season_id": season_id,
        "decree_key": decree.key,
        "decree_name": decree.name,
        "source": source.value,
        "issued_by": issued_by,
        "took_effect_at": now,
        "after_audit": after_audit,
        "until_audit": until,
        "reversed_entries": 0,
    }
    record_id = (
        await connection.execute(sa.insert(decree_t).values(**values).returning(decree_t.c.id))
    ).scalar_one()
    return RecordView(
        id=record_id,
        key=decree.key,
        name=decree.name,
        source=source,
        issued_by=issued_by,
        took_effect_at=now,
        after_audit=after_audit,
        until_audit=until,
        revoked_at=None,
        revoked_by=None,
        revoked_after_audit=None,
        reversed_entries=0,
    )


async def amnesty_targets(connection: AsyncConnection, season_id: int, topic: str) -> list[Any]:
    """The speech penalties for ``topic`` not yet reversed (by an appeal or an earlier amnesty), in
    ledger order: ``(id, citizen_id, delta, dimension, reason, rule_key)``."""
    reversed_ids = {
        row[0]
        for row in await connection.execute(
            sa.select(ledger_t.c.reverses_entry_id).where(
                ledger_t.c.season_id == season_id, ledger_t.c.reverses_entry_id.is_not(None)
            )
        )
    }
    rows = await connection.execute(
        sa.select(
            ledger_t.c.id,
            ledger_t.c.citizen_id,
            ledger_t.c.delta,
            ledger_t.c.dimension,
            ledger_t.c.reason,
            ledger_t.c.rule_key,
        )
        .where(
            ledger_t.c.season_id == season_id,
            ledger_t.c.rule_key == topic,
            ledger_t.c.delta < 0,
            ledger_t.c.reverses_entry_id.is_(None),
        )
        .order_by(ledger_t.c.id)
    )
    return [row for row in rows if row.id not in reversed_ids]


def amnesty_reason(decree: Decree, entry_id: int, reason: str) -> str:
    return f"Amnesty ({decree.name}): reverses entry #{entry_id} ({reason})"[:REASON_MAX]


async def bring_in_line(
    connection: AsyncConnection, *, season_id: int, before: RulesInForce, after: RulesInForce
) -> bool:
    """Make the shop's rows and the season's enrolment follow the rules now in force. The shop is
    touched only when the catalogue in force changed; returns whether anything was written."""
    changed = False
    if before.scenario.catalogue != after.scenario.catalogue:
        changed = True
        rows = {
            row.key: row
            for row in await connection.execute(sa.select(shop_t).where(shop_t.c.season_id == season_id))
        }
        wanted = {item.key: item for item in after.scenario.catalogue}
        for key, row in rows.items():
            item = wanted.get(key)
            if item is None:
                if row.active:
                    await connection.execute(
                        sa.update(shop_t).where(shop_t.c.id == row.id).values(active=False)
                    )
            elif not row.active or row.price != item.price:
                await connection.execute(
                    sa.update(shop_t).where(shop_t.c.id == row.id).values(active=True, price=item.price)
                )
        new = [shop_row(season_id, item) for key, item in wanted.items() if key not in rows]
        if new:
            await connection.execute(sa.insert(shop_t), new)
    if before.mandatory_enrolment != after.mandatory_enrolment:
        changed = True
        enrollment = Enrollment.MANDATORY if after.mandatory_enrolment else Enrollment.VOLUNTARY
        await connection.execute(
            sa.update(season_t).where(season_t.c.id == season_id).values(enrollment=enrollment.value)
        )
    return changed


def friends_note(decrees: Sequence[Decree]) -> str:
    """What the friends' penalties' reason adds when a decree in force set the factor (the last one
    does): `` (friends pay 100 % by decree: Collective responsibility)``."""
    for decree in reversed(decrees):
        for effect in reversed(decree.effects):
            if isinstance(effect, FriendsFactor):
                return f" (friends pay {round(effect.factor * 100, 1):g} % by decree: {decree.name})"
    return ""


class DecreeState:
    """One audit's decrees: the rules it plays by, and what falls due at its end.

    :meth:`load` before scoring; :meth:`take_due` once the scores are final and before they are
    written (an amnesty moves them); :meth:`announce` after the bulletin.
    """

    def __init__(
        self,
        *,
        connection: AsyncConnection,
        season_id: int,
        guild_id: int,
        base: Scenario,
        number: int,
        now: datetime,
        started_at: datetime,
        ends_at: datetime,
        audit_every: timedelta,
        ending: bool,
    ) -> None:
        self.connection = connection
        self.season_id = season_id
        self.guild_id = guild_id
        self.base = base
        self.number = number
        self.now = now
        self.started_at = started_at
        self.ends_at = ends_at
        self.audit_every = audit_every
        self.ending = ending
        self.records: list[RecordView] = []
        self.rules = RulesInForce(scenario=base, decrees=(), mandatory_enrolment=False)
        self.taken: list[tuple[RecordView, Decree, int, int]] = []  # record, decree, points, pardoned
        self.lapsed: list[RecordView] = []

    @property
    def changed(self) -> int:
        """How many decrees took effect or lapsed at this audit."""
        return len(self.taken) + len(self.lapsed)

    async def load(self) -> RulesInForce:
        self.records = await season_records(self.connection, self.season_id)
        self.rules = rules_for(self.base, self.records, self.number)
        return self.rules

    async def take_due(self, citizens: dict[int, CitizenState], driver: Any) -> int:
        """The decrees due by the end of this audit take effect; an amnesty's entries are added to the
        citizens' scores (``citizens``, the audit's state, written after this). Returns how many
        ledger entries it wrote."""
        if self.ending:
            return 0
        taken_keys = [r.key for r in self.records if r.source is DecreeSource.TIMELINE]
        due = decrees_due(
            self.base.timeline.decrees,
            taken=taken_keys,
            audit_number=self.number,
            now=self.now,
            started_at=self.started_at,
            ends_at=self.ends_at,
        )
        self.lapsed = [
            r for r in self.records if r.until_audit == self.number and r.revoked_after_audit is None
        ]
        written = 0
        low, high = self.base.score.minimum, self.base.score.maximum
        stamp = driver.time(self.now)
        for decree in due:
            record = await insert_record(
                self.connection,
                season_id=self.season_id,
                decree=decree,
                source=DecreeSource.TIMELINE,
                issued_by=None,
                after_audit=self.number,
                now=self.now,
            )
            rows: list[tuple[Any, ...]] = []
            for effect in decree.effects_of(EffectKind.AMNESTY):
                assert isinstance(effect, Amnesty)
                for entry_id, citizen_id, delta, dimension, reason, rule_key in await amnesty_targets(
                    self.connection, self.season_id, effect.topic
                ):
                    citizen = citizens.get(citizen_id)
                    if citizen is None:
                        continue
                    before = citizen.score
                    after = clamp(before - delta, low, high)
                    citizen.score = after
                    rows.append(
                        (
                            self.season_id,
                            citizen_id,
                            self.number,
                            dimension,
                            after - before,
                            before,
                            after,
                            amnesty_reason(decree, entry_id, reason),
                            "decree",
                            str(record.id),
                            rule_key,
                            stamp,
                            entry_id,
                        )
                    )
            if rows:
                await driver.insert_many("ledger_entry", (*LEDGER_COLUMNS, "reverses_entry_id"), rows)
                await self.connection.execute(
                    sa.update(decree_t).where(decree_t.c.id == record.id).values(reversed_entries=len(rows))
                )
                record = _with_reversed(record, len(rows))
                written += len(rows)
            self.taken.append((record, decree, sum(row[4] for row in rows), len({row[1] for row in rows})))
            self.records.append(record)
        return written

    async def announce(self, *, next_audit_at: datetime) -> None:
        """The news of every decree that took effect or lapsed, and the shop and enrolment in line."""
        if not self.changed:
            return
        after = rules_for(self.base, self.records, self.number + 1)
        rows: list[dict[str, Any]] = []
        common: dict[str, Any] = {
            "guild_id": self.guild_id,
            "season_id": self.season_id,
            "next_audit_at": next_audit_at,
            "next_audit": self.number + 1,
            "audit_every": self.audit_every,
            "ends_at": self.ends_at,
            "now": self.now,
        }
        for record in self.lapsed:
            decree = _decree(self.base, record)
            if decree is not None:
                rows.append(
                    news_row(
                        record=record,
                        decree=decree,
                        event="lapsed",
                        scenario_before=self.rules.scenario,
                        base=self.base,
                        **common,
                    )
                )
        for record, decree, points, pardoned in self.taken:
            rows.append(
                news_row(
                    record=record,
                    decree=decree,
                    event="took_effect",
                    scenario_before=self.rules.scenario,
                    base=self.base,
                    reversed_points=points,
                    pardoned=pardoned,
                    **common,
                )
            )
        if rows:
            await self.connection.execute(sa.insert(outbox_t), rows)
        await bring_in_line(self.connection, season_id=self.season_id, before=self.rules, after=after)


def _decree(base: Scenario, record: RecordView) -> Decree | None:
    try:
        return base.timeline.decree(record.key)
    except KeyError:
        return None


def _with_reversed(record: RecordView, count: int) -> RecordView:
    data = {field: getattr(record, field) for field in RecordView.__dataclass_fields__}
    data["reversed_entries"] = count
    return RecordView(**data)
