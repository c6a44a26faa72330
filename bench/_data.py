"""Bulk data for the benchmarks: a season with many citizens, friends, messages and purchases, fast.

Rows go in through the drivers' own bulk paths (``sqlite3`` executemany on SQLite, ``COPY`` through
asyncpg on PostgreSQL), not through the code under test, so generating a million citizens takes
seconds, and the game's code is timed only where a benchmark says so. Everything is seeded: two runs
build the same world.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from game.db import create_engine, is_sqlite, sqlite_time_text
from game.models import metadata
from game.scenario import Scenario, load_scenario

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 1_000_000_000_000_001
CHANNEL = 1_000_000_000_000_002
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

NEUTRAL_TEXT = (
    "the cat sat on a warm mat while rain fell over the quiet city and we talked about lunch "
    "tomorrow maybe noodles or dumplings near the station after work if the weather holds up "
    "did you see the match last night my cousin finally fixed her bicycle and the kettle broke again"
)
NEUTRAL_WORDS = NEUTRAL_TEXT.split()


@dataclass(frozen=True)
class World:
    season_id: int
    first_citizen_id: int
    citizens: int
    friendships: int  # undirected; the table holds twice as many rows
    messages: int
    purchases: int
    permits: int


async def pg_reachable(url: str = PG_URL) -> bool:
    import asyncpg

    parsed = sa.engine.make_url(url)
    try:
        connection = await asyncio.wait_for(
            asyncpg.connect(
                host=parsed.host, port=parsed.port or 5432, user=parsed.username, database=parsed.database
            ),
            timeout=3,
        )
    except Exception:
        return False
    await connection.close()
    return True


@asynccontextmanager
async def fresh_database(backend: str) -> AsyncIterator[AsyncEngine]:
    """An empty database with the game's tables: a temporary SQLite file, or a PostgreSQL schema."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="citizen-bench-") as folder:
            engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
            async with engine.begin() as connection:
                await connection.run_sync(metadata.create_all)
            try:
                yield engine
            finally:
                await engine.dispose()
        return
    import asyncpg

    parsed = sa.engine.make_url(PG_URL)
    schema = f"bench_{random.randrange(16**8):08x}"
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database=parsed.database
    )
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    engine = create_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield engine
    finally:
        await engine.dispose()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


def sqlite_file(engine: AsyncEngine) -> str:
    database = engine.url.database
    assert database is not None
    return database


def message_texts(scenario: Scenario, count: int, rng: random.Random) -> Iterator[str]:
    """Chat-like messages: ~70 % neutral, ~8 % forbidden, ~7 % permit topics, ~15 % approved talk."""
    forbidden = [p for rule in scenario.speech.forbidden for p in rule.phrases]
    permit = [p for rule in scenario.speech.permit_required for p in rule.phrases]
    approved = [p for rule in scenario.speech.approved for p in rule.phrases]
    for _ in range(count):
        words = rng.choices(NEUTRAL_WORDS, k=rng.randint(4, 16))
        roll = rng.random()
        if roll < 0.08:
            words.insert(rng.randrange(len(words) + 1), rng.choice(forbidden))
        elif roll < 0.15:
            words.insert(rng.randrange(len(words) + 1), rng.choice(permit))
        elif roll < 0.30:
            words.insert(rng.randrange(len(words) + 1), rng.choice(approved))
        yield " ".join(words)


