"""The sandbox's own output: a line per audit while the season runs, then the standings table."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.sandbox._readout import AuditSummary, Standing
from game.scenario import Scenario
from game.text import signed


def game_time(elapsed: timedelta) -> str:
    minutes = int(elapsed.total_seconds() // 60)
    return f"{minutes // 60:d}:{minutes % 60:02d}"


class Progress:
    """Prints to ``stream``; ``quiet`` keeps only the standings and the report's path."""

    def __init__(self, *, quiet: bool, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stdout

    def _print(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def always(self, text: str) -> None:
        """What must be printed even when quiet (the preview's address)."""
        self._print(text)

    def say(self, text: str) -> None:
        if not self.quiet:
            self._print(text)

    def audit(self, summary: AuditSummary, *, of: int, elapsed: timedelta, messages: int) -> None:
        if self.quiet:
            return
        mover = "nobody moved"
        if summary.mover is not None and summary.mover_delta:
            mover = f"biggest mover {summary.mover} {signed(summary.mover_delta)}"
            if summary.mover_reason:
                mover += f" ({summary.mover_reason})"
        self._print(
            f"  audit {summary.number:>3}/{of:<3} at {game_time(elapsed):>6}  "
            f"citizens {summary.citizens:>3}  messages {messages:>5}  {mover}"
        )

    def standings(self, rows: Sequence[Standing], *, scenario: Scenario, personas: dict[int, str]) -> None:
        tiers = {tier.key: tier.name for tier in scenario.tiers}
        width = max([len("citizen"), *(len(row.name) for row in rows)])
        self._print()
        self._print(f"Final standings ({scenario.name}, start {scenario.score.start})")
        self._print(f"{'#':>3}  {'citizen':<{width}}  {'persona':<10}  {'score':>5}  {'change':>6}  tier")
        for row in rows:
            self._print(
                f"{row.rank:>3}  {row.name:<{width}}  {personas.get(row.user_id, 'you'):<10}  "
                f"{row.score:>5}  {signed(row.change):>6}  {tiers.get(row.tier_key, row.tier_key)}"
            )

    def report(self, html: Path, *, extra: Sequence[Path] = ()) -> None:
        others = ", ".join(path.name for path in extra)
        self._print()
        self._print(f"Report: {html}" + (f" (with {others})" if others else ""))
