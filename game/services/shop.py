"""The shop: the catalogue as a citizen's tier sees it, purchases, the wallet.

A purchase never reads a balance and then writes it. Inside one savepoint it takes the stock with
one conditional UPDATE (``stock >= :q``) and debits the wallet with another
(``UPDATE citizen SET balance = balance - :p WHERE id = :id AND balance >= :p RETURNING balance``);
either refusing rolls both back. However many purchases race on one wallet, on SQLite or
PostgreSQL, none overspends. The score effect is recorded on a ``purchase`` row for the next audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import ErrorCode, InsufficientFunds, InvalidInput, NotAllowed, NotFound, OutOfStock
from game.models import Citizen, Dimension, Purchase, Season, ShopItem
from game.rules.economy import PurchaseRefusal, effective_price, purchase_refusal
from game.scenario import CatalogueItem, Scenario, Tier
from game.services.decrees import scenario_in_force
from game.services.lookup import hold_citizens, require_citizen_row, require_live_season_row, scenario_of
from game.services.permits import require_running

__all__ = [
    "MAX_QUANTITY",
    "Catalogue",
    "CatalogueLine",
    "OutOfStock",
    "PurchaseReceipt",
    "Wallet",
    "catalogue",
    "purchase",
    "wallet",
]

MAX_QUANTITY = 99


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueLine:
    """An item as one citizen sees it. ``price`` is theirs (tier markup applied); ``effect`` is
    ``None`` when hidden until the audit; ``refusal`` says why their tier may not buy it."""

    key: str
    name: str
    description: str
    base_price: int
    price: int
    effect: int | None
    dimension: Dimension
    stock: int | None
    travel: bool
    min_tier: str | None
    refusal: PurchaseRefusal | None
    affordable: bool

    @property
    def may_buy(self) -> bool:
        return self.refusal is None and self.stock != 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalogue:
    tier_key: str
    tier_name: str
    price_markup_percent: int
    balance: int
    items: tuple[CatalogueLine, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchaseReceipt:
    purchase_id: int
    item_key: str
    item_name: str
    quantity: int
    unit_price: int
    total_price: int
    balance_after: int
    stock_left: int | None
    # None when the effect is hidden until the audit.
    effect: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Wallet:
    balance: int
    debt: int
    stipend: int
    cost_of_living: int
    next_audit_at: datetime


def _item(scenario: Scenario, row: ShopItem) -> CatalogueItem:
    """The rules' view of a shop row (the season's catalogue entry, at the row's current price)."""
    try:
        return scenario.item(row.key).model_copy(update={"price": row.price})
    except KeyError:
        return CatalogueItem(
            key=row.key,
            name=row.name,
            price=row.price,
            effect=row.effect,
            reason=row.name,
            min_tier=row.min_tier,
            travel=row.travel,
        )


def _tier(scenario: Scenario, citizen: Citizen) -> Tier:
    try:
        return scenario.tier(citizen.tier_key)
    except KeyError:
        return scenario.tier_for(citizen.score)


async def _citizen(session: AsyncSession, guild_id: int, user_id: int) -> tuple[Season, Citizen]:
    season = await require_live_season_row(session, guild_id=guild_id)
    assert season.id is not None
    return season, await require_citizen_row(session, season_id=season.id, user_id=user_id)


async def catalogue(session: AsyncSession, *, guild_id: int, user_id: int) -> Catalogue:
    """The season's shop at the citizen's prices, in the scenario's order, with what they may not buy
    and why."""
    season, citizen = await _citizen(session, guild_id, user_id)
    # The shop's rows follow the decrees in force; the rules in force know the items they added.
    scenario = await scenario_in_force(session, season, noted=False)
    tier = _tier(scenario, citizen)
    rows = {
        row.key: row
        for row in (
            await session.exec(select(ShopItem).where(ShopItem.season_id == season.id, col(ShopItem.active)))
        ).all()
    }
    order = {item.key: index for index, item in enumerate(scenario.catalogue)}
    lines: list[CatalogueLine] = []
    for row in sorted(rows.values(), key=lambda r: (order.get(r.key, len(order)), r.key)):
        item = _item(scenario, row)
        price = effective_price(item, tier)
        refusal = purchase_refusal(item, tier, scenario.tiers)
        lines.append(
            CatalogueLine(
                key=row.key,
                name=row.name,
                description=row.description,
                base_price=row.price,
                price=price,
                effect=None if row.hidden else row.effect,
                dimension=Dimension(row.dimension),
                stock=row.stock,
                travel=row.travel,
                min_tier=row.min_tier,
                refusal=refusal,
                affordable=citizen.balance >= price,
            )
        )
    return Catalogue(
        tier_key=tier.key,
        tier_name=tier.name,
        price_markup_percent=tier.price_markup_percent,
        balance=citizen.balance,
        items=tuple(lines),
    )


