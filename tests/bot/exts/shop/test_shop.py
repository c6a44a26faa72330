from __future__ import annotations

import pytest
import simcord
import sqlalchemy as sa
from sqlmodel import col

from game.models import Citizen, LedgerEntry, Purchase
from tests.factories import set_balance, set_score
from tests.support.citizens import (
    Plaza,
    assert_clean,
    bot_of,
    build_plaza,
    join,
    refusal,
    reply,
    rows,
    run_audit,
    text_of,
)

NOT_A_CITIZEN = "You are not a citizen of this season yet. Use /join to enrol."


@pytest.fixture
async def plaza(sim: simcord.Env) -> Plaza:
    plaza = await build_plaza(sim)
    await join(sim, plaza, plaza.ana)
    return plaza


async def ana(sim: simcord.Env, plaza: Plaza) -> Citizen:
    [row] = await rows(sim, Citizen, Citizen.user_id == plaza.ana.id)
    return row


def item_lines(message: simcord.ResponseMessage) -> dict[str, str]:
    """``{item name: its line (and the line under it)}`` from the shop's embed."""
    found: dict[str, str] = {}
    lines = message.embeds[0].description.splitlines()
    for index, line in enumerate(lines):
        if "**" in line and " · " in line:
            name = line.split("**")[1]
            following = lines[index + 1] if index + 1 < len(lines) else ""
            found[name] = f"{line}\n{following}" if following.startswith("-#") else line
    return found


# ------------------------------------------------------------------------------------------------ /shop


async def test_shop_lists_items_at_the_citizens_prices(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "shop")

    assert result.ephemeral
    message = reply(result)
    assert message.embeds[0].description.startswith("You have **500 credits**\n")
    items = item_lines(message)
    assert items["Diapers"].startswith("**Diapers** · 30 credits · +10 consumption\n-# A pack of 40.")
    assert "effect revealed at the audit" in items["VPN subscription"]
    assert "−40" not in items["VPN subscription"], "a hidden effect stays hidden"
    assert "10 left" in items["Commemorative Bureau mug"]
    assert items["Singapore travel guide"].startswith("🚫")
    assert "sold only to holders of a travel permit" in items["Singapore travel guide"]
    assert_clean(sim)


async def test_an_untrustworthy_citizen_pays_more_and_may_not_travel(sim: simcord.Env, plaza: Plaza) -> None:
    await set_score(bot_of(sim).engine, citizen_id=(await ana(sim, plaza)).id, score=400, now=sim.now())

    message = reply(await plaza.ana.slash(plaza.square, "shop"))

    assert "Untrustworthy prices +25 %" in message.embeds[0].description
    items = item_lines(message)
    assert items["Diapers"].startswith("**Diapers** · 38 credits ~~30~~")
    assert items["High-speed rail ticket"].startswith("🚫")


async def test_shop_and_wallet_refuse_non_citizens(sim: simcord.Env, plaza: Plaza) -> None:
    assert refusal(await plaza.bo.slash(plaza.square, "shop")) == NOT_A_CITIZEN
    assert refusal(await plaza.bo.slash(plaza.square, "wallet")) == NOT_A_CITIZEN
    assert refusal(await plaza.bo.slash(plaza.square, "buy", item="diapers")) == NOT_A_CITIZEN
    assert not await rows(sim, Purchase)


# ------------------------------------------------------------------------------------------------- /buy


async def test_buy_debits_the_wallet_and_promises_the_effect(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "buy", item="diapers", quantity=2)

    assert result.ephemeral
    embed = reply(result).embeds[0]
    assert embed.title == "🛒 Bought 2 × Diapers for 60 credits"
    assert "Your score changes by **+20** at the next audit, in 15 minutes." in embed.description
    assert "You have **440 credits** left." in embed.description
    assert (await ana(sim, plaza)).balance == 440
    [purchase] = await rows(sim, Purchase)
    assert (purchase.item_key, purchase.quantity, purchase.total_price, purchase.effect) == (
        "diapers",
        2,
        60,
        20,
    )
    assert_clean(sim)


async def test_the_effect_lands_at_the_next_audit(sim: simcord.Env, plaza: Plaza) -> None:
    await plaza.ana.slash(plaza.square, "buy", item="video-game")

    await run_audit(sim, plaza)

    [entry] = await rows(sim, LedgerEntry, col(LedgerEntry.dimension) == "consumption")
    assert (entry.delta, entry.reason) == (-20, "Bought Video game: idle hands")
    assert (await ana(sim, plaza)).score == 580


