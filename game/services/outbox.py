"""The outbox: what the bot must tell Discord, delivered once across restarts and processes.

Rows are written in the same transaction as what caused them (an audit's bulletin and role changes,
a season's final standings), so nothing is announced that did not happen and nothing that happened
goes unannounced. The bot delivers them in three steps:

1. :func:`claim_undelivered` takes up to ``limit`` rows for this process in one transaction
   (``SELECT ... FOR UPDATE SKIP LOCKED``, then ``UPDATE ... RETURNING``), so two processes never hold
   the same row; on SQLite ``BEGIN IMMEDIATE`` serialises the claimers instead.
2. It posts to Discord.
3. :func:`mark_delivered` (never offered again) or :func:`mark_failed` (offered again after a back-off).

A claim expires after ``claim_ttl``: a process that crashed between steps 1 and 3 leaves rows that
another process (or itself, restarted) picks up again. The back-off of a failed row is stored in the
same column as the claim: ``claimed_at`` is set so that the claim "expires" when the retry is due,
and ``claimed_by`` is cleared, which keeps the schema as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from game.models import OutboxKind, OutboxMessage
from game.payloads import Payload, dump_payload, load_payload, payload_kind

__all__ = [
    "DEFAULT_CLAIM_TTL",
    "MAX_ATTEMPTS",
    "OutboxItem",
    "claim_undelivered",
    "mark_delivered",
    "mark_failed",
    "outbox_row",
    "retry_delay",
]

log = logging.getLogger(__name__)

outbox = OutboxMessage.__table__  # type: ignore[attr-defined]

DEFAULT_CLAIM_TTL = timedelta(minutes=2)
# Past this many failed attempts a row stays in the table (for the moderators' eyes) but is not offered again.
MAX_ATTEMPTS = 12
_LONGEST_RETRY = timedelta(minutes=30)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    """One claimed row: what to post (``kind`` and its typed ``payload``) and where (``guild_id``)."""

    id: int
    guild_id: int
    season_id: int | None
    kind: OutboxKind
    payload: Payload
    attempts: int = 0
    created_at: datetime


def retry_delay(attempts: int) -> timedelta:
    """How long a row waits after its ``attempts``-th failure: 10 s, 20 s, 40 s ... at most 30 minutes."""
    return min(timedelta(seconds=10 * 2 ** max(0, attempts - 1)), _LONGEST_RETRY)


def outbox_row(*, guild_id: int, season_id: int | None, payload: Payload, now: datetime) -> OutboxMessage:
    """The outbox row for ``payload``, to add to the caller's session (same transaction as its cause)."""
    return OutboxMessage(
        guild_id=guild_id,
        season_id=season_id,
        kind=payload_kind(payload),
        payload=dump_payload(payload),
        created_at=now,
    )


