"""Which tier a score belongs to.

A scenario's tiers are contiguous, ascending and cover its whole score range (the scenario loader
refuses anything else), so every clamped score has exactly one tier.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from game.scenario import Tier

__all__ = ["Band", "tier_for", "tier_rank"]


class Band(Protocol):
    """Anything with a score band: a scenario's ``Tier``, the debrief's ``TierBand``."""

    @property
    def min_score(self) -> int: ...
    @property
    def max_score(self) -> int: ...


B = TypeVar("B", bound=Band)


def tier_for(score: int, tiers: Sequence[B]) -> B:
    """The tier (of ``tiers``, ascending) whose ``min_score..max_score`` holds ``score``.

    Raises ``ValueError`` for a score outside every tier: scores are clamped before they are tiered,
    so that is a bug in the caller, not something a player can cause.
    """
    index = bisect_right([tier.min_score for tier in tiers], score) - 1
    if index < 0 or score > tiers[index].max_score:
        bounds = f"{tiers[0].min_score}..{tiers[-1].max_score}" if tiers else "no tiers"
        raise ValueError(f"score {score} is outside every tier ({bounds})")
    return tiers[index]


def tier_rank(tier_key: str, tiers: Sequence[Tier]) -> int:
    """The tier's position from the bottom (0 for the lowest). Raises ``KeyError`` for an unknown key."""
    for rank, tier in enumerate(tiers):
        if tier.key == tier_key:
            return rank
    raise KeyError(tier_key)
