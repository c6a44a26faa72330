"""Does a big audit stall the gateway? ``/score`` acknowledgements at rest and while 100,000 messages
are audited, in the default single-process SQLite mode.

One process, one loopback Discord (``tests.support.loopback``), the Citizen Score bot built by
``bot.app.create_bot`` on a temporary SQLite file, as the CLI builds it. A moderator sets up the game
channel and starts a season; ``--talkers`` members ``/join``. The season then gets a backlog written
straight into its file: ``--citizens`` more citizens with friends, ``--messages`` pending messages.

1. At rest: ``--rest`` ``/score`` commands, one after the other, by the talkers.
2. Under audit: the moderator runs ``/audit`` (over the gateway, as a moderator would), and while it
   runs the talkers send ``/score`` one after the other until the audit's answer arrives.

Measured for each ``/score``: from the moment its INTERACTION_CREATE is written to the moment the
bot's acknowledgement (the interaction callback, which Discord drops after 3 s) arrives; lost is a
``/score`` with no acknowledgement within 3 s. Printed: the at-rest p50, the under-audit p50 and
worst, their ratio, and the audit's own time.

    python -m bench.gateway_bench [--messages 100000] [--citizens 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench._data import add_backlog
from tests.support.loopback import FakeUser, LoopbackDiscord

log = logging.getLogger("bench.gateway")

RATIO_TARGET = 5.0
WORST_TARGET_S = 0.250
DISCORD_DROPS_AFTER_S = 3.0


async def _connect(server: LoopbackDiscord, bot: Any) -> asyncio.Task[None]:
    runner = asyncio.create_task(bot.start(server.token), name="bench bot")
    ready = asyncio.ensure_future(bot.wait_until_ready())
    done, _ = await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
    if runner in done:
        ready.cancel()
        runner.result()
        raise RuntimeError("the bot stopped before it was ready")
    return runner


async def _score(server: LoopbackDiscord, user: FakeUser) -> float | None:
    """Seconds to the acknowledgement of one ``/score``, ``None`` if it never came within 3 s."""
    push = asyncio.ensure_future(server.push_slash_command("score", user=user))
    try:
        reply = await asyncio.wait_for(asyncio.shield(push), DISCORD_DROPS_AFTER_S * 4)
    except TimeoutError:
        push.cancel()
        return None
    if reply.acknowledged_after > DISCORD_DROPS_AFTER_S:
        return None
    return reply.acknowledged_after


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def run(messages: int, citizens: int, talkers: int, rest: int, every: float, database: Path) -> int:
    from bot.app import create_bot
    from bot.settings import Settings

    async with LoopbackDiscord(citizens=talkers) as server:
        settings = Settings(
            discord_token=server.token,
            database_url=f"sqlite+aiosqlite:///{database}",
            discord_api_base=server.api_base,
            discord_gateway_url=server.gateway_url,
            _env_file=None,  # type: ignore[call-arg]
        )
        bot = create_bot(settings)
        runner = await asyncio.wait_for(_connect(server, bot), 60)
        try:
            guild = server.guild
            await server.push_slash_command("setup game-channel add", {"channel": guild.game_channel})
            await server.push_slash_command(
                "season start", {"scenario": "classic", "duration": "7d", "audit_every": "1d"}
            )
            people = list(guild.citizens)
            for person in people:
                await server.push_slash_command("join", user=person)
            async with bot.engine.connect() as connection:
                season_id = (
                    await connection.exec_driver_sql("SELECT id FROM season WHERE status = 'running'")
                ).scalar_one()
            now = bot.clock.now()
            started = time.perf_counter()
            await asyncio.to_thread(
                add_backlog,
                str(database),
                season_id=season_id,
                guild_id=guild.id,
                channel_id=guild.game_channel.id,
                citizens=citizens,
                friendships=citizens * 5,
                messages=messages,
                since=now - timedelta(minutes=10),
                until=now,
            )
            print(f"backlog written in {time.perf_counter() - started:.1f} s (not timed)")
            for person in people[:3]:  # warm-up: first renders, caches
                await _score(server, person)

            # At rest and under audit alike: one /score every --every seconds, each in its own task.
            rest_tasks = []
            for n in range(rest):
                rest_tasks.append(asyncio.create_task(_score(server, people[n % len(people)])))
                await asyncio.sleep(every)
            rest_results = await asyncio.gather(*rest_tasks)
            at_rest = [value for value in rest_results if value is not None]
            lost_at_rest = len(rest_results) - len(at_rest)

            audit_started = time.perf_counter()
            audit = asyncio.create_task(server.push_slash_command("audit"))
            under_tasks = []
            n = 0
            while not audit.done():
                under_tasks.append(
                    (
                        time.perf_counter() - audit_started,
                        asyncio.create_task(_score(server, people[n % len(people)])),
                    )
                )
                n += 1
                await asyncio.sleep(every)
            reply = await audit
            audit_s = time.perf_counter() - audit_started
            under_results = [(at, await task) for at, task in under_tasks]
            under = [value for _at, value in under_results if value is not None]
            lost_under = len(under_results) - len(under)
            description = (
                reply.followups[-1]["embeds"][0]["description"] if reply.followups else reply.content
            )
            print(f"/audit answered: {description}")
            async with bot.engine.connect() as connection:
                stats = (await connection.exec_driver_sql("SELECT stats FROM audit")).scalar_one()
            steps = (json.loads(stats) if isinstance(stats, str) else stats)["timings_s"]
            print("audit steps, s: " + ", ".join(f"{step} {seconds:.2f}" for step, seconds in steps.items()))
        finally:
            await bot.close()
            await asyncio.gather(runner, return_exceptions=True)

    rest_p50, under_p50 = _p50(at_rest), _p50(under)
    worst = max(under, default=float("nan"))
    ratio = under_p50 / rest_p50
    print(
        f"\n/score acknowledgements over the loopback gateway, SQLite, one process; "
        f"audit of {messages:,} messages, {citizens + talkers:,} citizens; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"  at rest:      {len(at_rest):>4} acks, p50 {rest_p50 * 1000:7.1f} ms, "
        f"max {max(at_rest, default=float('nan')) * 1000:7.1f} ms"
    )
    print(f"  under audit:  {len(under):>4} acks, p50 {under_p50 * 1000:7.1f} ms, max {worst * 1000:7.1f} ms")
    print(f"  audit (push to answer): {audit_s:.2f} s")
    print(f"  lost (no ack within 3 s): {lost_at_rest} at rest, {lost_under} under audit")
    ratio_ok = ratio <= RATIO_TARGET
    worst_ok = worst <= WORST_TARGET_S
    print(
        f"  ratio under-audit p50 / at-rest p50: {ratio:.2f} "
        f"({'meets' if ratio_ok else 'MISSES'} <= {RATIO_TARGET:g}); worst "
        f"{'meets' if worst_ok else 'MISSES'} <= {WORST_TARGET_S * 1000:.0f} ms"
    )
    timeline = " ".join(
        f"{at:.1f}s:{'lost' if value is None else f'{value * 1000:.0f}'}" for at, value in under_results
    )
    print(f"  each under audit (sent at: ack ms): {timeline}")
    ok = ratio_ok and worst_ok and lost_at_rest == 0 and lost_under == 0 and len(under) > 0
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--messages", type=int, default=100_000, help="pending messages audited (default 100000)"
    )
    parser.add_argument(
        "--citizens", type=int, default=10_000, help="citizens in the backlog (default 10000)"
    )
    parser.add_argument(
        "--talkers", type=int, default=20, help="members who /join and send /score (default 20)"
    )
    parser.add_argument("--rest", type=int, default=20, help="/score commands at rest (default 20)")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between two /score (default 0.5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("discord.client").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="citizen-score-bench-") as folder:
        return asyncio.run(
            run(args.messages, args.citizens, args.talkers, args.rest, args.every, Path(folder) / "bench.db")
        )


if __name__ == "__main__":
    sys.exit(main())