async def claim_undelivered(
    engine: AsyncEngine,
    *,
    limit: int,
    claimed_by: str,
    now: datetime,
    claim_ttl: timedelta = DEFAULT_CLAIM_TTL,
    guild_ids: Iterable[int] | None = None,
) -> list[OutboxItem]:
    """Claim up to ``limit`` undelivered rows, oldest first, for ``claimed_by``.

    A row is offered when it was never delivered, has failed fewer than :data:`MAX_ATTEMPTS` times and
    is not held by a live claim (``claimed_at`` older than ``claim_ttl``, or none). ``guild_ids``
    restricts the claim to the guilds this process serves (a shard).
    """
    if limit <= 0:
        return []
    cutoff = now - claim_ttl

    def claimable(table: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(
            table.c.delivered_at.is_(None),
            table.c.attempts < MAX_ATTEMPTS,
            sa.or_(table.c.claimed_at.is_(None), table.c.claimed_at <= cutoff),
        )

    candidates = sa.select(outbox.c.id).where(claimable(outbox))
    if guild_ids is not None:
        candidates = candidates.where(outbox.c.guild_id.in_(list(guild_ids)))
    # Two statements in one transaction: pick and lock (PostgreSQL skips rows another claimer holds;
    # SQLite's BEGIN IMMEDIATE lets one claimer in at a time), then stamp exactly those rows. An
    # ``UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` is no substitute: PostgreSQL
    # may re-run the subquery and stamp more than n rows.
    candidates = candidates.order_by(outbox.c.id).limit(limit).with_for_update(skip_locked=True)
    async with engine.begin() as connection:
        ids = list((await connection.execute(candidates)).scalars())
        if not ids:
            return []
        rows = (
            await connection.execute(
                sa.update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(claimed_at=now, claimed_by=claimed_by)
                .returning(
                    outbox.c.id,
                    outbox.c.guild_id,
                    outbox.c.season_id,
                    outbox.c.kind,
                    outbox.c.payload,
                    outbox.c.attempts,
                    outbox.c.created_at,
                )
            )
        ).all()
    items: list[OutboxItem] = []
    for row in rows:
        kind = OutboxKind(row.kind)
        try:
            payload = load_payload(kind, row.payload or {})
        except ValidationError as error:
            # A row no version of the bot can read: kept for the record, never offered again.
            log.error("outbox row %s (%s) cannot be read: %s", row.id, kind, error)
            await _give_up(engine, row.id, now=now, error=f"unreadable payload: {error}")
            continue
        items.append(
            OutboxItem(
                id=row.id,
                guild_id=row.guild_id,
                season_id=row.season_id,
                kind=kind,
                payload=payload,
                attempts=row.attempts,
                created_at=row.created_at,
            )
        )
    items.sort(key=lambda item: item.id)
    return items


async def _give_up(engine: AsyncEngine, item_id: int, *, now: datetime, error: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(outbox)
            .where(outbox.c.id == item_id)
            .values(attempts=MAX_ATTEMPTS, last_error=error[:500], claimed_by=None, claimed_at=now)
        )


def _ids(ids: int | Sequence[int]) -> list[int]:
    return [ids] if isinstance(ids, int) else list(ids)


async def mark_delivered(engine: AsyncEngine, *, ids: int | Sequence[int], now: datetime) -> int:
    """Mark rows delivered (never offered again). Returns how many were not already marked."""
    wanted = _ids(ids)
    if not wanted:
        return 0
    statement = (
        sa.update(outbox)
        .where(outbox.c.id.in_(wanted), outbox.c.delivered_at.is_(None))
        .values(delivered_at=now, claimed_by=None)
    )
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    return int(result.rowcount)


async def mark_failed(
    engine: AsyncEngine,
    *,
    item_id: int,
    now: datetime,
    error: str,
    claim_ttl: timedelta = DEFAULT_CLAIM_TTL,
    retry_in: timedelta | None = None,
) -> bool:
    """Record a failed delivery: one more attempt, the error kept, offered again after a back-off.

    ``retry_in`` overrides the back-off (Discord's ``Retry-After``). ``claim_ttl`` must be the one
    the claimer passes to :func:`claim_undelivered`. Returns ``False`` if the row was already delivered.
    """
    async with engine.begin() as connection:
        attempts = (
            await connection.execute(
                sa.update(outbox)
                .where(outbox.c.id == item_id, outbox.c.delivered_at.is_(None))
                .values(attempts=outbox.c.attempts + 1, last_error=error[:500], claimed_by=None)
                .returning(outbox.c.attempts)
            )
        ).scalar_one_or_none()
        if attempts is None:
            return False
        delay = retry_in if retry_in is not None else retry_delay(attempts)
        # The row is claimable again once claimed_at <= now' - claim_ttl, i.e. at now + delay.
        await connection.execute(
            sa.update(outbox).where(outbox.c.id == item_id).values(claimed_at=now + delay - claim_ttl)
        )
    if attempts >= MAX_ATTEMPTS:
        log.warning("outbox row %s failed %d times and will not be retried: %s", item_id, attempts, error)
    return True
