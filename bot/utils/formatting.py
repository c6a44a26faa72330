"""How the bot writes numbers, changes, durations, tiers and dimensions: one voice for every reply.

Everything here is presentation only. The game decides the values; these functions only say them in
a way that reads well on a phone (thousands separators, signs on changes, durations in words).
The other bot engineer may append helpers here; keep each one small and free of game decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

import discord

from game.models import Dimension
from game.report import score_rgb
from game.rules.durations import describe_duration
from game.text import MINUS, signed, truncate

__all__ = [
    "DIMENSION_EMOJI",
    "DIMENSION_NAMES",
    "ENROLMENT_WORDS",
    "MINUS",
    "ago",
    "credits",
    "dimension_label",
    "duration",
    "escape",
    "number",
    "plural",
    "rank",
    "score_colour",
    "signed",
    "truncate",
    "until",
]

DIMENSION_NAMES: Mapping[Dimension, str] = MappingProxyType(
    {
        Dimension.SPEECH: "Speech",
        Dimension.CONSUMPTION: "Consumption",
        Dimension.FINANCE: "Finance",
        Dimension.SOCIAL: "Social",
        Dimension.BUREAU: "Bureau",
    }
)

ENROLMENT_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "voluntary": "Voluntary: members take part with /join",
        "mandatory": "Mandatory: whoever speaks in a game channel is enrolled",
    }
)

DIMENSION_EMOJI: Mapping[Dimension, str] = MappingProxyType(
    {
        Dimension.SPEECH: "\N{SPEECH BALLOON}",
        Dimension.CONSUMPTION: "\N{SHOPPING TROLLEY}",
        Dimension.FINANCE: "\N{MONEY BAG}",
        Dimension.SOCIAL: "\N{HANDSHAKE}",
        Dimension.BUREAU: "\N{CLASSICAL BUILDING}",
    }
)


def number(value: int) -> str:
    """``1234567`` -> ``1,234,567``; negatives carry a true minus sign."""
    text = f"{abs(value):,}"
    return f"{MINUS}{text}" if value < 0 else text


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 friend``, ``3 friends``, ``1,000 credits``; ``words`` for irregular plurals."""
    return f"{number(count)} {word if count == 1 else (words or word + 's')}"


def credits(amount: int) -> str:
    return plural(amount, "credit")


def dimension_label(dimension: Dimension | str) -> str:
    """``speech`` -> ``💬 Speech``; an unknown dimension is shown as it is stored."""
    try:
        key = Dimension(dimension)
    except ValueError:
        return str(dimension).capitalize()
    return f"{DIMENSION_EMOJI[key]} {DIMENSION_NAMES[key]}"


def duration(span: timedelta, *, parts: int = 2) -> str:
    """A duration in words, to its ``parts`` largest units: ``2 hours 30 minutes``, ``3 days 4 hours``.

    Rounded down to whole seconds; under a second reads ``less than a second``.
    """
    if span < timedelta(seconds=1):
        return "less than a second"
    words = describe_duration(span).split(" ")
    # describe_duration gives "<count> <unit>" pairs, largest first.
    return " ".join(words[: 2 * parts])


def until(when: datetime, now: datetime) -> str:
    """``in 2 hours 5 minutes``, or ``now`` once the time has come."""
    if when <= now:
        return "now"
    return f"in {duration(when - now)}"


def ago(when: datetime, now: datetime) -> str:
    """``5 minutes ago``, or ``just now`` within the second."""
    if now - when < timedelta(seconds=1):
        return "just now"
    return f"{duration(now - when)} ago"


def rank(position: int, total: int) -> str:
    """``#3 of 42``."""
    return f"#{number(position)} of {number(total)}"


def score_colour(score: int, floor: int, ceiling: int) -> discord.Colour:
    """The colour of a score on the game's red-amber-green scale (shared with the debrief and images)."""
    return discord.Colour.from_rgb(*score_rgb(score, floor, ceiling))


def escape(text: str) -> str:
    """A name or a typed text as plain words in a message: no markdown, no mention that pings."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))
