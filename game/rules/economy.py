"""Score arithmetic, an audit's finances and the shop's terms: clamping, paying, a tier's prices.

Clamping: a score never leaves the scenario's range; the ledger records the delta *actually applied*
(``ScoreChange.applied``), so ``start + sum(applied deltas) == score`` holds even at the bounds.
:func:`clamp` is the one place that says how; the audit's hot loop and every single change call it.

Finances (:func:`settle_finances`): each audit pays the stipend first, then takes what is owed (old
debt, then this audit's cost of living); what cannot be paid stays as debt and costs the unpaid
penalty. A balance never goes below zero.

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
    "clamp",
    "clamp_score",
    "effective_price",
    "may_buy",
    "purchase_refusal",
    "settle_finances",
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


def clamp(score: int, low: int, high: int) -> int:
    """``score`` held within ``low..high``."""
    if score < low:
        return low
    if score > high:
        return high
    return score


def clamp_score(score: int, rules: ScoreRules) -> int:
    """``score`` held within ``rules.minimum..rules.maximum``."""
    return clamp(score, rules.minimum, rules.maximum)


def settle_finances(*, balance: int, debt: int, stipend: int, cost_of_living: int) -> tuple[int, int, bool]:
    """One audit's finances for one citizen: ``(balance, debt, unpaid)`` afterwards.

    ``unpaid`` is True when the citizen could not pay everything owed: they get the unpaid penalty.
    """
    balance += stipend
    owed = debt + cost_of_living
    if balance >= owed:
        return balance - owed, 0, False
    return 0, owed - balance, True


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
    """Why a tier may not buy an item: the rule, the item's and the tier's names, and for
    ``TIER_TOO_LOW`` and ``NO_TRAVEL_PERMIT`` the lowest tier that may (``None`` if none may)."""

    reason: RefusalReason
    item: str
    tier: str
    needed_tier: str | None = None


def purchase_refusal(item: CatalogueItem, tier: Tier, tiers: Sequence[Tier]) -> PurchaseRefusal | None:
    """``None`` if a citizen of ``tier`` may buy ``item``, else the first rule that forbids it.

    Checked in this order: the tier's travel ban (for travel items), the item's need for a travel
    permit, the item's minimum tier. Stock and the wallet are the shop's business, not the tier's.
    """
    if item.travel and tier.travel_banned:
        return PurchaseRefusal(RefusalReason.TRAVEL_BANNED, item.name, tier.name)
    if item.requires_travel_permit and not tier.travel_permit:
        holders = [t.name for t in tiers if t.travel_permit]
        return PurchaseRefusal(
            RefusalReason.NO_TRAVEL_PERMIT, item.name, tier.name, holders[0] if holders else None
        )
    if item.min_tier is not None and tier_rank(tier.key, tiers) < tier_rank(item.min_tier, tiers):
        needed = tiers[tier_rank(item.min_tier, tiers)]
        return PurchaseRefusal(RefusalReason.TIER_TOO_LOW, item.name, tier.name, needed.name)
    return None


def may_buy(item: CatalogueItem, tier: Tier, tiers: Sequence[Tier]) -> bool:
    return purchase_refusal(item, tier, tiers) is None