def friend_pairs(
    citizens: int, friendships: int, rng: random.Random, max_friends: int
) -> list[tuple[int, int]]:
    """``friendships`` distinct pairs (0-based), every citizen with about the same number of friends.

    Round ``r`` befriends each citizen ``i`` with ``i + offset_r`` (mod ``citizens``) for a random,
    distinct offset: each round adds ``citizens`` friendships and two friends to everyone, so the
    graph has no duplicates and nobody exceeds ``max_friends``. Fast enough for a million citizens.
    """
    rounds = -(-friendships // citizens) if citizens else 0
    if rounds * 2 > max_friends or rounds * 2 >= citizens:
        raise ValueError("too many friendships for the friend limit")
    offsets: set[int] = set()
    while len(offsets) < rounds:
        offset = rng.randrange(1, (citizens + 1) // 2)
        if 2 * offset != citizens:
            offsets.add(offset)
    pairs: list[tuple[int, int]] = []
    for offset in sorted(offsets):
        take = min(citizens, friendships - len(pairs))
        pairs += [(i, (i + offset) % citizens) for i in range(take)]
    return pairs


async def load_world(
    engine: AsyncEngine,
    *,
    citizens: int,
    friendships: int,
    messages: int,
    purchases: int = 0,
    permit_share: float = 0.1,
    scenario: Scenario | None = None,
    seed: int = 2015,
    max_friends: int | None = None,
    score_spread: bool = False,
) -> World:
    """One running season in guild :data:`GUILD` with everything pending for its first audit."""
    scenario = scenario or load_scenario("classic")
    rng = random.Random(seed)
    sqlite = is_sqlite(engine)

    def stamp(moment: datetime) -> Any:
        return sqlite_time_text(moment) if sqlite else moment

    start = scenario.score.start
    low, high = scenario.score.minimum, scenario.score.maximum
    scores = [rng.randint(low, high) for _ in range(citizens)] if score_spread else [start] * citizens
    tier_of = {score: scenario.tier_for(score).key for score in range(low, high + 1)}
    pairs = friend_pairs(citizens, friendships, rng, max_friends or scenario.friends.max_friends)
    texts = list(message_texts(scenario, messages, rng))
    window = timedelta(minutes=15).total_seconds()
    message_times = sorted(stamp(T0 + timedelta(seconds=rng.random() * window)) for _ in range(messages))
    authors = [rng.randrange(citizens) for _ in range(messages)]
    buyers = [rng.randrange(citizens) for _ in range(purchases)]
    items = [rng.choice(scenario.catalogue) for _ in range(purchases)]
    permit_holders = [i for i in range(citizens) if rng.random() < permit_share]

    async with engine.begin() as connection:
        season_id = (
            await connection.execute(
                sa.insert(metadata.tables["season"])
                .values(
                    guild_id=GUILD,
                    number=1,
                    scenario_key=scenario.key,
                    rules=scenario.model_dump(mode="json"),
                    status="running",
                    enrollment="voluntary",
                    audit_every_s=900,
                    started_at=T0,
                    ends_at=T0 + timedelta(days=7),
                    next_audit_at=T0 + timedelta(minutes=15),
                    last_audit_number=0,
                    next_citizen_number=citizens + 1,
                )
                .returning(metadata.tables["season"].c.id)
            )
        ).scalar_one()
    first = 1
    counts: dict[int, int] = {}
    for score in scores:
        counts[score] = counts.get(score, 0) + 1
    t0 = stamp(T0)
    balance = scenario.economy.start_balance
    citizen_rows = [
        (first + i, season_id, GUILD, 10_000_000 + i, i + 1, f"citizen{i}", scores[i], tier_of[scores[i]],
         balance, 0, t0, None, "[]", None, 0)
        for i in range(citizens)
    ]  # fmt: skip
    # In primary-key order (citizen, friend): the table's B-tree is appended to, not split.
    friendship_rows = sorted(
        [(first + a, first + b, season_id, t0) for a, b in pairs]
        + [(first + b, first + a, season_id, t0) for a, b in pairs]
    )
    message_rows = [
        (season_id, first + authors[n], CHANNEL, 2_000_000_000 + n, texts[n], message_times[n])
        for n in range(messages)
    ]
    bought_at = stamp(T0 + timedelta(minutes=1))
    purchase_rows = [
        (season_id, first + buyers[n], items[n].key, items[n].name, 1, items[n].price, items[n].price,
         items[n].effect, items[n].dimension.value, items[n].hidden_until_audit, None, bought_at)
        for n in range(purchases)
    ]  # fmt: skip
    expires = stamp(T0 + timedelta(days=1))
    permit_rows = [
        (season_id, first + i, "politics", "debate", "approved", t0, t0, None, expires)
        for i in permit_holders
    ]
    count_rows = [(season_id, score, n) for score, n in sorted(counts.items())]

    tables: Sequence[tuple[str, str, list[tuple[Any, ...]]]] = (
        (
            "citizen",
            (
                "id, season_id, guild_id, user_id, number, display_name, score, tier_key, balance, debt, "
                "joined_at, last_reward_at, recent_digests, lookups_day, lookups_count"
            ),
            citizen_rows,
        ),
        ("friendship", "citizen_id, friend_id, season_id, created_at", friendship_rows),
        (
            "pending_message",
            "season_id, citizen_id, channel_id, message_id, content, created_at",
            message_rows,
        ),
        (
            "purchase",
            (
                "season_id, citizen_id, item_key, item_name, quantity, unit_price, total_price, effect, "
                "dimension, hidden, audit_number, created_at"
            ),
            purchase_rows,
        ),
        (
            "permit",
            "season_id, citizen_id, topic, reason, status, requested_at, decided_at, decided_by, expires_at",
            permit_rows,
        ),
        ("score_count", "season_id, score, citizens", count_rows),
    )
    if sqlite:
        await asyncio.to_thread(_sqlite_load, sqlite_file(engine), tables)
    else:
        await _pg_load(engine, tables)
    return World(
        season_id=season_id,
        first_citizen_id=first,
        citizens=citizens,
        friendships=len(pairs),
        messages=messages,
        purchases=purchases,
        permits=len(permit_rows),
    )


def _sqlite_load(path: str, tables: Sequence[tuple[str, str, list[tuple[Any, ...]]]]) -> None:
    """Bulk insert with the secondary indexes dropped, then rebuilt (one sort each, not a million splits)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-512000")
        connection.execute("BEGIN IMMEDIATE")
        names = [table for table, _, rows in tables if rows]
        marks = ",".join("?" * len(names))
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master "
            f"WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
            names,
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for table, columns, rows in tables:
            if rows:
                values = ", ".join("?" * len(rows[0]))
                connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values})", rows)
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    finally:
        connection.close()


async def _pg_load(engine: AsyncEngine, tables: Sequence[tuple[str, str, list[tuple[Any, ...]]]]) -> None:
    """COPY with the secondary indexes dropped and foreign-key triggers off (this session only), then the
    indexes rebuilt and the tables vacuumed, as a database that has been running for a while would be."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        names = [table for table, _, rows in tables if rows]
        indexes = await driver.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY($1::text[]) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            names,
        )
        for index in indexes:
            await driver.execute(f'DROP INDEX "{index["indexname"]}"')
        await driver.execute("SET session_replication_role = replica")
        for table, columns, rows in tables:
            if rows:
                await driver.copy_records_to_table(
                    table, records=rows, columns=[c.strip() for c in columns.split(",")]
                )
        await driver.execute("SET session_replication_role = DEFAULT")
        for index in indexes:
            await driver.execute(index["indexdef"])
        await driver.execute(
            "SELECT setval(pg_get_serial_sequence('citizen', 'id'), (SELECT max(id) FROM citizen))"
        )
        for table in names:
            await driver.execute(f'VACUUM ANALYZE "{table}"')


def add_backlog(
    path: str,
    *,
    season_id: int,
    guild_id: int,
    channel_id: int,
    citizens: int,
    friendships: int,
    messages: int,
    since: datetime,
    until: datetime,
    seed: int = 2015,
) -> None:
    """Give a running season of a SQLite file (a bot's own) ``citizens`` more citizens, ``friendships``
    among them and ``messages`` pending messages said between ``since`` and ``until``: a big first
    audit to come. Written with raw ``sqlite3``, in one transaction, as :func:`load_world` does."""
    scenario = load_scenario("classic")
    rng = random.Random(seed)
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN IMMEDIATE")
        first_id = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM citizen").fetchone()[0]
        first_number, rules_key = connection.execute(
            "SELECT next_citizen_number, scenario_key FROM season WHERE id = ?", (season_id,)
        ).fetchone()
        assert rules_key == scenario.key, "the backlog speaks the classic scenario"
        start = scenario.score.start
        tier = scenario.tier_for(start).key
        joined = sqlite_time_text(since)
        connection.executemany(
            "INSERT INTO citizen (id, season_id, guild_id, user_id, number, display_name, score, tier_key, "
            "balance, debt, joined_at, last_reward_at, recent_digests, lookups_day, lookups_count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, '[]', NULL, 0)",
            [
                (first_id + i, season_id, guild_id, 10_000_000 + i, first_number + i, f"backlog{i}", start,
                 tier, scenario.economy.start_balance, joined)
                for i in range(citizens)
            ],
        )  # fmt: skip
        connection.execute(
            "UPDATE season SET next_citizen_number = ? WHERE id = ?", (first_number + citizens, season_id)
        )
        connection.execute(
            "INSERT INTO score_count (season_id, score, citizens) VALUES (?, ?, ?) ON CONFLICT (season_id, "
            "score) DO UPDATE SET citizens = score_count.citizens + excluded.citizens",
            (season_id, start, citizens),
        )
        pairs = friend_pairs(citizens, friendships, rng, scenario.friends.max_friends)
        connection.executemany(
            "INSERT INTO friendship (citizen_id, friend_id, season_id, created_at) VALUES (?, ?, ?, ?)",
            sorted(
                [(first_id + a, first_id + b, season_id, joined) for a, b in pairs]
                + [(first_id + b, first_id + a, season_id, joined) for a, b in pairs]
            ),
        )
        span = (until - since).total_seconds()
        times = sorted(
            sqlite_time_text(since + timedelta(seconds=rng.random() * span)) for _ in range(messages)
        )
        texts = list(message_texts(scenario, messages, rng))
        connection.executemany(
            "INSERT INTO pending_message (season_id, citizen_id, channel_id, message_id, content, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    season_id,
                    first_id + rng.randrange(citizens),
                    channel_id,
                    2_000_000_000 + n,
                    texts[n],
                    times[n],
                )
                for n in range(messages)
            ],
        )
        connection.execute("COMMIT")
    finally:
        connection.close()
