"""The field types scenario packs are written in: keys, names, phrases, durations, penalties, credits."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from game.errors import DurationError
from game.rules.durations import compact_duration, parse_duration
from game.rules.speech import normalize_text

__all__ = [
    "Bonus",
    "Credits",
    "Duration",
    "Key",
    "Name",
    "Penalty",
    "Phrase",
    "Problems",
    "Text",
    "TopicKind",
]


class TopicKind(enum.StrEnum):
    """The three kinds of speech rule; the values are the TOML tables' names under ``[speech]``."""

    FORBIDDEN = "forbidden"
    PERMIT_REQUIRED = "permit_required"
    APPROVED = "approved"


# ---------------------------------------------------------------------------------------------------
# Field types


class Problems(ValueError):
    """Cross-field problems, each with its path relative to the model that found it."""

    def __init__(self, problems: Sequence[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(reason for _, reason in problems))
        self.problems = list(problems)


_KEY = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?")


def _check_key(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValueError(
            "must be a short key (at most 40 characters) of lowercase letters, digits, '-' or '_', "
            f"such as 'video-game' (got {value!r})"
        )
    return value


def _check_phrase(value: str) -> str:
    if not normalize_text(value):
        raise ValueError(f"must contain at least one letter or digit (got {value!r})")
    return value


def _read_duration(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DurationError:
            raise ValueError(f"must be a duration such as '15m', '2h30m' or '7d' (got {value!r})") from None
    return value


def _check_duration(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero, such as '15m'")
    if value % timedelta(seconds=1):
        raise ValueError("must be a whole number of seconds")
    return value


Key = Annotated[str, AfterValidator(_check_key)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Phrase = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_check_phrase)
]
# Written "15m", "2h30m", "7d" in TOML; stored in the same compact form in a season's JSON copy.
Duration = Annotated[
    timedelta,
    BeforeValidator(_read_duration),
    AfterValidator(_check_duration),
    PlainSerializer(compact_duration, return_type=str, when_used="json"),
]
Penalty = Annotated[int, Field(lt=0, ge=-1000)]
Bonus = Annotated[int, Field(gt=0, le=1000)]
Credits = Annotated[int, Field(ge=0, le=1_000_000)]


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
