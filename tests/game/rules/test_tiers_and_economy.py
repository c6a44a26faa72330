from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game.rules.economy import RefusalReason, apply_delta, clamp_score, effective_price, purchase_refusal
from game.rules.tiers import tier_for, tier_rank
from game.scenario import Scenario, available_scenarios, load_scenario, with_item_added

PACKS = [summary.key for summary in available_scenarios()]
CLASSIC = load_scenario("classic")


@pytest.mark.parametrize("key", PACKS)
def test_every_score_in_range_has_exactly_one_tier(key: str) -> None:
    scenario = load_scenario(key)
    for score in range(scenario.score.minimum, scenario.score.maximum + 1):
        holders = [t for t in scenario.tiers if t.min_score <= score <= t.max_score]
        assert holders == [tier_for(score, scenario.tiers)]


@given(st.integers(min_value=350, max_value=950))
def test_tier_for_covers_every_classic_score(score: int) -> None:
    tier = CLASSIC.tier_for(score)
    assert tier.min_score <= score <= tier.max_score


@pytest.mark.parametrize(
    ("score", "key"),
    [
        (350, "untrustworthy"),
        (549, "untrustworthy"),
        (550, "ordinary"),
        (600, "ordinary"),
        (650, "trustworthy"),
        (699, "trustworthy"),
        (700, "travel-permit"),
        (750, "visa"),
        (849, "visa"),
        (850, "model-citizen"),
        (950, "model-citizen"),
    ],
)
def test_classic_tier_boundaries(score: int, key: str) -> None:
    assert CLASSIC.tier_for(score).key == key


@pytest.mark.parametrize("score", [349, 951, -5])
def test_a_score_outside_the_range_is_a_bug(score: int) -> None:
    with pytest.raises(ValueError, match="outside every tier"):
        tier_for(score, CLASSIC.tiers)


def test_tier_rank() -> None:
    assert tier_rank("untrustworthy", CLASSIC.tiers) == 0
    assert tier_rank("model-citizen", CLASSIC.tiers) == 5
    with pytest.raises(KeyError):
        tier_rank("emperor", CLASSIC.tiers)


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_clamp_keeps_the_score_in_range(value: int) -> None:
    clamped = clamp_score(value, CLASSIC.score)
    assert 350 <= clamped <= 950
    if 350 <= value <= 950:
        assert clamped == value


@given(st.integers(min_value=350, max_value=950), st.lists(st.integers(min_value=-200, max_value=200)))
def test_applied_deltas_add_up_to_the_score(start: int, deltas: list[int]) -> None:
    score = start
    applied = 0
    for delta in deltas:
        change = apply_delta(score, delta, CLASSIC.score)
        assert change.before == score
        assert 350 <= change.after <= 950
        assert change.clamped == (change.applied != delta)
        applied += change.applied
        score = change.after
    assert start + applied == score


def test_apply_delta_at_the_bounds() -> None:
    change = apply_delta(940, 30, CLASSIC.score)
    assert (change.after, change.applied, change.requested, change.clamped) == (950, 10, 30, True)
    assert apply_delta(360, -60, CLASSIC.score).applied == -10


@pytest.mark.parametrize(
    ("item", "tier", "price"),
    [
        ("video-game", "ordinary", 60),
        ("video-game", "untrustworthy", 75),  # +25 %
        ("diapers", "untrustworthy", 38),  # 37.5, rounded up: the Bureau rounds in its own favour
        ("party-newspaper", "model-citizen", 20),
    ],
)
def test_effective_price(item: str, tier: str, price: int) -> None:
    assert effective_price(CLASSIC.item(item), CLASSIC.tier(tier)) == price


def test_a_discount_rounds_up_too() -> None:
    night = load_scenario("game-night")
    # 25 credits at -10 % is 22.5: 23.
    tea = night.item("green-tea")
    assert effective_price(tea.model_copy(update={"price": 25}), night.tier("model-citizen")) == 23


def _refusal(scenario: Scenario, item: str, tier: str) -> RefusalReason | None:
    refusal = purchase_refusal(scenario.item(item), scenario.tier(tier), scenario.tiers)
    return None if refusal is None else refusal.reason


def test_travel_rules() -> None:
    assert _refusal(CLASSIC, "rail-ticket", "untrustworthy") is RefusalReason.TRAVEL_BANNED
    assert _refusal(CLASSIC, "rail-ticket", "ordinary") is None
    assert _refusal(CLASSIC, "singapore-guide", "untrustworthy") is RefusalReason.TRAVEL_BANNED
    assert _refusal(CLASSIC, "singapore-guide", "trustworthy") is RefusalReason.NO_TRAVEL_PERMIT
    assert _refusal(CLASSIC, "singapore-guide", "travel-permit") is None
    assert _refusal(CLASSIC, "video-game", "untrustworthy") is None


def test_minimum_tier() -> None:
    scenario = with_item_added(
        CLASSIC,
        {"key": "lounge-pass", "name": "Departure lounge pass", "price": 10, "effect": 1, "reason": "poise",
         "min_tier": "visa"},
    )  # fmt: skip
    assert _refusal(scenario, "lounge-pass", "travel-permit") is RefusalReason.TIER_TOO_LOW
    assert _refusal(scenario, "lounge-pass", "visa") is None
    assert _refusal(scenario, "lounge-pass", "model-citizen") is None
    refusal = purchase_refusal(scenario.item("lounge-pass"), scenario.tier("ordinary"), scenario.tiers)
    assert refusal is not None
    assert (refusal.item, refusal.tier, refusal.needed_tier) == ("Departure lounge pass", "Ordinary", "Visa")
