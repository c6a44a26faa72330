"""Moderators' edits of the live season's rules and shop: topics, phrases, penalties, items, prices.

Every edit goes through :mod:`game.scenario.edits`, which re-validates the whole scenario; a refused
edit comes back as ``InvalidInput`` with the scenario's reasons. Edits change this season only; past
seasons keep the rules they were played by.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from game.errors import (
    ErrorCode,
    InvalidInput,
    ScenarioError,
)
from game.inputs import check_number, clean_label, clean_text
from game.models import (
    Season,
    ShopItem,
)
from game.scenario import (
    CatalogueItem,
    Scenario,
    TopicKind,
    with_item_added,
    with_item_price,
    with_item_removed,
    with_phrase_added,
    with_phrase_removed,
    with_topic_added,
    with_topic_delta,
    with_topic_removed,
)
from game.services.lookup import require_live_season_row, scenario_of
from game.services.seasons import shop_row

__all__ = [
    "MAX_EFFECT",
    "MAX_POINTS",
    "MAX_PRICE",
    "MAX_STOCK",
    "add_catalogue_item",
    "add_phrase",
    "add_topic",
    "change_topic_delta",
    "remove_catalogue_item",
    "remove_phrase",
    "remove_topic",
    "set_item_price",
]

# What a moderator may type (the scenario packs hold the same bounds); Discord's options match.
MAX_PRICE = 1_000_000
MAX_EFFECT = 1000
MAX_POINTS = 1000
# A shop's stock is a 32-bit column; a million is more than any season sells.
MAX_STOCK = 1_000_000


async def _edit(
    session: AsyncSession, guild_id: int, edit: Callable[[Scenario], Scenario]
) -> tuple[Season, Scenario]:
    season = await require_live_season_row(session, guild_id=guild_id, lock=True)
    try:
        edited = edit(scenario_of(season))
    except ScenarioError as error:
        # The message names the field; the player needs only the reason.
        reasons = "; ".join(problem.reason for problem in error.problems)
        raise InvalidInput(ErrorCode.RULES_EDIT_REFUSED, reasons=reasons) from None
    season.rules = edited.model_dump(mode="json")
    await session.flush()
    return season, edited


def _check_delta(kind: TopicKind, delta: int) -> None:
    if kind is TopicKind.APPROVED and not 0 < delta <= MAX_POINTS:
        raise InvalidInput(ErrorCode.BONUS_OUT_OF_RANGE, low=1, high=MAX_POINTS)
    if kind is not TopicKind.APPROVED and not -MAX_POINTS <= delta < 0:
        raise InvalidInput(ErrorCode.PENALTY_OUT_OF_RANGE, low=-MAX_POINTS, high=-1)


async def add_topic(
    session: AsyncSession,
    *,
    guild_id: int,
    kind: TopicKind,
    key: str,
    name: str,
    phrases: Sequence[str],
    delta: int,
) -> Scenario:
    """Add a speech topic (forbidden, permit-required or approved) to this season's rules."""
    _check_delta(kind, delta)
    key = clean_label(key, what="the key", limit=40)
    name = clean_label(name, what="the name")
    phrases = [clean_label(phrase, what="each phrase") for phrase in phrases]
    _, scenario = await _edit(
        session,
        guild_id,
        lambda s: with_topic_added(s, kind=kind, key=key, name=name, phrases=phrases, delta=delta),
    )
    return scenario


async def remove_topic(session: AsyncSession, *, guild_id: int, key: str) -> Scenario:
    _, scenario = await _edit(session, guild_id, lambda s: with_topic_removed(s, key))
    return scenario


async def change_topic_delta(session: AsyncSession, *, guild_id: int, key: str, delta: int) -> Scenario:
    """Change a topic's penalty (forbidden, permit) or bonus (approved)."""
    season = await require_live_season_row(session, guild_id=guild_id)
    kinds = {rule.key: kind for kind, _, rule in scenario_of(season).speech.topics()}
    if key in kinds:
        _check_delta(kinds[key], delta)
    _, scenario = await _edit(session, guild_id, lambda s: with_topic_delta(s, key, delta))
    return scenario


async def add_phrase(session: AsyncSession, *, guild_id: int, topic_key: str, phrase: str) -> Scenario:
    phrase = clean_label(phrase, what="the phrase")
    _, scenario = await _edit(session, guild_id, lambda s: with_phrase_added(s, topic_key, phrase))
    return scenario


async def remove_phrase(session: AsyncSession, *, guild_id: int, topic_key: str, phrase: str) -> Scenario:
    phrase = clean_text(phrase)
    _, scenario = await _edit(session, guild_id, lambda s: with_phrase_removed(s, topic_key, phrase))
    return scenario


async def set_item_price(session: AsyncSession, *, guild_id: int, item_key: str, price: int) -> Scenario:
    """Change an item's base price for this season (tier markups apply on top)."""
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_PRICE:
        raise InvalidInput(ErrorCode.PRICE_OUT_OF_RANGE, low=0, high=MAX_PRICE)
    season, scenario = await _edit(session, guild_id, lambda s: with_item_price(s, item_key, price))
    await session.exec(
        sa.update(ShopItem)
        .where(col(ShopItem.season_id) == season.id, col(ShopItem.key) == item_key)
        .values(price=price)
    )
    return scenario


async def add_catalogue_item(
    session: AsyncSession, *, guild_id: int, item: CatalogueItem | dict[str, Any]
) -> Scenario:
    """Add an item to this season's shop (a ``CatalogueItem`` or its fields, validated by the scenario).

    Fields given as a mapping are typed by a moderator: their texts are cleaned and their numbers
    checked here (``InvalidInput``), before the scenario's own validation.
    """
    if not isinstance(item, CatalogueItem):
        item = _typed_item(item)
    season, scenario = await _edit(session, guild_id, lambda s: with_item_added(s, item))
    assert season.id is not None
    added = scenario.catalogue[-1]
    row = shop_row(season.id, added)
    existing = (
        await session.exec(select(ShopItem).where(ShopItem.season_id == season.id, ShopItem.key == added.key))
    ).first()
    if existing is None:
        session.add(ShopItem(**row))
    else:
        # An item removed earlier this season and added again: its row (and past purchases) stay.
        for field, value in row.items():
            setattr(existing, field, value)
    await session.flush()
    return scenario


def _typed_item(fields: dict[str, Any]) -> dict[str, Any]:
    item = dict(fields)
    item["key"] = clean_label(str(item.get("key", "")), what="the key", limit=40)
    item["name"] = clean_label(str(item.get("name", "")), what="the name")
    item["reason"] = clean_label(str(item.get("reason", "")), what="the reason")
    if "description" in item:
        item["description"] = clean_text(str(item["description"]))
    check_number(item.get("price", 0), what="the price", low=0, high=MAX_PRICE)
    check_number(item.get("effect", 0), what="the effect", low=-MAX_EFFECT, high=MAX_EFFECT)
    if item.get("stock") is not None:
        check_number(item["stock"], what="the stock", low=0, high=MAX_STOCK)
    return item


async def remove_catalogue_item(session: AsyncSession, *, guild_id: int, item_key: str) -> Scenario:
    """Withdraw an item from this season's shop. Purchases already made still take effect."""
    season, scenario = await _edit(session, guild_id, lambda s: with_item_removed(s, item_key))
    await session.exec(
        sa.update(ShopItem)
        .where(col(ShopItem.season_id) == season.id, col(ShopItem.key) == item_key)
        .values(active=False)
    )
    return scenario
