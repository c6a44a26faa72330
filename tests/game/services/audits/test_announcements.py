"""Delivering the audit's outbox: claimed once, delivered once, retried after failures and crashes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from game.models import OutboxKind, OutboxMessage
from game.payloads import Notice, RoleSync, dump_payload
from game.services.outbox import (
    MAX_ATTEMPTS,
    claim_undelivered,
    mark_delivered,
    mark_failed,
    retry_delay,
)
from tests.conftest import make_engine
from tests.factories.rows import T0, audit, new_citizen, new_season, post

outbox_t = OutboxMessage.__table__
TTL = timedelta(minutes=2)


async def add_rows(engine: AsyncEngine, count: int, *, guild_id: int = 1) -> list[int]:
    async with engine.begin() as connection:
        result = await connection.execute(
            sa.insert(outbox_t).returning(outbox_t.c.id),
            [
                {
                    "guild_id": guild_id,
                    "season_id": None,
                    "kind": OutboxKind.NOTICE.value,
                    "payload": dump_payload(Notice(title=f"notice {n}")),
                    "created_at": T0,
                    "attempts": 0,
                }
                for n in range(count)
            ],
        )
        return sorted(result.scalars())


async def test_claimed_rows_are_not_offered_again_until_the_claim_expires(engine: AsyncEngine) -> None:
    ids = await add_rows(engine, 3)

    first = await claim_undelivered(engine, limit=2, claimed_by="a", now=T0)
    second = await claim_undelivered(engine, limit=10, claimed_by="b", now=T0 + timedelta(seconds=1))
    # "a" crashed without marking anything: after the claim's lifetime "b" takes its rows over.
    later = await claim_undelivered(engine, limit=10, claimed_by="b", now=T0 + TTL)

    assert [item.id for item in first] == ids[:2]
    assert [item.payload for item in first] == [Notice(title="notice 0"), Notice(title="notice 1")]
    assert [item.id for item in second] == ids[2:]
    assert [item.id for item in later] == ids[:2]


async def test_delivered_rows_are_never_offered_again(engine: AsyncEngine) -> None:
    ids = await add_rows(engine, 2)
    claimed = await claim_undelivered(engine, limit=10, claimed_by="a", now=T0)

    assert await mark_delivered(engine, ids=[item.id for item in claimed], now=T0) == 2
    assert await mark_delivered(engine, ids=ids[0], now=T0) == 0  # already delivered: counted once
    assert await claim_undelivered(engine, limit=10, claimed_by="a", now=T0 + timedelta(days=1)) == []


async def test_a_failed_row_waits_its_back_off_then_comes_back(engine: AsyncEngine) -> None:
    (row_id,) = await add_rows(engine, 1)
    await claim_undelivered(engine, limit=1, claimed_by="a", now=T0)

    assert await mark_failed(engine, item_id=row_id, now=T0, error="403 Forbidden: Missing Permissions")

    delay = retry_delay(1)
    assert (
        await claim_undelivered(engine, limit=1, claimed_by="a", now=T0 + delay - timedelta(seconds=1)) == []
    )
    (again,) = await claim_undelivered(engine, limit=1, claimed_by="a", now=T0 + delay)
    assert again.attempts == 1
    async with engine.connect() as connection:
        row = (await connection.execute(sa.select(outbox_t).where(outbox_t.c.id == row_id))).one()
    assert row.last_error == "403 Forbidden: Missing Permissions"


async def test_retry_in_follows_discords_retry_after(engine: AsyncEngine) -> None:
    (row_id,) = await add_rows(engine, 1)
    await claim_undelivered(engine, limit=1, claimed_by="a", now=T0)
    await mark_failed(engine, item_id=row_id, now=T0, error="429", retry_in=timedelta(seconds=3))
    assert await claim_undelivered(engine, limit=1, claimed_by="a", now=T0 + timedelta(seconds=2)) == []
    assert len(await claim_undelivered(engine, limit=1, claimed_by="a", now=T0 + timedelta(seconds=3))) == 1


async def test_a_row_that_keeps_failing_is_given_up(engine: AsyncEngine) -> None:
    (row_id,) = await add_rows(engine, 1)
    now = T0
    for _ in range(MAX_ATTEMPTS):
        (item,) = await claim_undelivered(engine, limit=1, claimed_by="a", now=now)
        await mark_failed(engine, item_id=item.id, now=now, error="boom")
        now += timedelta(hours=1)
    assert await claim_undelivered(engine, limit=1, claimed_by="a", now=now + timedelta(days=1)) == []
    assert not await mark_failed(engine, item_id=row_id + 1000, now=now, error="no such row")


def test_back_off_doubles_up_to_a_ceiling() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert retry_delay(30) == timedelta(minutes=30)


async def test_claims_are_restricted_to_the_processs_guilds(engine: AsyncEngine) -> None:
    await add_rows(engine, 2, guild_id=1)
    await add_rows(engine, 2, guild_id=2)
    mine = await claim_undelivered(engine, limit=10, claimed_by="shard-0", now=T0, guild_ids=[2])
    assert {item.guild_id for item in mine} == {2}
    assert len(mine) == 2


async def test_two_processes_claiming_at_once_never_share_a_row(
    engine: AsyncEngine, database_url: str
) -> None:
    await add_rows(engine, 60)
    other = make_engine(database_url)
    try:
        batches = await asyncio.gather(
            *(
                claim_undelivered(e, limit=7, claimed_by=name, now=T0)
                for _ in range(6)
                for e, name in ((engine, "a"), (other, "b"))
            )
        )
    finally:
        await other.dispose()
    claimed = [item.id for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed)) == 60


async def test_an_audits_outbox_is_delivered_exactly_once_across_a_restart(engine: AsyncEngine) -> None:
    season = await new_season(engine)
    ana = await new_citizen(engine, season, user_id=1, score=705)
    await post(engine, season, ana, "tank man")
    await audit(engine, season, now=T0 + timedelta(minutes=15))
    delivered: list[tuple[OutboxKind, int]] = []

    # The first process claims everything, delivers the bulletin, then dies before the role change.
    now = T0 + timedelta(minutes=15)
    claimed = await claim_undelivered(engine, limit=10, claimed_by="before-restart", now=now)
    assert sorted(item.kind for item in claimed) == [OutboxKind.BULLETIN, OutboxKind.ROLE_SYNC]
    bulletin = next(item for item in claimed if item.kind is OutboxKind.BULLETIN)
    delivered.append((bulletin.kind, bulletin.id))
    await mark_delivered(engine, ids=bulletin.id, now=now)

    # After the restart, only what was not delivered comes back, once the dead claim has expired.
    assert await claim_undelivered(engine, limit=10, claimed_by="after-restart", now=now) == []
    retried = await claim_undelivered(engine, limit=10, claimed_by="after-restart", now=now + TTL)
    for item in retried:
        delivered.append((item.kind, item.id))
        await mark_delivered(engine, ids=item.id, now=now + TTL)
    assert [kind for kind, _ in delivered] == [OutboxKind.BULLETIN, OutboxKind.ROLE_SYNC]
    assert isinstance(retried[0].payload, RoleSync)
    assert retried[0].payload.new_tier == "ordinary"
    assert await claim_undelivered(engine, limit=10, claimed_by="after-restart", now=now + 10 * TTL) == []


async def test_a_row_no_version_can_read_is_set_aside_not_retried(engine: AsyncEngine) -> None:
    [good] = await add_rows(engine, 1)
    async with engine.begin() as connection:
        bad = (
            await connection.execute(
                sa.insert(outbox_t).returning(outbox_t.c.id),
                {
                    "guild_id": 1,
                    "season_id": None,
                    "kind": OutboxKind.BULLETIN.value,
                    "payload": {"audit_number": "not a number"},
                    "created_at": T0,
                    "attempts": 0,
                },
            )
        ).scalar_one()

    claimed = await claim_undelivered(engine, limit=10, claimed_by="a", now=T0)
    later = await claim_undelivered(engine, limit=10, claimed_by="a", now=T0 + 100 * TTL)

    assert [item.id for item in claimed] == [good]
    assert good in [item.id for item in later]
    assert bad not in [item.id for item in later]
    async with engine.connect() as connection:
        row = (await connection.execute(sa.select(outbox_t).where(outbox_t.c.id == bad))).one()
    assert row.delivered_at is None
    assert "unreadable payload" in row.last_error
