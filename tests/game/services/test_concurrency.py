"""Races, on SQLite and PostgreSQL, from several engines (so several real connections) at once.

Each test starts everything with ``asyncio.gather``: the database, not Python, decides who wins.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from game.db import transaction
from game.errors import ErrorCode
from game.models import Citizen, Friendship, LedgerEntry, Purchase, ShopItem
from game.services import audits, citizens, friends, ledger, shop
from tests.factories import GUILD_ID, NOW, make_citizen, make_citizens, make_season, set_balance, user_id
from tests.support.races import ENGINES, outcome, race


async def test_purchases_racing_on_one_wallet_never_overspend(engines: list[AsyncEngine]) -> None:
    engine = engines[0]
    await make_season(engine)
    ana = await make_citizen(engine, n=1)
    balance, price, attempts = 370, 30, 120
    await set_balance(engine, citizen_id=ana.id, balance=balance)

    async def buy(index: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                shop.purchase(session, guild_id=GUILD_ID, user_id=ana.user_id, item_key="diapers", now=NOW)
            )

    outcomes = await race([partial(buy, i) for i in range(attempts)])
    assert outcomes == {"ok": balance // price, ErrorCode.INSUFFICIENT_FUNDS: attempts - balance // price}
    async with transaction(engine) as session:
        row = await session.get(Citizen, ana.id)
        paid = sum((await session.exec(select(Purchase.total_price))).all())
    assert row is not None
    assert row.balance == balance - paid == balance % price


async def test_purchases_racing_for_the_last_stock(engines: list[AsyncEngine]) -> None:
    engine = engines[0]
    season = await make_season(engine)
    buyers = await make_citizens(engine, count=25)

    async def buy(index: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                shop.purchase(
                    session,
                    guild_id=GUILD_ID,
                    user_id=buyers[index % len(buyers)].user_id,
                    item_key="commemorative-mug",
                    now=NOW,
                )
            )

    outcomes = await race([partial(buy, i) for i in range(100)])
    assert outcomes == {"ok": 10, ErrorCode.SOLD_OUT: 90}
    async with transaction(engine) as session:
        mug = (
            await session.exec(
                select(ShopItem).where(ShopItem.season_id == season.id, ShopItem.key == "commemorative-mug")
            )
        ).one()
        spent = sum(500 - c.balance for c in (await session.exec(select(Citizen))).all())
    assert mug.stock == 0
    assert spent == 10 * 25


async def _friends_of(engine: AsyncEngine, citizen_id: int) -> int:
    async with transaction(engine) as session:
        return len(
            (await session.exec(select(Friendship).where(col(Friendship.citizen_id) == citizen_id))).all()
        )


async def test_friend_cap_holds_under_racing_accepts(engines: list[AsyncEngine]) -> None:
    """Citizen 1 has 24 friends and asked eight more; all eight accept at once: one gets in."""
    engine = engines[0]
    await make_season(engine)
    people = await make_citizens(engine, count=33)
    hub = people[0]
    for n in range(2, 26):
        async with transaction(engine) as session:
            await friends.request_friend(
                session, guild_id=GUILD_ID, user_id=user_id(n), friend_user_id=hub.user_id, now=NOW
            )
            await friends.accept_friend(
                session, guild_id=GUILD_ID, user_id=hub.user_id, from_user_id=user_id(n), now=NOW
            )
    for n in range(26, 34):
        async with transaction(engine) as session:
            await friends.request_friend(
                session, guild_id=GUILD_ID, user_id=hub.user_id, friend_user_id=user_id(n), now=NOW
            )

    async def accept(index: int, n: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                friends.accept_friend(
                    session, guild_id=GUILD_ID, user_id=user_id(n), from_user_id=hub.user_id, now=NOW
                )
            )

    outcomes = await race([partial(accept, i, n) for i, n in enumerate(range(26, 34))])
    assert outcomes == {"ok": 1, ErrorCode.FRIEND_LIMIT_OTHER: 7}
    assert await _friends_of(engine, hub.id) == 25


async def test_friend_cap_holds_when_the_capped_citizen_accepts_many_at_once(
    engines: list[AsyncEngine],
) -> None:
    engine = engines[0]
    await make_season(engine)
    people = await make_citizens(engine, count=31)
    hub = people[0]
    for n in range(2, 26):
        async with transaction(engine) as session:
            await friends.request_friend(
                session, guild_id=GUILD_ID, user_id=user_id(n), friend_user_id=hub.user_id, now=NOW
            )
            await friends.accept_friend(
                session, guild_id=GUILD_ID, user_id=hub.user_id, from_user_id=user_id(n), now=NOW
            )
    for n in range(26, 32):
        async with transaction(engine) as session:
            await friends.request_friend(
                session, guild_id=GUILD_ID, user_id=user_id(n), friend_user_id=hub.user_id, now=NOW
            )

    async def accept(index: int, n: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                friends.accept_friend(
                    session, guild_id=GUILD_ID, user_id=hub.user_id, from_user_id=user_id(n), now=NOW
                )
            )

    outcomes = await race([partial(accept, i, n) for i, n in enumerate(range(26, 32))])
    assert outcomes == {"ok": 1, ErrorCode.FRIEND_LIMIT: 5}
    assert await _friends_of(engine, hub.id) == 25


async def test_racing_joins_get_distinct_numbers(engines: list[AsyncEngine]) -> None:
    await make_season(engines[0])

    async def join(n: int) -> int:
        async with transaction(engines[n % ENGINES]) as session:
            view = await citizens.join(
                session, guild_id=GUILD_ID, user_id=user_id(n), display_name=None, now=NOW
            )
        return view.number

    barrier = asyncio.Barrier(40)

    async def join_together(n: int) -> int:
        await barrier.wait()
        return await join(n)

    numbers = await asyncio.gather(*(join_together(n) for n in range(40)))
    assert sorted(numbers) == list(range(1, 41))


async def test_purchases_and_adjustments_racing_an_audit_lose_nothing(engines: list[AsyncEngine]) -> None:
    """The audit writes whole scores and balances back; a purchase or an adjustment committed while it
    runs must wait for it, not be overwritten by it."""
    engine = engines[0]
    season = await make_season(engine)
    people = await make_citizens(engine, count=30)
    ana = people[0]
    await set_balance(engine, citizen_id=ana.id, balance=5000)

    async def buy(index: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                shop.purchase(session, guild_id=GUILD_ID, user_id=ana.user_id, item_key="diapers", now=NOW)
            )

    async def adjust(index: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                ledger.adjust_score(
                    session,
                    guild_id=GUILD_ID,
                    user_id=people[index % len(people)].user_id,
                    delta=-3,
                    reason="racing the audit",
                    moderator_id=1,
                    now=NOW,
                )
            )

    async def audit() -> str:
        result = await audits.run_audit_now(
            engines[1], season_id=season.id, now=NOW + timedelta(minutes=1), claimed_by="race"
        )
        return "audited" if result is not None else "skipped"

    racers: list[Callable[[], Awaitable[str]]] = []
    for index in range(60):
        racers.append(partial(buy, index) if index % 2 else partial(adjust, index))
        if index == 20:
            racers.append(audit)
    outcomes = await race(racers)
    assert outcomes["audited"] == 1
    assert outcomes["ok"] == 60, outcomes
    async with transaction(engine) as session:
        rows = (await session.exec(select(Citizen))).all()
        entries = (await session.exec(select(LedgerEntry))).all()
        paid = sum((await session.exec(select(Purchase.total_price))).all())
    sums = Counter[int]()
    for entry in entries:
        sums[entry.citizen_id] += entry.delta
    for row in rows:
        assert 600 + sums[row.id] == row.score  # no adjustment overwritten by the audit
    [ana_row] = [row for row in rows if row.id == ana.id]
    assert ana_row.balance == 5000 - paid + 20 - 15  # no purchase overwritten; one stipend, one bill
