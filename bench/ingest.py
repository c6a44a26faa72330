"""Message ingestion over the real gateway path: how fast does the bot take in what citizens say?

One process, one loopback Discord (``tests.support.loopback``), two bots connected to it at once:

(a) a no-op ``commands.Bot`` with Citizen Score's intents and command prefix, counting in an
    ``on_message`` listener: what discord.py itself costs (parse, cache, dispatch, prefix check);
(b) the Citizen Score bot, built by ``bot.app.create_bot`` on a temporary SQLite database; a
    moderator adds the game channel and starts a season and every author runs ``/join``, all as
    slash commands over the gateway; it is measured by what the game's recorder took.

Each run sends the same burst of N MESSAGE_CREATE events (same authors, channel and text) to (a)
and to (b), in turn, over a websocket with zlib-stream compression, as Discord sends them. The clock
starts when the first frame is written (payloads are encoded and compressed before) and stops when
the last message is counted: by (a)'s listener, by (b)'s ``recorder.recorded``. Then (b)'s recorder
is flushed and the new ``pending_message`` rows counted: lost = sent - stored. The bursts alternate,
and which bot goes first alternates from run to run, so a noisy machine slows both alike; the table
shows medians.

Beside the wall-clock rate, each run reports messages per CPU-second of this process (server
included, the same for both): on a shared machine other processes disturb it less than the wall
clock, though not at all is too much to hope for (caches, shared cores).

    python -m bench.ingest --messages 20000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

import discord
from discord.ext import commands

from tests.support.loopback import BurstReport, FakeUser, GatewaySession, LoopbackDiscord

log = logging.getLogger("bench.ingest")

TARGET_RATIO = 0.7
WARM_UP_MESSAGES = 500


class Stamp(NamedTuple):
    wall: float  # time.perf_counter()
    cpu: float  # time.process_time(): every thread of this process, the database's included

    @classmethod
    def now(cls) -> Stamp:
        return cls(time.perf_counter(), time.process_time())


@dataclass(frozen=True)
class Measurement:
    sent: int
    recorded: int  # (a) counted by the listener; (b) rows stored after the flush
    rate: float  # messages a second, first frame written -> last message counted
    cpu_rate: float  # messages per CPU-second of this process over the same span
    stored_rate: float | None  # (b) first frame written -> every message stored in the database
    send_seconds: float  # how long the server took to write the burst

    @classmethod
    def of(
        cls, burst: BurstReport, counted: Stamp, recorded: int, stored: Stamp | None = None
    ) -> Measurement:
        return cls(
            sent=burst.count,
            recorded=recorded,
            rate=burst.count / (counted.wall - burst.started_at),
            cpu_rate=burst.count / max(counted.cpu - burst.started_cpu, 1e-9),
            stored_rate=burst.count / (stored.wall - burst.started_at) if stored else None,
            send_seconds=burst.finished_at - burst.started_at,
        )


@dataclass
class Results:
    name: str
    runs: list[Measurement] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(m.rate for m in self.runs)

    @property
    def cpu_rate(self) -> float:
        return statistics.median(m.cpu_rate for m in self.runs)

    @property
    def stored_rate(self) -> float | None:
        rates = [m.stored_rate for m in self.runs if m.stored_rate is not None]
        return statistics.median(rates) if rates else None

    @property
    def lost(self) -> int:
        return sum(m.sent - m.recorded for m in self.runs)


class Contender(Protocol):
    name: str
    bot: commands.Bot
    session: GatewaySession | None

    async def prepare(self, server: LoopbackDiscord, authors: list[FakeUser]) -> None: ...
    async def measure(self, server: LoopbackDiscord, n: int, authors: list[FakeUser]) -> Measurement: ...


class NoopBot:
    """A ``commands.Bot`` that does nothing with a message but count it."""

    name = "no-op commands.Bot"

    def __init__(self, intents: discord.Intents, command_prefix: Callable[..., list[str]]) -> None:
        self.bot = commands.Bot(command_prefix=command_prefix, intents=intents, help_command=None)
        # A listener, not an on_message override: the default on_message (the prefix check) still
        # runs, as in any commands.Bot, Citizen Score's included.
        self.bot.add_listener(self._count, "on_message")
        self.session: GatewaySession | None = None
        self._count_left = 0
        self._counted: asyncio.Future[Stamp] | None = None

    async def _count(self, _message: discord.Message) -> None:
        self._count_left -= 1
        if self._count_left == 0 and self._counted is not None:
            self._counted.set_result(Stamp.now())

    async def prepare(self, server: LoopbackDiscord, authors: list[FakeUser]) -> None:
        pass

    async def measure(self, server: LoopbackDiscord, n: int, authors: list[FakeUser]) -> Measurement:
        self._count_left = n
        self._counted = asyncio.get_running_loop().create_future()
        burst = await server.push_message_create(n, authors=authors, session=self.session)
        counted = await self._counted
        return Measurement.of(burst, counted, recorded=n - self._count_left)


class CitizenScoreBot:
    """The real bot, built as the CLI builds it, measured by what its recorder took."""

    name = "Citizen Score"

    def __init__(self, server: LoopbackDiscord, database_url: str) -> None:
        from bot.app import create_bot
        from bot.settings import Settings

        settings = Settings(
            discord_token=server.token,
            database_url=database_url,
            discord_api_base=server.api_base,
            discord_gateway_url=server.gateway_url,
            _env_file=None,  # type: ignore[call-arg]
        )
        self.bot = create_bot(settings)
        self.session: GatewaySession | None = None

    async def prepare(self, server: LoopbackDiscord, authors: list[FakeUser]) -> None:
        """What a moderator and the citizens do first, as slash commands over the gateway."""
        channel = server.guild.game_channel
        await server.push_slash_command("setup game-channel add", {"channel": channel}, session=self.session)
        await server.push_slash_command(
            "season start",
            # Audits far apart: none may score (and delete) the pending messages while we count them.
            {"scenario": "classic", "duration": "7d", "audit_every": "1d"},
            session=self.session,
        )
        for author in authors:
            await server.push_slash_command("join", user=author, session=self.session)
        recorder = self.bot.recorder
        await recorder.wait_refreshed()
        view = recorder.view(server.guild.id)
        enrolled = len(view.citizens) if view else 0
        if view is None or enrolled != len(authors) or channel.id not in view.channels:
            raise RuntimeError(f"set-up incomplete: the recorder sees {enrolled} of {len(authors)} citizens")

    async def _stored_rows(self) -> int:
        import sqlalchemy as sa

        from game.models import PendingMessage

        async with self.bot.engine.connect() as connection:
            count = await connection.scalar(sa.select(sa.func.count()).select_from(PendingMessage))
        return int(count or 0)

    async def measure(self, server: LoopbackDiscord, n: int, authors: list[FakeUser]) -> Measurement:
        recorder = self.bot.recorder
        rows_before = await self._stored_rows()
        target = recorder.recorded + n
        burst = await server.push_message_create(n, authors=authors, session=self.session)
        counted = await _when(lambda: recorder.recorded >= target)
        await recorder.wait_flushed()
        await recorder.flush()
        stored = Stamp.now()
        return Measurement.of(burst, counted, await self._stored_rows() - rows_before, stored)


async def _when(condition: Callable[[], bool], every: float = 0.002) -> Stamp:
    """The moment ``condition`` is seen true, checked every ``every`` s by a timer callback.

    For a counter that offers nothing to await: a few hundred cheap checks a second, and no change
    to the code being measured. The stamp is at most ``every`` late.
    """
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[Stamp] = loop.create_future()

    def check() -> None:
        if seen.done():  # the waiter gave up (a timeout)
            return
        if condition():
            seen.set_result(Stamp.now())
        else:
            loop.call_later(every, check)

    check()
    return await seen


async def _connect(server: LoopbackDiscord, bot: commands.Bot, nth_session: int) -> asyncio.Task[None]:
    """Start ``bot`` and wait until it is ready; bound it with ``asyncio.wait_for``."""
    runner = asyncio.create_task(bot.start(server.token), name=f"bench bot {nth_session}")
    ready = asyncio.ensure_future(bot.wait_until_ready())
    # If start() fails (login refused, an exception while parsing), say so instead of waiting.
    done, _ = await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
    if runner in done:
        ready.cancel()
        runner.result()
        raise RuntimeError(f"{bot!r} stopped before it was ready")
    return runner


def _print_table(n: int, runs: int, results: list[Results]) -> None:
    print(f"\nIngestion over the loopback gateway (zlib-stream): {n:,} MESSAGE_CREATE a run, {runs} runs")
    header = (
        f"{'bot':<20} {'msg/s':>7} {'range (msg/s)':>15} {'msg/CPU-s':>9} {'stored/s':>8} "
        f"{'send s':>6} {'lost':>5}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        rates = [m.rate for m in result.runs]
        spread = f"{min(rates):,.0f}-{max(rates):,.0f}"
        send = statistics.median(m.send_seconds for m in result.runs)
        stored = f"{result.stored_rate:,.0f}" if result.stored_rate else "-"
        print(
            f"{result.name:<20} {result.rate:>7,.0f} {spread:>15} {result.cpu_rate:>9,.0f} {stored:>8} "
            f"{send:>6.2f} {result.lost:>5}"
        )
    if len(results) == 2:
        ratio = results[1].rate / results[0].rate
        cpu_ratio = results[1].cpu_rate / results[0].cpu_rate
        verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
        print(
            f"\nratio Citizen Score / no-op: {ratio:.2f} wall clock ({verdict} the target {TARGET_RATIO}), "
            f"{cpu_ratio:.2f} CPU time"
        )
        if results[1].stored_rate:
            print(f"counting to stored in the database: {results[1].stored_rate / results[0].rate:.2f}")
    print(
        "\nmsg/s: median, first frame written -> last message counted (the game: by its recorder).\n"
        "msg/CPU-s: median, the same span in this process's CPU time. stored/s: until flushed to the\n"
        "database. send s: time the server took to write a burst. lost: sent - counted (the game:\n"
        "sent - stored), all runs together."
    )
    for result in results:
        print(f"each run, {result.name}: " + " / ".join(f"{m.rate:,.0f}" for m in result.runs) + " msg/s")


async def run_bench(n: int, runs: int, citizens: int, database_url: str, noop_only: bool) -> int:
    from bot.client import intents
    from bot.network import use_discord_endpoints

    timeout = 60.0 + n / 200  # generous: even 200 messages a second finishes
    async with LoopbackDiscord(citizens=citizens) as server:
        authors = list(server.guild.citizens)
        use_discord_endpoints(server.api_base, server.gateway_url)
        contenders: list[Contender] = [NoopBot(intents(), commands.when_mentioned)]
        if not noop_only:
            contenders.append(CitizenScoreBot(server, database_url))
        tasks = []
        try:
            for nth, contender in enumerate(contenders, start=1):
                tasks.append(await asyncio.wait_for(_connect(server, contender.bot, nth), timeout))
                contender.session = await server.wait_for_session(count=nth)
                await asyncio.wait_for(contender.prepare(server, authors), timeout)
                await asyncio.wait_for(contender.measure(server, WARM_UP_MESSAGES, authors), timeout)
            results = [Results(contender.name) for contender in contenders]
            for run in range(1, runs + 1):
                # A B, B A, A B, ...: neither bot always goes first, after the other's burst.
                pairs = list(zip(contenders, results, strict=True))
                for contender, result in pairs if run % 2 else reversed(pairs):
                    # Garbage left by the previous burst is collected now, not charged to this one.
                    gc.collect()
                    measurement = await asyncio.wait_for(contender.measure(server, n, authors), timeout)
                    result.runs.append(measurement)
                    log.info("run %d, %s: %.0f msg/s", run, contender.name, measurement.rate)
        finally:
            for contender in contenders:
                await contender.bot.close()
            await asyncio.gather(*tasks, return_exceptions=True)
    _print_table(n, runs, results)
    ratio_ok = len(results) < 2 or results[1].rate / results[0].rate >= TARGET_RATIO
    return 0 if ratio_ok and all(result.lost == 0 for result in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="messages a run (default 20000)")
    parser.add_argument("--runs", type=int, default=3, help="runs, medians reported (default 3)")
    parser.add_argument("--citizens", type=int, default=50, help="enrolled citizens who talk (default 50)")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--noop-only", action="store_true", help="measure only the no-op baseline")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    # discord.py warns on every start that voice is not supported; irrelevant here.
    logging.getLogger("discord.client").setLevel(logging.ERROR)
    # A burst keeps the event loop busy for seconds by design, and discord.py then warns that its
    # heartbeats are late ("Can't keep up"). Anything else from the gateway, a reconnect above all,
    # is still shown.
    logging.getLogger("discord.gateway").addFilter(lambda record: "Can't keep up" not in record.msg)
    with tempfile.TemporaryDirectory(prefix="citizen-score-bench-") as folder:
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return asyncio.run(run_bench(args.messages, args.runs, args.citizens, database_url, args.noop_only))


if __name__ == "__main__":
    sys.exit(main())
