"""How fast one audit scores a big season: 10,000 citizens, 100,000 pending messages, 100,000 friend edges.

The world (``bench._data``), classic scenario: ~70 % of messages are small talk, ~8 % name a forbidden
topic, ~7 % a permit topic (10 % of citizens hold a politics permit), ~15 % approved talk; 5,000
purchases; friend edges are ``friendship`` rows (each friendship is stored in both directions, so
100,000 edges are 50,000 friendships, 10 friends each; ``--edges 200000`` doubles it).

Timed: one :func:`game.services.audits.run_due_audit`, claim to commit, all six steps, every ledger row
written; wall time, and CPU time of this process (steadier when other work shares the machine).
Baselines, measured in the same run:

* scoring alone: the same messages through the compiled matcher and digest, in memory, no database;
* storage alone: raw ``sqlite3`` ``executemany`` of as many ledger rows as the audit wrote, into a
  copy of the same database taken before the audit (same indexes, same foreign keys).

    python -m bench.audit_bench [--runs 3] [--edges 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta

from bench._data import GUILD, T0, fresh_database, load_world, message_texts, sqlite_file
from game.db import sqlite_time_text
from game.rules.speech import SpeechMatcher
from game.scenario import load_scenario
from game.services.audits import AuditResult, run_due_audit
from game.services.audits.books import LEDGER_COLUMNS

TARGET = 50_000  # scored messages a second, ledger writes included
CITIZENS = 10_000
MESSAGES = 100_000
PURCHASES = 5_000


@dataclass(frozen=True)
class Run:
    result: AuditResult
    cpu_s: float
    load_s: float
    raw_ledger_s: float
    timings: dict[str, float]


def scoring_baseline(messages: int) -> float:
    """Seconds to judge and digest the world's messages in memory."""
    scenario = load_scenario("classic")
    texts = list(message_texts(scenario, messages, random.Random(2015)))
    judge = SpeechMatcher.from_scenario(scenario).judge_with_digest
    politics = frozenset({"politics"})
    started = time.perf_counter()
    for n, text in enumerate(texts):
        judge(text, permits=politics if n % 10 == 0 else frozenset())
    return time.perf_counter() - started


def raw_ledger_insert(path: str, count: int) -> float:
    """Seconds for raw sqlite3 to insert ``count`` ledger rows like the audit's (built beforehand)."""
    stamp = sqlite_time_text(T0 + timedelta(minutes=15))
    rng = random.Random(5)
    reason = 'Forbidden topic, a certain bear: "Pooh Bear"'
    rows = [
        (1, 1 + rng.randrange(CITIZENS), 1, "speech", -30, 600, 570, reason, "message",
         f"https://discord.com/channels/{GUILD}/1000000000000002/{2_000_000_000 + n}",
         "a-certain-bear", stamp)
        for n in range(count)
    ]  # fmt: skip
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    marks = ", ".join("?" * len(LEDGER_COLUMNS))
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(f"INSERT INTO ledger_entry ({', '.join(LEDGER_COLUMNS)}) VALUES ({marks})", rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


async def one_audit(edges: int) -> Run:
    async with fresh_database("sqlite") as engine:
        started = time.perf_counter()
        world = await load_world(
            engine, citizens=CITIZENS, friendships=edges // 2, messages=MESSAGES, purchases=PURCHASES
        )
        load_s = time.perf_counter() - started
        path = sqlite_file(engine)
        copy = f"{path}.baseline"
        source = sqlite3.connect(path)
        target = sqlite3.connect(copy)
        source.backup(target)
        source.close()
        target.close()

        cpu = time.process_time()
        result = await run_due_audit(
            engine, season_id=world.season_id, now=T0 + timedelta(minutes=15), claimed_by="bench"
        )
        cpu_s = time.process_time() - cpu
        assert result is not None
        assert result.messages_scored == MESSAGES
        async with engine.connect() as connection:
            stats = (await connection.exec_driver_sql("SELECT stats FROM audit")).scalar_one()
            pending = (await connection.exec_driver_sql("SELECT COUNT(*) FROM pending_message")).scalar_one()
        assert pending == 0, "the audit left message text behind"
        raw_s = await asyncio.to_thread(raw_ledger_insert, copy, result.ledger_entries)
        os.remove(copy)
        timings = json.loads(stats)["timings_s"] if isinstance(stats, str) else stats["timings_s"]
        return Run(result=result, cpu_s=cpu_s, load_s=load_s, raw_ledger_s=raw_s, timings=timings)


def row(label: str, value: str) -> None:
    print(f"  {label:<50}{value:>22}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--edges", type=int, default=100_000, help="friendship rows (two per friendship)")
    args = parser.parse_args()
    print(
        f"Audit benchmark, SQLite: {CITIZENS:,} citizens, {MESSAGES:,} pending messages, "
        f"{args.edges:,} friend edges ({args.edges // 2:,} friendships), {PURCHASES:,} purchases; "
        f"median of {args.runs} runs; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    runs = [asyncio.run(one_audit(args.edges)) for _ in range(args.runs)]
    scoring = statistics.median(scoring_baseline(MESSAGES) for _ in range(args.runs))
    runs.sort(key=lambda run: run.result.duration_s)
    middle = runs[len(runs) // 2]
    result = middle.result
    wall = result.duration_s
    raw = statistics.median(run.raw_ledger_s for run in runs)

    row("data generation per run (not timed), s", f"{middle.load_s:.1f}")
    row("messages scored", f"{result.messages_scored:,}")
    row("ledger rows written (social)", f"{result.ledger_entries:,} ({result.social_entries:,})")
    row(
        "citizens whose score changed / tier changes",
        f"{result.citizens_changed:,} / {result.tier_changes:,}",
    )
    row("audit, wall s (runs)", f"{wall:.2f} ({', '.join(f'{r.result.duration_s:.2f}' for r in runs)})")
    row("audit, CPU s of this process", f"{middle.cpu_s:.2f}")
    for step, seconds in middle.timings.items():
        row(f"  step {step}, wall s", f"{seconds:.3f}")
    print()
    row("AUDIT: scored messages a second (wall)", f"{result.messages_scored / wall:,.0f}")
    row("AUDIT: scored messages a second (CPU)", f"{result.messages_scored / middle.cpu_s:,.0f}")
    row("AUDIT: ledger rows a second (wall)", f"{result.ledger_entries / wall:,.0f}")
    row("baseline: matcher + digest only, msg/s", f"{MESSAGES / scoring:,.0f}")
    row("baseline: raw sqlite3 insert of the ledger rows, rows/s", f"{result.ledger_entries / raw:,.0f}")
    row("audit wall / (scoring + raw insert) floors", f"{wall / (scoring + raw):.2f}x")
    rate = result.messages_scored / wall
    verdict = "MET" if rate >= TARGET else f"MISSED by {1 - rate / TARGET:.0%}"
    row(f"target {TARGET:,} msg/s (wall)", verdict)


if __name__ == "__main__":
    main()
