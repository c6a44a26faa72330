"""Storage: ledger writes, ranks and leaderboards at a million citizens, friends' penalties at scale.

A. Ledger writes (SQLite): the same 100,000 ledger rows written six ways into identical databases,
   alternating, median of ``--runs``: the ORM/SQLModel bulk path (``session.exec(insert(LedgerEntry),
   params=dicts)``), plain and with the audit's constant columns given once as SQL values; the
   SQLModel table's insert through the ORM session (``session.exec(insert(LedgerEntry.__table__),
   params=dicts)``); Core executemany (``connection.execute(insert(table), dicts)``); the audit's own
   path (DB-API executemany through the async engine, ``game.services.audits``); and, as the
   baseline, raw ``sqlite3`` ``executemany`` of the same rows as ready-made tuples in a plain
   synchronous connection.
   Target: ORM / raw >= 0.5.
B. One season of 1,000,000 citizens (scores spread over 350..950) and 1,000,000 friendships
   (2,000,000 ``friendship`` rows): a citizen's rank from ``score_count`` and the top leaderboard page
   by keyset (the first page and a page deep in the board), each timed as one query on an open
   connection, median of 1,000; and the same through the services the bot calls
   (``queries.rank_of_score``, ``queries.leaderboard_page``), median of 200. Target: 1 ms.
C. Friends' penalties for 10,000 penalised citizens over those 2,000,000 friendship rows: the audit's
   step 4 (temporary table filled, one ``INSERT ... SELECT``), rolled back after each run, median of 5.
   Target: 200 ms.

Run with ``--backend postgresql`` for B and C on PostgreSQL too (A is SQLite's).

    python -m bench.storage_bench [--backend sqlite|postgresql|both] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench._data import GUILD, T0, fresh_database, load_world, pg_reachable, sqlite_file
from game.db import sqlite_time_text, transaction
from game.models import LedgerEntry
from game.services import queries
from game.services.audits import AUDIT_CACHE_KIB
from game.services.audits.books import LEDGER_COLUMNS
from game.services.audits.driver import Driver
from game.services.audits.social import create_work_table, drop_work_table, fill_work_table, friends_penalties

ledger_t = LedgerEntry.__table__
LEDGER_ROWS = 100_000
BIG_CITIZENS = 1_000_000
BIG_FRIENDSHIPS = 1_000_000
PENALISED = 10_000


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def line(label: str, value: str, target: str = "", verdict: str = "") -> None:
    print(f"  {label:<52}{value:>14}  {target:<12}{verdict}")


# ---------------------------------------------------------------------------------------------------
# A. Ledger writes


def ledger_dicts(count: int, first_citizen: int, citizens: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    rows = []
    for n in range(count):
        delta = rng.choice((-60, -30, -25, 5, 10, 15))
        rows.append(
            {
                "season_id": 1,
                "citizen_id": first_citizen + rng.randrange(citizens),
                "audit_number": 1,
                "dimension": "speech",
                "delta": delta,
                "score_before": 600,
                "score_after": 600 + delta,
                "reason": 'Forbidden topic, the 1989 Tiananmen protests: "tank man"',
                "source_kind": "message",
                "source_ref": f"https://discord.com/channels/{GUILD}/1000000000000002/{2_000_000_000 + n}",
                "rule_key": "tiananmen-1989",
                "created_at": T0 + timedelta(minutes=15),
            }
        )
    return rows


async def write_orm(engine: AsyncEngine, rows: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    async with transaction(engine) as session:
        await session.exec(sa.insert(LedgerEntry), params=rows)
    return time.perf_counter() - started


async def write_orm_constants(engine: AsyncEngine, rows: list[dict[str, Any]]) -> float:
    """The ORM bulk path as an audit would use it: what is the same for every row of an audit (season,
    audit number, time) given once, as SQL values in ``insert(...).values()`` (SQLAlchemy's documented
    ORM bulk INSERT with SQL expressions); each row carries only its own fields. Same rows result."""
    constant = ("season_id", "audit_number", "created_at")
    first = rows[0]
    per_row = [{k: v for k, v in row.items() if k not in constant} for row in rows]
    statement = sa.insert(LedgerEntry).values(
        season_id=sa.literal_column(str(int(first["season_id"]))),
        audit_number=sa.literal_column(str(int(first["audit_number"]))),
        created_at=sa.literal_column(f"'{sqlite_time_text(first['created_at'])}'"),
    )
    started = time.perf_counter()
    async with transaction(engine) as session:
        await session.exec(statement, params=per_row)
    return time.perf_counter() - started


async def write_orm_table(engine: AsyncEngine, rows: list[dict[str, Any]]) -> float:
    """Through the ORM session (SQLModel's ``AsyncSession``, one transaction), the SQLModel table's own
    insert: ``session.exec(insert(LedgerEntry.__table__), params=dicts)``. The session runs it as a Core
    executemany (no per-row mapper bookkeeping: the rows are plain column values, nothing is in the
    identity map either way); every column per row, bind types from the model (``UTCDateTime``)."""
    started = time.perf_counter()
    async with transaction(engine) as session:
        await session.exec(sa.insert(ledger_t), params=rows)
    return time.perf_counter() - started


async def write_core(engine: AsyncEngine, rows: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(sa.insert(ledger_t), rows)
    return time.perf_counter() - started


async def write_audit_path(engine: AsyncEngine, rows: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    async with engine.begin() as connection:
        driver = Driver(connection)
        tuples = [tuple(driver.time(v) if k == "created_at" else v for k, v in row.items()) for row in rows]
        await driver.insert_many("ledger_entry", LEDGER_COLUMNS, tuples)
    return time.perf_counter() - started


def write_raw(path: str, tuples: list[tuple[Any, ...]]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    marks = ", ".join("?" * len(LEDGER_COLUMNS))
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(f"INSERT INTO ledger_entry ({', '.join(LEDGER_COLUMNS)}) VALUES ({marks})", tuples)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


async def bench_ledger_writes(runs: int) -> None:
    print(
        f"A. Ledger writes, SQLite: {LEDGER_ROWS:,} rows into a season of 10,000 citizens, median of {runs}"
    )
    variants = ("raw", "orm", "orm_constants", "orm_table", "core", "audit")
    timings: dict[str, list[float]] = {variant: [] for variant in variants}
    for _ in range(runs):
        for variant in variants:
            async with fresh_database("sqlite") as engine:
                world = await load_world(engine, citizens=10_000, friendships=0, messages=0)
                rows = ledger_dicts(LEDGER_ROWS, world.first_citizen_id, world.citizens)
                if variant == "raw":
                    tuples = [
                        tuple(sqlite_time_text(v) if k == "created_at" else v for k, v in row.items())
                        for row in rows
                    ]
                    timings["raw"].append(await asyncio.to_thread(write_raw, sqlite_file(engine), tuples))
                elif variant == "orm":
                    timings["orm"].append(await write_orm(engine, rows))
                elif variant == "orm_constants":
                    timings["orm_constants"].append(await write_orm_constants(engine, rows))
                elif variant == "orm_table":
                    timings["orm_table"].append(await write_orm_table(engine, rows))
                elif variant == "core":
                    timings["core"].append(await write_core(engine, rows))
                else:
                    timings["audit"].append(await write_audit_path(engine, rows))
    raw = statistics.median(timings["raw"])
    labels = {
        "raw": "raw sqlite3 executemany (baseline)",
        "orm": "ORM/SQLModel bulk insert, every column per row",
        "orm_constants": "ORM/SQLModel bulk insert, audit constants once",
        "orm_table": "ORM session, SQLModel table insert (Core path)",
        "core": "Core insert() executemany",
        "audit": "the audit's path (DB-API executemany, async)",
    }
    for variant in variants:
        seconds = statistics.median(timings[variant])
        ratio = raw / seconds
        verdict = ""
        if variant.startswith("orm"):
            verdict = "MET" if ratio >= 0.5 else f"MISSED by {1 - ratio / 0.5:.0%}"
        line(
            labels[variant],
            f"{LEDGER_ROWS / seconds:,.0f} rows/s",
            f"x{ratio:.2f} of raw" if variant != "raw" else "",
            verdict,
        )
    print()


# ---------------------------------------------------------------------------------------------------
# B and C. A million citizens


async def median_of(count: int, call: Callable[[], Awaitable[Any]]) -> float:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def bench_big_season(backend: str, runs: int) -> None:
    print(
        f"B/C. {backend}: {BIG_CITIZENS:,} citizens, {BIG_FRIENDSHIPS:,} friendships "
        f"({2 * BIG_FRIENDSHIPS:,} rows)"
    )
    async with fresh_database(backend) as engine:
        started = time.perf_counter()
        world = await load_world(
            engine, citizens=BIG_CITIZENS, friendships=BIG_FRIENDSHIPS, messages=0, score_spread=True
        )
        line("data generation and load (not timed below)", f"{time.perf_counter() - started:.1f} s")
        season_id = world.season_id
        rng = random.Random(3)
        citizen = sa.table("citizen", sa.column("id"), sa.column("season_id"), sa.column("score"))
        rank_sql = sa.text(
            "SELECT COALESCE(SUM(citizens), 0) + 1 FROM score_count "
            "WHERE season_id = :season AND score > :score"
        )
        top_sql = sa.text(
            "SELECT id, user_id, display_name, score, tier_key FROM citizen WHERE season_id = :season "
            "ORDER BY score DESC, id DESC LIMIT 10"
        )
        next_sql = sa.text(
            "SELECT id, user_id, display_name, score, tier_key FROM citizen WHERE season_id = :season "
            "AND (score, id) < (:score, :id) ORDER BY score DESC, id DESC LIMIT 10"
        )
        async with engine.connect() as connection:
            cursors = [
                tuple(row)
                for row in (
                    await connection.execute(
                        sa.select(citizen.c.score, citizen.c.id)
                        .where(citizen.c.season_id == season_id)
                        .order_by(sa.func.random())
                        .limit(50)
                    )
                ).all()
            ]
            rank = await median_of(
                1000,
                lambda: connection.execute(rank_sql, {"season": season_id, "score": rng.randint(350, 950)}),
            )
            top = await median_of(1000, lambda: connection.execute(top_sql, {"season": season_id}))

            async def deep_page() -> None:
                score, citizen_id = rng.choice(cursors)
                rows = (
                    await connection.execute(
                        next_sql, {"season": season_id, "score": score, "id": citizen_id}
                    )
                ).all()
                assert len(rows) == 10

            deep = await median_of(1000, deep_page)
        async with transaction(engine) as session:
            rank_service = await median_of(
                200,
                lambda: queries.rank_of_score(session, season_id=season_id, score=rng.randint(350, 950)),
            )
            page_service = await median_of(
                200,
                lambda: queries.leaderboard_page(session, season_id=season_id, page=rng.randint(1, 50_000)),
            )
        for label, seconds in (
            ("rank from score_count (one query)", rank),
            ("top page, first (keyset index, one query)", top),
            ("top page deep in the board, by keyset cursor", deep),
        ):
            line(
                label,
                ms(seconds),
                "<= 1 ms",
                "MET" if seconds <= 0.001 else f"MISSED by {seconds / 0.001 - 1:.0%}",
            )
        line("service rank_of_score (session, as the bot calls)", ms(rank_service))
        line("service leaderboard_page, random page 1..50,000", ms(page_service))

        # C. Friends' penalties: 10,000 penalised citizens, chosen at random.
        penalised = rng.sample(
            range(world.first_citizen_id, world.first_citizen_id + BIG_CITIZENS), PENALISED
        )
        work = [(citizen_id, 600, -rng.choice((25, 30, 40, 60, 85))) for citizen_id in penalised]
        samples = []
        cpu_samples = []
        entries = 0
        for number in range(max(runs, 5)):
            async with engine.connect() as connection:
                transaction_ = await connection.begin()
                if backend == "sqlite":  # as run_due_audit sets it for its transaction
                    await connection.exec_driver_sql(f"PRAGMA cache_size = -{AUDIT_CACHE_KIB}")
                else:
                    await connection.exec_driver_sql("SET LOCAL jit = off")
                started = time.perf_counter()
                cpu_started = time.process_time()
                await create_work_table(connection)
                await fill_work_table(connection, work)
                rows = await friends_penalties(
                    connection,
                    season_id=season_id,
                    audit_number=number + 1,
                    now=T0 + timedelta(minutes=15),
                    factor_numerator=1,
                    factor_denominator=5,
                    cap=-50,
                    low=350,
                    penalised=PENALISED,
                    citizens=BIG_CITIZENS,
                )
                await drop_work_table(connection)
                samples.append(time.perf_counter() - started)
                cpu_samples.append(time.process_time() - cpu_started)
                entries = len(rows)
                await transaction_.rollback()
        seconds = statistics.median(samples)
        line(
            f"friends' penalties, {PENALISED:,} penalised ({entries:,} entries)",
            ms(seconds),
            "<= 200 ms",
            "MET" if seconds <= 0.2 else f"MISSED by {seconds / 0.2 - 1:.0%}",
        )
        if backend == "sqlite":  # SQLite runs in this process: its CPU time is the work, not the waiting
            line("  the same, CPU time of this process", ms(statistics.median(cpu_samples)))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-writes", action="store_true", help="skip part A")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not asyncio.run(pg_reachable()):
        print("PostgreSQL is not reachable at 127.0.0.1:5432: SQLite only.\n")
        backends.remove("postgresql")
    if not args.skip_writes:
        asyncio.run(bench_ledger_writes(args.runs))
    for backend in backends:
        asyncio.run(bench_big_season(backend, args.runs))


if __name__ == "__main__":
    main()
