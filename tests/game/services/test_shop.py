from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from game.db import transaction
from game.errors import (
    ErrorCode,
    GameError,
    InsufficientFunds,
    InvalidInput,
    NotAllowed,
    NotFound,
    OutOfStock,
)
from game.models import Citizen, Purchase, ShopItem
from game.rules.economy import RefusalReason
from game.services import seasons, shop
from tests.factories import GUILD_ID, NOW, make_citizen, make_season, set_balance, set_score, user_id
from tests.support.refusals import refused


async def _buy(engine: AsyncEngine, item: str, quantity: int = 1, n: int = 1) -> shop.PurchaseReceipt:
    async with transaction(engine) as session:
        return await shop.purchase(
            session, guild_id=GUILD_ID, user_id=user_id(n), item_key=item, quantity=quantity, now=NOW
        )


async def test_purchase_debits_and_records(engine: AsyncEngine) -> None:
    season = await make_season(engine)
    ana = await make_citizen(engine, n=1)
    receipt = await _buy(engine, "diapers", 3)
    assert (receipt.unit_price, receipt.total_price, receipt.balance_after) == (30, 90, 410)
    assert receipt.effect == 30
    assert receipt.stock_left is None
    hidden = await _buy(engine, "VPN subscription")  # by name, too
    assert hidden.effect is None
    async with transaction(engine) as session:
        rows = (await session.exec(select(Purchase).order_by(Purchase.id))).all()
        wallet = await shop.wallet(session, guild_id=GUILD_ID, user_id=ana.user_id)
    assert [(p.item_key, p.quantity, p.effect, p.audit_number, p.hidden) for p in rows] == [
        ("diapers", 3, 30, None, False),
        ("vpn", 1, -40, None, True),
    ]
    assert all(p.season_id == season.id for p in rows)
    assert (wallet.balance, wallet.debt, wallet.stipend, wallet.cost_of_living) == (370, 0, 20, 15)


async def test_stock_is_taken_and_refused_when_short(engine: AsyncEngine) -> None:
    season = await make_season(engine)
    await make_citizen(engine, n=1)
    assert (await _buy(engine, "commemorative-mug", 7)).stock_left == 3
    with refused(OutOfStock, ErrorCode.STOCK_SHORT, item="Commemorative Bureau mug", left=3):
        await _buy(engine, "commemorative-mug", 4)
    await _buy(engine, "commemorative-mug", 3)
    with refused(OutOfStock, ErrorCode.SOLD_OUT):
        await _buy(engine, "commemorative-mug")
    async with transaction(engine) as session:
        mug = (
            await session.exec(
                select(ShopItem).where(ShopItem.season_id == season.id, ShopItem.key == "commemorative-mug")
            )
        ).one()
        ana = (await session.exec(select(Citizen))).one()
    assert mug.stock == 0
    assert ana.balance == 500 - 250


async def test_refusals_and_their_messages(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana = await make_citizen(engine, n=1)
    for quantity in (0, -1, 10**9, 100):
        with refused(InvalidInput, ErrorCode.QUANTITY_OUT_OF_RANGE, maximum=99):
            await _buy(engine, "diapers", quantity)
    with refused(NotFound, ErrorCode.ITEM_NOT_SOLD, item="caviar"):
        await _buy(engine, "caviar")
    with refused(NotAllowed, ErrorCode.PURCHASE_REFUSED, refusal=RefusalReason.NO_TRAVEL_PERMIT):
        await _buy(engine, "singapore-guide")
    await set_balance(engine, citizen_id=ana.id, balance=40)
    with refused(InsufficientFunds, ErrorCode.INSUFFICIENT_FUNDS, balance=40, total=60, quantity=1):
        await _buy(engine, "video-game")
    with refused(InsufficientFunds, ErrorCode.INSUFFICIENT_FUNDS, balance=40, total=60, quantity=2):
        await _buy(engine, "diapers", 2)
    await set_score(engine, citizen_id=ana.id, score=500)  # Untrustworthy: +25 %, no travel
    with refused(NotAllowed, ErrorCode.PURCHASE_REFUSED, refusal=RefusalReason.TRAVEL_BANNED):
        await _buy(engine, "rail-ticket")
    with refused(InsufficientFunds, ErrorCode.INSUFFICIENT_FUNDS, balance=40, total=75):
        await _buy(engine, "work-boots")  # 60 credits, +25 %
    async with transaction(engine) as session:
        await seasons.pause_season(session, guild_id=GUILD_ID, now=NOW)
    with refused(NotAllowed, ErrorCode.SEASON_PAUSED, action="shop"):
        await _buy(engine, "party-newspaper")
    async with transaction(engine) as session:
        row = await session.get(Citizen, ana.id)
        purchases = (await session.exec(select(Purchase))).all()
    assert row is not None
    assert row.balance == 40  # nothing refused was charged
    assert purchases == []


async def test_tier_markup_and_catalogue(engine: AsyncEngine) -> None:
    await make_season(engine)
    ana = await make_citizen(engine, n=1)
    await set_score(engine, citizen_id=ana.id, score=500)
    async with transaction(engine) as session:
        view = await shop.catalogue(session, guild_id=GUILD_ID, user_id=ana.user_id)
    assert (view.tier_key, view.price_markup_percent, view.balance) == ("untrustworthy", 25, 500)
    lines = {line.key: line for line in view.items}
    assert [line.key for line in view.items][:3] == ["diapers", "work-boots", "party-newspaper"]
    assert (lines["diapers"].base_price, lines["diapers"].price) == (30, 38)  # 37.5 rounded up
    assert lines["vpn"].effect is None
    assert lines["rail-ticket"].refusal is not None
    assert not lines["rail-ticket"].may_buy
    assert lines["diapers"].may_buy
    receipt = await _buy(engine, "diapers", 2)
    assert (receipt.unit_price, receipt.total_price) == (38, 76)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.integers(min_value=0, max_value=300),
    orders=st.lists(
        st.tuples(
            st.sampled_from(["diapers", "work-boots", "party-newspaper", "commemorative-mug", "vpn"]),
            st.integers(min_value=-2, max_value=120),
        ),
        max_size=12,
    ),
)
async def test_no_purchase_sequence_leaves_a_negative_balance(
    engine: AsyncEngine, start: int, orders: list[tuple[str, int]]
) -> None:
    """Whatever is bought, in whatever quantities, the balance stays >= 0 and equals start minus what
    was paid; a refused purchase charges nothing."""
    async with transaction(engine) as session:
        current = await seasons.current_season(session, guild_id=GUILD_ID)
    if current is None:
        await make_season(engine)
    async with transaction(engine) as session:
        existing = (await session.exec(select(Citizen).where(Citizen.user_id == user_id(1)))).first()
    ana = existing or await make_citizen(engine, n=1)
    await set_balance(engine, citizen_id=ana.id, balance=start)
    paid = 0
    for item, quantity in orders:
        with contextlib.suppress(GameError):
            paid += (await _buy(engine, item, quantity)).total_price
        async with transaction(engine) as session:
            row = await session.get(Citizen, ana.id)
        assert row is not None
        assert row.balance >= 0
        assert row.balance == start - paid
