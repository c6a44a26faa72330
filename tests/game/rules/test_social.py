from __future__ import annotations

import sqlite3
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game.rules.social import friend_penalty, friends_penalty_sum
from game.scenario import FriendRules, load_scenario

CLASSIC = load_scenario("classic").friends


@pytest.mark.parametrize(
    ("deltas", "expected"),
    [
        ([], 0),
        ([-30, -15], -9),  # 0.2 * -45
        ([-4], 0),  # -0.8 rounds toward zero: small cascades vanish
        ([-7], -1),  # -1.4
        ([-9], -1),  # -1.8: toward zero, not to nearest
        ([-60, 15, 8], -12),  # gains do not offset a friend's penalties
        ([-300], -50),  # the cap
        ([-250], -50),
        ([-249], -49),
    ],
)
def test_classic_friend_penalty(deltas: list[int], expected: int) -> None:
    assert friend_penalty(deltas, CLASSIC) == expected


def test_a_factor_that_floats_cannot_hold_is_exact() -> None:
    rules = FriendRules(factor=0.29, cap_per_audit=-1000, max_friends=5)
    assert 0.29 * 100 < 29  # why the factor is used as a fraction
    assert friend_penalty([-100], rules) == -29


friend_rules = st.builds(
    FriendRules,
    factor=st.integers(min_value=0, max_value=1000).map(lambda n: n / 1000),
    cap_per_audit=st.integers(min_value=-1000, max_value=0),
    max_friends=st.just(25),
)
deltas = st.lists(st.integers(min_value=-1000, max_value=1000), max_size=30)


@given(deltas, friend_rules)
def test_friend_penalty_matches_the_formula(values: list[int], rules: FriendRules) -> None:
    total = friends_penalty_sum(values)
    exact = int(Fraction(rules.factor).limit_denominator(1000) * total)  # int() truncates toward zero
    result = friend_penalty(values, rules)
    assert result == max(rules.cap_per_audit, exact)
    assert rules.cap_per_audit <= result <= 0


@given(deltas, friend_rules)
def test_the_documented_sql_agrees(values: list[int], rules: FriendRules) -> None:
    # The expression the audit's SQL is meant to use, evaluated by SQLite (PostgreSQL's integer
    # division truncates the same way).
    connection = sqlite3.connect(":memory:")
    try:
        (result,) = connection.execute(
            "SELECT CASE WHEN (:num * s) / :den < :cap THEN :cap ELSE (:num * s) / :den END "
            "FROM (SELECT COALESCE(SUM(CASE WHEN d < 0 THEN d ELSE 0 END), 0) AS s FROM "
            f"(SELECT 0 AS d WHERE 0 {''.join(f' UNION ALL SELECT {v}' for v in values)}))",
            {"num": rules.factor_numerator, "den": rules.factor_denominator, "cap": rules.cap_per_audit},
        ).fetchone()
    finally:
        connection.close()
    assert result == friend_penalty(values, rules)
