"""Score arithmetic and the shop's terms: clamping, a tier's prices, who may buy what.

Clamping: a score never leaves the scenario's range; the ledger records the delta *actually applied*
(``ScoreChange.applied``), so ``start + sum(applied deltas) == score`` holds even at the bounds.

Prices: a tier's ``price_markup_percent`` raises (or, if negative, lowers) every price; the result is
rounded up to a whole credit, because the Bureau rounds in its own favour. A price never goes below 0.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from game.rules.tiers import tier_rank

if TYPE_CHECKING:
    from game.scenario import CatalogueItem, ScoreRules, Tier

__all__ = [
    "PurchaseRefusal",
    "RefusalReason",
    "ScoreChange",
    "apply_delta",
    "clamp_score",
    "effective_price",
    "may_buy",
    "purchase_refusal",
]


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """A delta applied to a score: what was asked, what the clamp let through, before and after."""

    before: int
    after: int
    requested: int

    @property
    def applied(self) -> int:
        return self.after - self.before

    @property
    def clamped(self) -> bool:
        return self.applied != self.requested


def clamp_score(score: int, rules: ScoreRules) -> int:
    """``score`` held within ``rules.minimum..rules.maximum``."""
    if score < rules.minimum:
        return rules.minimum
    if score > rules.maximum:
        return rules.maximum
    return score


def apply_delta(score: int, delta: int, rules: ScoreRules) -> ScoreChange:
    """Apply ``delta`` to ``score`` and clamp; the ledger stores ``.applied``, not ``delta``."""
    return ScoreChange(before=score, after=clamp_score(score + delta, rules), requested=delta)


def effective_price(item: CatalogueItem, tier: Tier) -> int:
    """The unit price ``item`` costs a citizen of ``tier``: the markup applied, rounded up, never below 0."""
    scaled = item.price * (100 + tier.price_markup_percent)
    return max(0, -(-scaled // 100))


class RefusalReason(enum.StrEnum):
    TIER_TOO_LOW = "tier_too_low"
    TRAVEL_BANNED = "travel_banned"
    NO_TRAVEL_PERMIT = "no_travel_permit"


@dataclass(frozen=True, slots=True)
class PurchaseRefusal:
    """Why a tier may not buy an item, with a sentence for the citizen."""

    reason: RefusalReason
    message: str


def purchase_refusal(item: CatalogueItem, tier: Tier, tiers: Sequence[Tier]) -> PurchaseRefusal | None:
    """``None`` if a citizen of ``tier`` may buy ``item``, else the first rule that forbids it.

    Checked in this order: the tier's travel ban (for travel items), the item's need for a travel
    permit, the item's minimum tier. Stock and the wallet are the shop's business, not the tier's.
    """
    if item.travel and tier.travel_banned:
        return PurchaseRefusal(
            RefusalReason.TRAVEL_BANNED,
            f"Citizens rated {tier.name} may not buy travel items such as {item.name}. "
            "Raise your score to travel.",
        )
    if item.requires_travel_permit and not tier.travel_permit:
        holders = [t.name for t in tiers if t.travel_permit]
        where = f" (from {holders[0]} up)" if holders else ""
        return PurchaseRefusal(
            RefusalReason.NO_TRAVEL_PERMIT,
            f"{item.name} is sold only to holders of a travel permit{where}; you are rated {tier.name}.",
        )
    if item.min_tier is not None and tier_rank(tier.key, tiers) < tier_rank(item.min_tier, tiers):
        needed = tiers[tier_rank(item.min_tier, tiers)]
        return PurchaseRefusal(
            RefusalReason.TIER_TOO_LOW,
            f"{item.name} is sold from {needed.name} up; you are rated {tier.name}.",
        )
    return None


def may_buy(item: CatalogueItem, tier: Tier, tiers: Sequence[Tier]) -> bool:
    return purchase_refusal(item, tier, tiers) is None