async def test_a_hidden_effect_is_not_told_at_the_till(sim: simcord.Env, plaza: Plaza) -> None:
    embed = reply(await plaza.ana.slash(plaza.square, "buy", item="vpn")).embeds[0]

    assert "The Bureau will assess this purchase at the next audit" in embed.description
    assert "40" not in embed.description.replace("460", "")


async def test_buying_by_name_works_too(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "buy", item="Work boots")

    assert reply(result).embeds[0].title == "🛒 Bought Work boots for 60 credits"


@pytest.mark.parametrize("quantity", [0, -1, 10**9])
async def test_impossible_quantities_never_reach_the_till(
    sim: simcord.Env, plaza: Plaza, quantity: int
) -> None:
    # The option declares 1..99, so Discord refuses anything else before the bot hears of it.
    with pytest.raises(simcord.OptionError):
        await plaza.ana.slash(plaza.square, "buy", item="diapers", quantity=quantity)
    assert not await rows(sim, Purchase)
    assert (await ana(sim, plaza)).balance == 500


async def test_the_largest_quantity_is_checked_against_the_wallet(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "buy", item="diapers", quantity=99)

    assert refusal(result) == "You have 500 credits; 99 cost 2,970."
    assert (await ana(sim, plaza)).balance == 500
    assert not await rows(sim, Purchase)


async def test_an_unknown_item_is_refused_in_one_sentence(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "buy", item="caviar")

    assert refusal(result) == "The shop sells no “caviar”; /shop lists what it sells."
    assert_clean(sim)


async def test_a_travel_item_needs_the_permit_tier(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "buy", item="singapore-guide")

    assert "sold only to holders of a travel permit" in refusal(result)
    assert (await ana(sim, plaza)).balance == 500


async def test_stock_runs_out(sim: simcord.Env, plaza: Plaza) -> None:
    result = await plaza.ana.slash(plaza.square, "buy", item="commemorative-mug", quantity=11)

    assert refusal(result) == "Only 10 left of Commemorative Bureau mug; buy 10 or fewer."
    bought = await plaza.ana.slash(plaza.square, "buy", item="commemorative-mug", quantity=10)
    assert "0 left in the shop." in text_of(bought)
    assert refusal(await plaza.ana.slash(plaza.square, "buy", item="commemorative-mug")) == (
        "Commemorative Bureau mug is sold out."
    )


async def test_item_autocomplete_offers_the_catalogue_with_prices(sim: simcord.Env, plaza: Plaza) -> None:
    everything = await plaza.ana.autocomplete(plaza.square, "buy", "item", "")
    games = await plaza.ana.autocomplete(plaza.square, "buy", "item", "gam")
    stranger = await plaza.bo.autocomplete(plaza.square, "buy", "item", "diap")

    assert {"name": "Diapers — 30 credits", "value": "diapers"} in everything
    assert any(c["value"] == "singapore-guide" and "(not for your tier)" in c["name"] for c in everything)
    assert [c["value"] for c in games] == ["video-game"]
    # Not a citizen yet: still what the shop sells (buying it says to /join first).
    assert [c["value"] for c in stranger] == ["diapers"]
    assert refusal(await plaza.bo.slash(plaza.square, "buy", item="diapers")) == NOT_A_CITIZEN


# ---------------------------------------------------------------------------------------------- /wallet


async def test_wallet_shows_credits_and_the_next_audit(sim: simcord.Env, plaza: Plaza) -> None:
    await plaza.ana.slash(plaza.square, "buy", item="party-newspaper")

    result = await plaza.ana.slash(plaza.square, "wallet")

    assert result.ephemeral
    embed = reply(result).embeds[0]
    assert embed.description.startswith("## 480 credits\n")
    assert "Each audit pays 20 credits and charges 15 credits for living. Next audit in 15 minutes." in (
        embed.description
    )
    assert "owe" not in embed.description


async def test_wallet_shows_a_debt(sim: simcord.Env, plaza: Plaza) -> None:
    citizen = await ana(sim, plaza)
    await set_balance(bot_of(sim).engine, citizen_id=citizen.id, balance=0)
    async with bot_of(sim).transaction() as session:
        await session.exec(sa.update(Citizen).where(col(Citizen.id) == citizen.id).values(debt=1500))

    embed = reply(await plaza.ana.slash(plaza.square, "wallet")).embeds[0]

    assert embed.description.startswith("## 0 credits\n⚠ You owe **1,500 credits**.")
