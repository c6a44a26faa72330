from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game.errors import DurationError, ErrorCode, InvalidInput
from game.rules.durations import MAXIMUM_DURATION, compact_duration, describe_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("2h30m", timedelta(hours=2, minutes=30)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w", timedelta(weeks=1)),
        ("  2H 30M ", timedelta(hours=2, minutes=30)),
        ("2 hours 30 minutes", timedelta(hours=2, minutes=30)),
        ("1 day, 2 hours and 5 minutes", timedelta(days=1, hours=2, minutes=5)),
        ("30m2h", timedelta(hours=2, minutes=30)),
        ("1 sec", timedelta(seconds=1)),
    ],
)
def test_parse_duration_reads_what_people_type(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-5m", ErrorCode.DURATION_NEGATIVE),
        ("abc", ErrorCode.DURATION_UNREADABLE),
        ("", ErrorCode.DURATION_EMPTY),
        ("   ", ErrorCode.DURATION_EMPTY),
        ("0m", ErrorCode.DURATION_ZERO),
        ("0h0m", ErrorCode.DURATION_ZERO),
        ("99999d", ErrorCode.DURATION_TOO_LONG),
        ("99999999999999999999999999d", ErrorCode.DURATION_TOO_LONG),
        ("15", ErrorCode.DURATION_NO_UNIT),
        ("1h1h", ErrorCode.DURATION_UNIT_TWICE),
        ("5 parsecs", ErrorCode.DURATION_UNREADABLE),
        ("1.5h", ErrorCode.DURATION_UNREADABLE),
        ("1h30", ErrorCode.DURATION_UNREADABLE),
    ],
)
def test_parse_duration_refuses_with_what_is_wrong(text: str, code: ErrorCode) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert caught.value.code is code
    assert isinstance(caught.value, InvalidInput)


def test_parse_duration_honours_a_custom_maximum() -> None:
    assert parse_duration("1h", maximum=timedelta(hours=1)) == timedelta(hours=1)
    with pytest.raises(DurationError) as caught:
        parse_duration("61m", maximum=timedelta(hours=1))
    assert caught.value.params["maximum"] == timedelta(hours=1)


@pytest.mark.parametrize(
    ("duration", "words", "compact"),
    [
        (timedelta(hours=2, minutes=30), "2 hours 30 minutes", "2h30m"),
        (timedelta(seconds=1), "1 second", "1s"),
        (timedelta(seconds=90), "1 minute 30 seconds", "1m30s"),
        (timedelta(days=9), "1 week 2 days", "1w2d"),
        (timedelta(0), "0 seconds", "0s"),
        (timedelta(seconds=10, microseconds=900), "10 seconds", "10s"),
    ],
)
def test_describe_and_compact(duration: timedelta, words: str, compact: str) -> None:
    assert describe_duration(duration) == words
    assert compact_duration(duration) == compact


def test_describe_refuses_a_negative_duration() -> None:
    with pytest.raises(ValueError, match="negative"):
        describe_duration(timedelta(seconds=-1))


seconds = st.integers(min_value=1, max_value=int(MAXIMUM_DURATION.total_seconds()))


@given(seconds)
def test_describe_then_parse_round_trips(total: int) -> None:
    duration = timedelta(seconds=total)
    assert parse_duration(describe_duration(duration)) == duration
    assert parse_duration(compact_duration(duration)) == duration


@given(seconds)
def test_compact_form_uses_each_unit_once_largest_first(total: int) -> None:
    compact = compact_duration(timedelta(seconds=total))
    units = [c for c in compact if c.isalpha()]
    assert units == sorted(set(units), key="wdhms".index)
