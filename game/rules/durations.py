"""Durations as people type them (``2h30m``, ``1d12h``, ``90s``) and as people read them.

``parse_duration`` is what moderators type into ``/season start`` and ``/permit``; ``describe_duration``
is what the bot says back ("2 hours 30 minutes"); ``compact_duration`` is the short form stored in a
season's copy of its scenario ("2h30m"). All three work in whole seconds and round-trip:
``parse_duration(describe_duration(d)) == parse_duration(compact_duration(d)) == d``.
"""

from __future__ import annotations

import re
from datetime import timedelta

from game.errors import DurationError, ErrorCode

__all__ = ["MAXIMUM_DURATION", "compact_duration", "describe_duration", "parse_duration"]

# A year of surveillance is plenty; past it a typo ("99999d") is likelier than a plan.
MAXIMUM_DURATION = timedelta(weeks=52)


# Seconds per unit, largest first: the order describe and compact use.
_UNITS: tuple[tuple[str, str, int], ...] = (
    ("w", "week", 7 * 24 * 3600),
    ("d", "day", 24 * 3600),
    ("h", "hour", 3600),
    ("m", "minute", 60),
    ("s", "second", 1),
)

_UNIT_WORDS: dict[str, str] = {
    "w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
    "d": "d", "day": "d", "days": "d",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
}  # fmt: skip

_SECONDS = {short: seconds for short, _, seconds in _UNITS}
_PART = re.compile(r"(\d+)\s*([a-z]+)")
# Between parts: spaces, commas and the word "and" ("1 day, 2 hours and 5 minutes").
_FILLER = re.compile(r"(?:\s|,|\band\b)*")


def parse_duration(text: str, *, maximum: timedelta = MAXIMUM_DURATION) -> timedelta:
    """Read a duration such as ``90s``, ``15m``, ``2h``, ``1d12h``, ``1w`` or ``2 hours 30 minutes``.

    Each unit may appear once. Raises :class:`DurationError` (its code says what is wrong)
    for an empty, unreadable, negative, zero or longer-than-``maximum`` duration.
    """
    cleaned = text.strip().lower()
    if not cleaned:
        raise DurationError(ErrorCode.DURATION_EMPTY)
    if cleaned.startswith("-"):
        raise DurationError(ErrorCode.DURATION_NEGATIVE)
    if cleaned.isdigit():
        raise DurationError(ErrorCode.DURATION_NO_UNIT, text=text.strip(), number=cleaned)
    total = 0
    seen: set[str] = set()
    position = _FILLER.match(cleaned, 0)
    index = position.end() if position else 0
    while index < len(cleaned):
        part = _PART.match(cleaned, index)
        unit = _UNIT_WORDS.get(part.group(2)) if part else None
        if part is None or unit is None:
            raise DurationError(ErrorCode.DURATION_UNREADABLE, text=text.strip())
        if unit in seen:
            raise DurationError(ErrorCode.DURATION_UNIT_TWICE, text=text.strip())
        seen.add(unit)
        total += int(part.group(1)) * _SECONDS[unit]
        filler = _FILLER.match(cleaned, part.end())
        index = filler.end() if filler else part.end()
    if total == 0:
        raise DurationError(ErrorCode.DURATION_ZERO)
    # Compare in whole seconds first: timedelta itself overflows on absurd input ("99999999999999d").
    if total > maximum.total_seconds():
        raise DurationError(ErrorCode.DURATION_TOO_LONG, text=text.strip(), maximum=maximum)
    return timedelta(seconds=total)


def _split(duration: timedelta) -> list[tuple[str, str, int]]:
    seconds = int(duration.total_seconds())
    if seconds < 0:
        raise ValueError(f"a negative duration cannot be described: {duration!r}")
    parts: list[tuple[str, str, int]] = []
    for short, word, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append((short, word, count))
    return parts


def describe_duration(duration: timedelta) -> str:
    """Say a duration for people: ``2 hours 30 minutes``, ``1 week 2 days``, ``0 seconds``.

    Fractions of a second are dropped. Raises ``ValueError`` for a negative duration (a bug, not input).
    """
    parts = _split(duration)
    if not parts:
        return "0 seconds"
    return " ".join(f"{count} {word}{'' if count == 1 else 's'}" for _, word, count in parts)


def compact_duration(duration: timedelta) -> str:
    """The short form of a duration: ``2h30m``, ``1w2d``, ``0s``. Fractions of a second are dropped."""
    parts = _split(duration)
    if not parts:
        return "0s"
    return "".join(f"{count}{short}" for short, _, count in parts)
