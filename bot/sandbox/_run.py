"""``citizen-score sandbox``: a whole season, offline, in a simulated server, then its debrief.

The bot is the real one, built by ``create_bot`` exactly as ``citizen-score run`` builds it, on a
SQLite file in a temporary folder, with SimCord's clock as the game's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import math
import random
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import simcord

from bot.app import create_bot
from bot.client import CitizenBot
from bot.errors import user_message
from bot.sandbox._driver import SeasonDriver, SeasonPlan, Tally
from bot.sandbox._progress import Progress
from bot.sandbox._readout import Standing, standings
from bot.sandbox._world import build_world
from bot.settings import Settings
from game.clock import Clock, FunctionClock
from game.errors import GameError
from game.report import ReportFiles, write_report
from game.report.build import build_report_data
from game.rules.durations import describe_duration
from game.scenario import Scenario, load_scenario

MAX_CITIZENS = 200
AUDITS = 24
TICKS_PER_AUDIT = 2
AUDIT_STEP = timedelta(seconds=10)
SETTLE_POLL_S = 0.002
# How long SimCord waits for the bot to finish what a move of the clock set off. The season's end
# draws the debrief's charts in a worker thread within that move: seconds on a busy machine, where
# SimCord's default (5 s) is meant for tests.
SETTLE_TIMEOUT_S = 60.0
# The bot's name in the simulated server (SimCord's own default is "TestBot").
BOT_NAME = "Citizen Score"
# Where a run's report goes when --out is not given: a fresh folder under this one, per run.
REPORTS = Path("sandbox-report")
# The preview's season, in real minutes, when --minutes is not given.
PREVIEW_MINUTES = 25.0


class SandboxEnv(simcord.Env):
    """SimCord, polling for settled work every 2 ms instead of 50.

    SimCord 3.2 sleeps its whole idle interval whenever a finished task's done-callback is still
    queued, which is after nearly every action: 50 ms a message or command, 10x the bot's own work
    (measured: 200 messages 10.9 s -> 1.0 s; 15 game minutes of the bot's loops 1.08 s -> 0.45 s).
    The interval only sets how often SimCord looks again; what settles, and when, is unchanged.
    """

    async def _settle_internal(self, *, idle: float = SETTLE_POLL_S, **options: Any) -> None:
        await super()._settle_internal(idle=idle, **options)


def simulator(bot: CitizenBot) -> simcord.Env:
    """SimCord around ``bot``; the plain ``simcord.Env`` if this SimCord settles differently."""
    if "idle" in inspect.signature(simcord.Env._settle_internal).parameters:
        return SandboxEnv(bot, settle_timeout=SETTLE_TIMEOUT_S)
    return simcord.Env(bot, settle_timeout=SETTLE_TIMEOUT_S)


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxConfig:
    citizens: int = 12
    hours: float = 2.0
    scenario: str = "classic"
    seed: int = 2015
    out: Path = REPORTS
    quiet: bool = False
    audits: int = AUDITS  # not on the command line: tests play shorter seasons
    # The preview only: how many real minutes the season lasts (the game's clock keeps pace).
    minutes: float = PREVIEW_MINUTES

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, now: datetime | None = None) -> SandboxConfig:
        """The command line's choices. In the preview the season lasts ``--minutes`` real minutes, and
        unless ``--hours`` says otherwise the game's clock runs at real speed, so what the bot says
        ("next audit in 1 minute") is what the person at the page sees happen. Without ``--out`` each
        run writes to a folder of its own under ``sandbox-report/``."""
        minutes = args.minutes if args.minutes is not None else PREVIEW_MINUTES
        hours = args.hours if args.hours is not None else (minutes / 60 if args.preview else 2.0)
        out = (
            Path(args.out)
            if args.out is not None
            else run_folder(REPORTS, args, now or datetime.now().astimezone())
        )
        return cls(
            citizens=args.citizens,
            hours=hours,
            scenario=args.scenario,
            seed=args.seed,
            out=out,
            quiet=args.quiet,
            minutes=minutes,
        )

    def problems(self) -> list[str]:
        found = []
        if not 2 <= self.citizens <= MAX_CITIZENS:
            found.append(f"--citizens must be between 2 and {MAX_CITIZENS} (got {self.citizens})")
        if not 1 <= self.audits <= 500:
            found.append(f"audits must be between 1 and 500 (got {self.audits})")
        if not 0 < self.hours <= 24 * 14:
            found.append(f"--hours must be above 0 and at most two weeks (got {self.hours:g})")
        if not 1 <= self.minutes <= 24 * 60:
            found.append(f"--minutes must be between 1 and a day's 1440 (got {self.minutes:g})")
        return found


def run_folder(parent: Path, args: argparse.Namespace, now: datetime) -> Path:
    """``sandbox-report/2026-12-03-1745-classic-seed2015``: a run never overwrites another's report
    (a second run in the same minute gets ``-2``)."""
    base = f"{now:%Y-%m-%d-%H%M}-{args.scenario}-seed{args.seed}"
    folder, copy = parent / base, 1
    while folder.exists():
        copy += 1
        folder = parent / f"{base}-{copy}"
    return folder


def plan_for(scenario: Scenario, hours: float, audits: int = AUDITS) -> SeasonPlan:
    """``audits`` audits over the season, however long (never more often than the scenario allows):
    an accelerated clock, so a short sandbox season still has a story to chart."""
    length = timedelta(minutes=max(1, round(hours * 60)))
    # Whole tens of seconds: the ticks divide the interval evenly, so the clock stops exactly when an
    # audit is due, and the audits fall on the bot's own 10-second heartbeat as well.
    step = AUDIT_STEP.total_seconds()
    audit_every = timedelta(seconds=step * math.ceil(length.total_seconds() / audits / step))
    audit_every = min(max(audit_every, scenario.season.min_audit_interval), length)
    tick = audit_every / TICKS_PER_AUDIT
    return SeasonPlan(scenario=scenario, length=length, audit_every=audit_every, tick=tick)


@dataclass
class SandboxResult:
    """What a sandbox season left behind, for the CLI and the tests."""

    scenario: Scenario
    plan: SeasonPlan
    season_id: int
    standings: list[Standing]
    personas: dict[int, str]
    files: ReportFiles
    tally: Tally
    cogs: frozenset[str]
    extensions: frozenset[str]
    bot_errors: list[BaseException] = field(default_factory=list)
    debrief_from_bot: bool = False  # the files are those the bot posted at the season's end


def sandbox_settings(database: Path) -> Settings:
    """Settings for the offline bot: never a token, never the .env's database."""
    return Settings(discord_token=None, database_url=f"sqlite+aiosqlite:///{database}", _env_file=None)


def build_bot(database: Path, clock: Clock) -> CitizenBot:
    return create_bot(sandbox_settings(database), clock=clock)


def unexpected(errors: list[BaseException]) -> list[BaseException]:
    """Errors that are bugs: SimCord also records the friendly refusals (a GameError, a failed check)
    that the bot turned into a sentence for the member."""
    return [error for error in errors if not isinstance(error, GameError) and user_message(error) is None]


class Sandbox:
    """One sandbox season's machinery: the bot, SimCord around it, the simulated server, the driver.

    ``async with Sandbox(config, progress=...) as sandbox: result = await sandbox.play()``. With
    ``visitor=True`` the server also has a member for a person at the browser preview, who is not
    enrolled: they ``/join`` like anyone else.
    """

    def __init__(self, config: SandboxConfig, *, progress: Progress, visitor: bool = False) -> None:
        self.config = config
        self.progress = progress
        self.scenario = load_scenario(config.scenario)
        self.plan = plan_for(self.scenario, config.hours, config.audits)
        self.rng = random.Random(config.seed)
        self._visitor = visitor
        self._folder = tempfile.TemporaryDirectory(prefix="citizen-score-sandbox-")
        # The game's clock is SimCord's (read at call time: the simulator needs the bot first).
        self.bot = build_bot(Path(self._folder.name) / "sandbox.db", FunctionClock(lambda: self.env.now()))
        self.env = simulator(self.bot)
        self.env.backend.bot_user.name = BOT_NAME
        self._started = False

    async def __aenter__(self) -> Sandbox:
        try:
            await self.env.start()
            self._started = True
            # The game's clock is SimCord's, not the wall clock, so the season scheduler adds no
            # wall-clock APScheduler jobs: the driver calls season_scheduler.run_pending after each move
            # of the clock, as the bot's heartbeat does.
            self.world = build_world(self.env, self.config.citizens, visitor=self._visitor)
        except BaseException:
            await self.aclose()
            raise
        self.driver = SeasonDriver(
            env=self.env,
            bot=self.bot,
            world=self.world,
            plan=self.plan,
            rng=self.rng,
            progress=self.progress,
            shared=self._visitor,
        )
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        try:
            await self.bot.close()
            if self._started:
                await self.env.shutdown()
        finally:
            self._folder.cleanup()

    async def play(
        self, *, between_ticks: Callable[[], Awaitable[None]] | None = None, steps_per_tick: int = 1
    ) -> SandboxResult:
        """Set up, play the season to its end, write the report; the standings come with the result."""
        config, plan = self.config, self.plan
        self.progress.say(
            f"Citizen Score sandbox: {config.citizens} citizens play {self.scenario.name} for "
            f"{describe_duration(plan.length)} of game time, audits every "
            f"{describe_duration(plan.audit_every)} (seed {config.seed})"
        )
        driver = self.driver
        await driver.set_up()
        await driver.play(between_ticks=between_ticks, steps_per_tick=steps_per_tick)
        await driver.end()
        assert driver.season_id is not None
        debrief = await driver.collect_debrief()
        if debrief:
            files = await asyncio.to_thread(save_debrief, debrief, config.out)
        else:
            self.progress.always(
                "The bot posted no debrief in #bureau at the season's end; writing the report here instead."
            )
            files = await write_season_report(
                self.bot, driver.season_id, config.out, guild_name=self.world.guild.name, now=self.env.now()
            )
        rows = await standings(self.bot.engine, driver.season_id, self.scenario.score.start)
        return SandboxResult(
            scenario=self.scenario,
            plan=plan,
            season_id=driver.season_id,
            standings=rows,
            personas={c.actor.id: c.persona.key for c in self.world.citizens},
            files=files,
            tally=driver.tally,
            cogs=frozenset(self.bot.cogs),
            extensions=frozenset(self.bot.extensions),
            bot_errors=unexpected(self.env.errors),
            debrief_from_bot=bool(debrief),
        )


async def play_season(config: SandboxConfig, *, progress: Progress) -> SandboxResult:
    async with Sandbox(config, progress=progress) as sandbox:
        return await sandbox.play()


def save_debrief(debrief: dict[str, bytes], out: Path) -> ReportFiles:
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(html=out / "report.html", csv=out / "ledger.csv", json=out / "ledger.json")
    for path in (files.html, files.csv, files.json):
        path.write_bytes(debrief[path.name])
    return files


async def write_season_report(
    bot: CitizenBot, season_id: int, out: Path, *, guild_name: str, now: datetime
) -> ReportFiles:
    """The debrief, written here; dated by the game's clock, so a seed always gives the same files."""
    async with bot.reading() as session:
        data = await build_report_data(session, season_id, guild_name=guild_name, now=now)
    return await asyncio.to_thread(write_report, data, out)