async def _find_item(session: AsyncSession, season_id: int, item: str) -> ShopItem:
    wanted = item.strip()
    rows = (
        await session.exec(select(ShopItem).where(ShopItem.season_id == season_id, col(ShopItem.active)))
    ).all()
    for row in rows:
        if row.key == wanted.lower() or row.name.lower() == wanted.lower():
            return row
    raise NotFound(ErrorCode.ITEM_NOT_SOLD, item=wanted)


async def purchase(
    session: AsyncSession, *, guild_id: int, user_id: int, item_key: str, now: datetime, quantity: int = 1
) -> PurchaseReceipt:
    """Buy ``quantity`` (1..99) of an item (by key or name), paid at once; its effect lands at the next audit.

    Refusals: ``InvalidInput`` (quantity), ``NotFound`` (no such item), ``NotAllowed`` (tier, travel,
    paused season), ``OutOfStock``, ``InsufficientFunds`` (with the balance and the total).
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(ErrorCode.QUANTITY_OUT_OF_RANGE, maximum=MAX_QUANTITY)
    season, citizen = await _citizen(session, guild_id, user_id)
    require_running(season, action="shop")
    assert season.id is not None
    assert citizen.id is not None
    row = await _find_item(session, season.id, item_key)
    scenario = await scenario_in_force(session, season, noted=False)
    item = _item(scenario, row)
    tier = _tier(scenario, citizen)
    refusal = purchase_refusal(item, tier, scenario.tiers)
    if refusal is not None:
        raise NotAllowed(
            ErrorCode.PURCHASE_REFUSED,
            refusal=refusal.reason,
            item=refusal.item,
            tier=refusal.tier,
            needed_tier=refusal.needed_tier,
        )
    unit_price = effective_price(item, tier)
    total = unit_price * quantity
    await hold_citizens(session, season_id=season.id, citizen_ids=(citizen.id,))
    async with session.begin_nested():
        stock_left: int | None = None
        if row.stock is not None:
            taken = (
                await session.exec(
                    sa.update(ShopItem)
                    .where(col(ShopItem.id) == row.id, col(ShopItem.stock) >= quantity)
                    .values(stock=col(ShopItem.stock) - quantity)
                    .returning(col(ShopItem.stock))
                )
            ).first()
            if taken is None:
                left = (await session.exec(select(ShopItem.stock).where(ShopItem.id == row.id))).one() or 0
                if left == 0:
                    raise OutOfStock(ErrorCode.SOLD_OUT, item=row.name)
                raise OutOfStock(ErrorCode.STOCK_SHORT, item=row.name, left=left)
            stock_left = int(taken[0])
        paid = (
            await session.exec(
                sa.update(Citizen)
                .where(col(Citizen.id) == citizen.id, col(Citizen.balance) >= total)
                .values(balance=col(Citizen.balance) - total)
                .returning(col(Citizen.balance))
            )
        ).first()
        if paid is None:
            balance = (await session.exec(select(Citizen.balance).where(Citizen.id == citizen.id))).one()
            raise InsufficientFunds(
                ErrorCode.INSUFFICIENT_FUNDS, balance=balance, total=total, quantity=quantity
            )
        record = Purchase(
            season_id=season.id,
            citizen_id=citizen.id,
            item_key=row.key,
            item_name=row.name,
            quantity=quantity,
            unit_price=unit_price,
            total_price=total,
            effect=row.effect * quantity,
            dimension=Dimension(row.dimension),
            hidden=row.hidden,
            created_at=now,
        )
        session.add(record)
        await session.flush()
    assert record.id is not None
    return PurchaseReceipt(
        purchase_id=record.id,
        item_key=row.key,
        item_name=row.name,
        quantity=quantity,
        unit_price=unit_price,
        total_price=total,
        balance_after=int(paid[0]),
        stock_left=stock_left,
        effect=None if row.hidden else record.effect,
        created_at=now,
    )


async def wallet(session: AsyncSession, *, guild_id: int, user_id: int) -> Wallet:
    """The citizen's credits, debt, and what each audit pays and charges."""
    season, citizen = await _citizen(session, guild_id, user_id)
    economy = scenario_of(season).economy
    return Wallet(
        balance=citizen.balance,
        debt=citizen.debt,
        stipend=economy.stipend,
        cost_of_living=economy.cost_of_living,
        next_audit_at=season.next_audit_at,
    )
