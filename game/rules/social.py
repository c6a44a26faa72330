"""Friends' penalties: the reference for the audit's set-based SQL.

For one citizen in one audit::

    friend_penalty = max(cap, trunc(k * S))

where ``S`` is the sum of the *negative* deltas (penalties) their friends received in steps 1-3 of
that audit (speech, consumption, finance) - gains do not offset them, and social penalties never feed
another round (one hop, no echo back). ``trunc`` rounds toward zero: a cascade smaller than one whole
point is dropped ("the Bureau does not deal in fractions"). ``cap`` is ``<= 0``.

``k`` is exact: a scenario's factor has at most three decimals and is used as the fraction
``factor_numerator / factor_denominator`` (0.2 is 1/5). In SQL, on SQLite and PostgreSQL alike::

    CASE WHEN (:num * s) / :den < :cap THEN :cap ELSE (:num * s) / :den END

with integer ``s``, ``:num`` and ``:den``: integer division truncates toward zero on both engines,
which is exactly ``trunc`` here. Float arithmetic would not be (0.29 * 100 = 28.999...).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from game.scenario import FriendRules

__all__ = ["friend_penalty", "friends_penalty_sum"]


def friends_penalty_sum(friend_deltas: Iterable[int]) -> int:
    """``S``: the sum of the negative deltas among ``friend_deltas`` (positives are ignored)."""
    return sum(delta for delta in friend_deltas if delta < 0)


def friend_penalty(friend_deltas: Iterable[int], rules: FriendRules) -> int:
    """What one citizen loses because of their friends this audit: ``max(cap, trunc(k * S))``, ``<= 0``.

    ``friend_deltas`` are the ledger deltas (as applied) of the citizen's friends' speech, consumption
    and finance entries in this audit, in any order; positive ones do not count.
    """
    total = friends_penalty_sum(friend_deltas)
    # S <= 0 and num, den > 0: negate so Python's floor division truncates toward zero.
    scaled = -((-total * rules.factor_numerator) // rules.factor_denominator)
    return max(rules.cap_per_audit, scaled)
