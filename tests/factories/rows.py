"""Rows written directly with Core, as the services would write them: for the audit, scheduling and
recorder tests, so those tests do not depend on the services' own tests.

``audit`` runs an audit and checks every invariant the books keep (:func:`assert_books_balance`).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from game.models import (
    Citizen,
    Dimension,
    Enrollment,
    Friendship,
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
from game.scenario import Scenario, load_scenario, restore_scenario
from game.services.audits import run_audit_now

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 111
CHANNEL = 222
ME = "test-process"

season_t = Season.__table__
citizen_t = Citizen.__table__
ledger_t = LedgerEntry.__table__
pending_t = PendingMessage.__table__
purchase_t = Purchase.__table__
permit_t = Permit.__table__
friendship_t = Friendship.__table__
score_count_t = ScoreCount.__table__
outbox_t = OutboxMessage.__table__

_message_ids = itertools.count(10_000)


# ---------------------------------------------------------------------------------------------------
# Builders


def classic(**changes: Any) -> Scenario:
    """The classic scenario, with ``changes`` as ``{"section.field": value}`` edits."""
    data = load_scenario("classic").model_dump(mode="json")
    for path, value in changes.items():
        section, field = path.split(".")
        data[section][field] = value
    return restore_scenario(data)


async def new_season(
    engine: AsyncEngine,
    *,
    scenario: Scenario | None = None,
    guild_id: int = GUILD,
    start: datetime = T0,
    audit_every: timedelta = timedelta(minutes=15),
    duration: timedelta = timedelta(days=7),
    status: SeasonStatus = SeasonStatus.RUNNING,
    number: int = 1,
) -> int:
    scenario = scenario or classic()
    async with engine.begin() as connection:
        return int(
            (
                await connection.execute(
                    sa.insert(season_t)
                    .values(
                        guild_id=guild_id,
                        number=number,
                        scenario_key=scenario.key,
                        rules=scenario.model_dump(mode="json"),
                        status=status.value,
                        enrollment=Enrollment.VOLUNTARY.value,
                        audit_every_s=int(audit_every.total_seconds()),
                        started_at=start,
                        ends_at=start + duration,
                        next_audit_at=start + audit_every,
                        last_audit_number=0,
                        next_citizen_number=1,
                    )
                    .returning(season_t.c.id)
                )
            ).scalar_one()
        )


async def season_row(engine: AsyncEngine, season_id: int) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(sa.select(season_t).where(season_t.c.id == season_id))).one()


async def rules_of(engine: AsyncEngine, season_id: int) -> Scenario:
    return restore_scenario((await season_row(engine, season_id)).rules)


async def new_citizen(
    engine: AsyncEngine,
    season_id: int,
    *,
    user_id: int,
    name: str | None = None,
    score: int | None = None,
    balance: int | None = None,
    debt: int = 0,
) -> int:
    """A citizen at the scenario's start score; ``score`` moves them with a bureau entry, so the ledger
    invariant ``start + sum(deltas) == score`` holds from the first row."""
    scenario = await rules_of(engine, season_id)
    start = scenario.score.start
    final = start if score is None else score
    async with engine.begin() as connection:
        season = (await connection.execute(sa.select(season_t).where(season_t.c.id == season_id))).one()
        citizen_id = (
            await connection.execute(
                sa.insert(citizen_t)
                .values(
                    season_id=season_id,
                    guild_id=season.guild_id,
                    user_id=user_id,
                    number=season.next_citizen_number,
                    display_name=name or f"user{user_id}",
                    score=final,
                    tier_key=scenario.tier_for(final).key,
                    balance=scenario.economy.start_balance if balance is None else balance,
                    debt=debt,
                    joined_at=T0,
                    recent_digests=[],
                )
                .returning(citizen_t.c.id)
            )
        ).scalar_one()
        await connection.execute(
            sa.update(season_t)
            .where(season_t.c.id == season_id)
            .values(next_citizen_number=season_t.c.next_citizen_number + 1)
        )
        if final != start:
            await connection.execute(
                sa.insert(ledger_t).values(
                    season_id=season_id,
                    citizen_id=citizen_id,
                    audit_number=None,
                    dimension=Dimension.BUREAU.value,
                    delta=final - start,
                    score_before=start,
                    score_after=final,
                    reason="set up by the test",
                    source_kind=SourceKind.MODERATOR.value,
                    created_at=T0,
                )
            )
        updated = await connection.execute(
            sa.update(score_count_t)
            .where(score_count_t.c.season_id == season_id, score_count_t.c.score == final)
            .values(citizens=score_count_t.c.citizens + 1)
        )
        if updated.rowcount == 0:
            await connection.execute(
                sa.insert(score_count_t).values(season_id=season_id, score=final, citizens=1)
            )
    return int(citizen_id)


async def befriend(engine: AsyncEngine, season_id: int, a: int, b: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(friendship_t),
            [
                {"citizen_id": a, "friend_id": b, "season_id": season_id, "created_at": T0},
                {"citizen_id": b, "friend_id": a, "season_id": season_id, "created_at": T0},
            ],
        )


async def post(
    engine: AsyncEngine,
    season_id: int,
    citizen_id: int,
    content: str,
    *,
    at: datetime = T0,
    channel_id: int = CHANNEL,
    message_id: int | None = None,
) -> int:
    message_id = message_id or next(_message_ids)
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(pending_t).values(
                season_id=season_id,
                citizen_id=citizen_id,
                channel_id=channel_id,
                message_id=message_id,
                content=content,
                created_at=at,
            )
        )
    return message_id


async def buy(
    engine: AsyncEngine,
    season_id: int,
    citizen_id: int,
    item_key: str,
    *,
    quantity: int = 1,
    at: datetime = T0,
) -> int:
    item = (await rules_of(engine, season_id)).item(item_key)
    async with engine.begin() as connection:
        return int(
            (
                await connection.execute(
                    sa.insert(purchase_t)
                    .values(
                        season_id=season_id,
                        citizen_id=citizen_id,
                        item_key=item.key,
                        item_name=item.name,
                        quantity=quantity,
                        unit_price=item.price,
                        total_price=item.price * quantity,
                        effect=item.effect * quantity,
                        dimension=item.dimension.value,
                        hidden=item.hidden_until_audit,
                        created_at=at,
                    )
                    .returning(purchase_t.c.id)
                )
            ).scalar_one()
        )


async def grant_permit(
    engine: AsyncEngine,
    season_id: int,
    citizen_id: int,
    topic: str,
    *,
    since: datetime,
    until: datetime | None,
    status: RequestStatus = RequestStatus.APPROVED,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(permit_t).values(
                season_id=season_id,
                citizen_id=citizen_id,
                topic=topic,
                reason="for the debate",
                status=status.value,
                requested_at=since,
                decided_at=since,
                expires_at=until,
            )
        )


async def citizen(engine: AsyncEngine, citizen_id: int) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(sa.select(citizen_t).where(citizen_t.c.id == citizen_id))).one()


async def ledger(engine: AsyncEngine, citizen_id: int, *, audit_number: int | None = None) -> list[Any]:
    query = sa.select(ledger_t).where(ledger_t.c.citizen_id == citizen_id).order_by(ledger_t.c.id)
    if audit_number is not None:
        query = query.where(ledger_t.c.audit_number == audit_number)
    async with engine.connect() as connection:
        return list((await connection.execute(query)).all())


async def outbox(engine: AsyncEngine, season_id: int, kind: OutboxKind | None = None) -> list[Any]:
    query = sa.select(outbox_t).where(outbox_t.c.season_id == season_id).order_by(outbox_t.c.id)
    if kind is not None:
        query = query.where(outbox_t.c.kind == kind.value)
    async with engine.connect() as connection:
        return list((await connection.execute(query)).all())


async def count(engine: AsyncEngine, table: sa.Table, **where: Any) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def assert_books_balance(engine: AsyncEngine, season_id: int) -> None:
    """The invariants every audit keeps, for every citizen of the season:
    start + sum(ledger) == score, each entry's before is the previous after, scores and balances in
    range, tiers right, and score_count matches the scores."""
    scenario = await rules_of(engine, season_id)
    async with engine.connect() as connection:
        citizens = (
            await connection.execute(sa.select(citizen_t).where(citizen_t.c.season_id == season_id))
        ).all()
        entries = (
            await connection.execute(
                sa.select(ledger_t).where(ledger_t.c.season_id == season_id).order_by(ledger_t.c.id)
            )
        ).all()
        counts = dict(
            (
                await connection.execute(
                    sa.select(score_count_t.c.score, score_count_t.c.citizens).where(
                        score_count_t.c.season_id == season_id
                    )
                )
            ).all()
        )
    by_citizen: dict[int, list[Any]] = {}
    for entry in entries:
        by_citizen.setdefault(entry.citizen_id, []).append(entry)
    expected_counts: dict[int, int] = {}
    for row in citizens:
        mine = by_citizen.get(row.id, [])
        assert scenario.score.start + sum(e.delta for e in mine) == row.score, row
        running = scenario.score.start
        for entry in mine:
            assert entry.score_before == running, entry
            assert entry.score_after == entry.score_before + entry.delta, entry
            assert scenario.score.minimum <= entry.score_after <= scenario.score.maximum
            running = entry.score_after
        assert scenario.score.minimum <= row.score <= scenario.score.maximum
        assert row.tier_key == scenario.tier_for(row.score).key
        assert row.balance >= 0
        assert row.debt >= 0
        expected_counts[row.score] = expected_counts.get(row.score, 0) + 1
    assert {score: n for score, n in counts.items() if n} == expected_counts


async def audit(engine: AsyncEngine, season_id: int, *, now: datetime) -> Any:
    result = await run_audit_now(engine, season_id=season_id, now=now, claimed_by=ME)
    assert result is not None
    await assert_books_balance(engine, season_id)
    return result


def speech(entries: list[Any]) -> list[tuple[str | None, int]]:
    return [(e.rule_key, e.delta) for e in entries if e.dimension == Dimension.SPEECH.value]


def quiet_economy() -> Scenario:
    """Classic without stipend or cost of living, so only what a test does moves a balance."""
    return classic(**{"economy.stipend": 0, "economy.cost_of_living": 0})
