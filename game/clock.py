"""Where the game gets the time from.

Rules take ``now`` as an argument; services ask a :class:`Clock`. The bot passes the system clock;
the sandbox passes the simulated Discord's clock, so a whole season can be played in a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FunctionClock:
    """A clock backed by any function that returns an aware datetime (a simulator's clock)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def now(self) -> datetime:
        value = self._now()
        if value.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)
