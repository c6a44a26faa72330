"""``citizen-score sandbox``: check the options, then play a season in the terminal or in the preview."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.logs import configure_logging
from bot.sandbox._preview import run_preview
from bot.sandbox._progress import Progress
from bot.sandbox._run import SandboxConfig, play_season
from game.errors import GameError
from game.scenario import load_scenario


def run_sandbox(args: argparse.Namespace) -> int:
    config = SandboxConfig.from_args(args)
    problems = config.problems()
    if args.minutes is not None and not args.preview:
        problems.append("--minutes sets the preview's pace: add --preview, or set the length with --hours")
    if problems:
        for problem in problems:
            print(f"citizen-score sandbox: {problem}", file=sys.stderr)
        return 2
    try:
        load_scenario(config.scenario)
    except GameError as error:
        print(f"citizen-score sandbox: {error}", file=sys.stderr)
        return 2
    configure_logging("WARNING")
    progress = Progress(quiet=config.quiet)
    if args.preview:
        return run_preview(config, progress=progress)
    result = asyncio.run(play_season(config, progress=progress))
    progress.standings(result.standings, scenario=result.scenario, personas=result.personas)
    progress.report(result.files.html, extra=(result.files.csv, result.files.json))
    for bug in result.bot_errors:
        print(f"citizen-score sandbox: the bot raised {bug!r} (see the log above)", file=sys.stderr)
    return 1 if result.bot_errors else 0
