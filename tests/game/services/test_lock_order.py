"""One lock order for every write path, tested where it used to break (PostgreSQL mostly; SQLite too).

The order (``docs/architecture.md``, "Locks"): the season row first (``FOR KEY SHARE`` for what
changes one citizen, ``FOR UPDATE`` for the audit and the season's own changes), then citizen rows
by id, then the rest. Each test races real connections (``tests.support.races``) and fails on any
database error reaching the caller (a deadlock, a raw unique violation) or on books that do not
balance afterwards.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from game.db import transaction
from game.errors import ErrorCode
from game.models import Citizen, FriendRequest, Friendship, LedgerEntry, RequestStatus, ScoreCount
from game.services import appeals, audits, citizens, friends, ledger, permits, privacy, shop
from tests.factories import GUILD_ID, NOW, make_citizens, make_season, set_balance, user_id
from tests.factories.rows import post
from tests.support.races import ENGINES, outcome, race

AUDIT_AT = NOW + timedelta(minutes=1)


async def _busy_season(engine: AsyncEngine, citizens: int, *, messages: int = 4) -> tuple[int, list[int]]:
    """A season whose audit takes a while: many citizens, each with penalties to score."""
    season = await make_season(engine)
    people = await make_citizens(engine, count=citizens)
    for person in people:
        for n in range(messages):
            await post(engine, season.id, person.id, "tank man and the election" if n % 2 else "hello")
    return season.id, [person.id for person in people]


async def _audit(engine: AsyncEngine, season_id: int) -> str:
    result = await audits.run_audit_now(engine, season_id=season_id, now=AUDIT_AT, claimed_by="race")
    return "audited" if result is not None else "skipped"


async def _score_counts_are_exact(engine: AsyncEngine, season_id: int) -> None:
    async with transaction(engine) as session:
        scores = Counter(
            (await session.exec(select(Citizen.score).where(Citizen.season_id == season_id))).all()
        )
        counts = {
            score: citizens
            for score, citizens in (
                await session.exec(
                    select(ScoreCount.score, ScoreCount.citizens).where(ScoreCount.season_id == season_id)
                )
            ).all()
            if citizens
        }
    assert counts == dict(scores)


async def _ledgers_balance(engine: AsyncEngine, season_id: int) -> None:
    async with transaction(engine) as session:
        rows = (await session.exec(select(Citizen).where(Citizen.season_id == season_id))).all()
        sums = Counter[int]()
        for entry in (
            await session.exec(select(LedgerEntry).where(LedgerEntry.season_id == season_id))
        ).all():
            sums[entry.citizen_id] += entry.delta
    for row in rows:
        assert 600 + sums[row.id] == row.score


async def test_accepting_friends_while_an_audit_runs_deadlocks_nobody(engines: list[AsyncEngine]) -> None:
    engine = engines[0]
    season, _people = await _busy_season(engine, 40)
    for n in range(2, 22, 2):
        async with transaction(engine) as session:
            await friends.request_friend(
                session, guild_id=GUILD_ID, user_id=user_id(n), friend_user_id=user_id(n + 1), now=NOW
            )

    async def accept(index: int, n: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                friends.accept_friend(
                    session, guild_id=GUILD_ID, user_id=user_id(n + 1), from_user_id=user_id(n), now=NOW
                )
            )

    racers: list[Callable[[], Awaitable[str]]] = [partial(_audit, engines[1], season)]
    racers += [partial(accept, index, n) for index, n in enumerate(range(2, 22, 2))]
    outcomes = await race(racers)

    assert outcomes == {"audited": 1, "ok": 10}
    await _ledgers_balance(engine, season)


async def test_appeals_filed_while_an_audit_runs_deadlock_nobody(engines: list[AsyncEngine]) -> None:
    engine = engines[0]
    season, _people = await _busy_season(engine, 40)
    penalties: dict[int, int] = {}
    for n in range(1, 11):
        change = await _adjust(engine, n, -5)
        penalties[n] = change

    async def appeal(index: int, n: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                appeals.file_appeal(
                    session,
                    guild_id=GUILD_ID,
                    user_id=user_id(n),
                    entry_id=penalties[n],
                    reason="I was quoting the news",
                    now=NOW,
                )
            )

    racers: list[Callable[[], Awaitable[str]]] = [partial(_audit, engines[1], season)]
    racers += [partial(appeal, index, n) for index, n in enumerate(penalties)]
    outcomes = await race(racers)

    assert outcomes == {"audited": 1, "ok": 10}


async def _adjust(engine: AsyncEngine, n: int, delta: int) -> int:
    async with transaction(engine) as session:
        change = await ledger.adjust_score(
            session,
            guild_id=GUILD_ID,
            user_id=user_id(n),
            delta=delta,
            reason="set-up",
            moderator_id=1,
            now=NOW,
        )
    return change.entry_id


async def _befriend_all(engine: AsyncEngine, members: range) -> None:
    """Everyone in ``members`` friends with everyone else (so their leaves touch each other's rows)."""
    for a in members:
        for b in members:
            if a < b:
                async with transaction(engine) as session:
                    await friends.request_friend(
                        session, guild_id=GUILD_ID, user_id=user_id(a), friend_user_id=user_id(b), now=NOW
                    )
                    await friends.accept_friend(
                        session, guild_id=GUILD_ID, user_id=user_id(b), from_user_id=user_id(a), now=NOW
                    )


async def _leave(engines: list[AsyncEngine], index: int, n: int) -> str:
    async with transaction(engines[index % ENGINES]) as session:
        return await outcome(privacy.leave(session, guild_id=GUILD_ID, user_id=user_id(n), now=NOW))


async def test_friends_leaving_at_once_all_leave(engines: list[AsyncEngine]) -> None:
    engine = engines[0]
    season = await make_season(engine)
    await make_citizens(engine, count=24)
    await _befriend_all(engine, range(1, 21))

    outcomes = await race([partial(_leave, engines, index, n) for index, n in enumerate(range(1, 21))])

    assert outcomes == {"ok": 20}
    async with transaction(engine) as session:
        left = (await session.exec(select(sa.func.count()).select_from(Citizen))).one()
        ties = (await session.exec(select(sa.func.count()).select_from(Friendship))).one()
    assert (left, ties) == (4, 0)
    await _score_counts_are_exact(engine, season.id)


async def test_citizens_leaving_during_an_audit_keep_the_rank_counts_exact(
    engines: list[AsyncEngine],
) -> None:
    engine = engines[0]
    season, _people = await _busy_season(engine, 40)

    racers: list[Callable[[], Awaitable[str]]] = [partial(_audit, engines[1], season)]
    racers += [partial(_leave, engines, index, n) for index, n in enumerate(range(1, 21))]
    outcomes = await race(racers)

    assert outcomes == {"audited": 1, "ok": 20}
    await _score_counts_are_exact(engine, season)
    await _ledgers_balance(engine, season)


async def test_crossed_friend_requests_become_a_friendship(engines: list[AsyncEngine]) -> None:
    """A asks B while B asks A: the second to arrive accepts the first's request."""
    engine = engines[0]
    await make_season(engine)
    await make_citizens(engine, count=40)

    async def ask(index: int, me: int, them: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                friends.request_friend(
                    session, guild_id=GUILD_ID, user_id=user_id(me), friend_user_id=user_id(them), now=NOW
                )
            )

    racers = []
    for pair in range(20):
        a, b = 2 * pair + 1, 2 * pair + 2
        racers += [partial(ask, 2 * pair, a, b), partial(ask, 2 * pair + 1, b, a)]
    outcomes = await race(racers)

    assert outcomes == {"ok": 40}
    async with transaction(engine) as session:
        ties = (await session.exec(select(sa.func.count()).select_from(Friendship))).one()
        pending = (
            await session.exec(
                select(sa.func.count())
                .select_from(FriendRequest)
                .where(col(FriendRequest.status) == RequestStatus.PENDING)
            )
        ).one()
    assert (ties, pending) == (40, 0)  # 20 friendships, stored both ways


async def test_a_double_click_on_a_friend_request_is_asked_once(engines: list[AsyncEngine]) -> None:
    engine = engines[0]
    await make_season(engine)
    await make_citizens(engine, count=40)

    async def ask(index: int, me: int, them: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                friends.request_friend(
                    session, guild_id=GUILD_ID, user_id=user_id(me), friend_user_id=user_id(them), now=NOW
                )
            )

    racers = []
    for pair in range(20):
        a, b = 2 * pair + 1, 2 * pair + 2
        racers += [partial(ask, 2 * pair, a, b), partial(ask, 2 * pair + 1, a, b)]
    outcomes = await race(racers)

    assert outcomes == {"ok": 20, ErrorCode.ALREADY_ASKED: 20}


async def test_a_double_click_on_a_permit_request_is_asked_once(engines: list[AsyncEngine]) -> None:
    engine = engines[0]
    await make_season(engine)
    await make_citizens(engine, count=10)

    async def ask(index: int, n: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                permits.request_permit(
                    session, guild_id=GUILD_ID, user_id=user_id(n), topic="politics", reason="debate", now=NOW
                )
            )

    outcomes = await race([partial(ask, index, 1 + index // 2) for index in range(20)])

    assert outcomes == {"ok": 10, ErrorCode.PERMIT_PENDING: 10}


async def test_purchases_and_adjustments_during_an_audit_keep_the_books(engines: list[AsyncEngine]) -> None:
    engine = engines[0]
    season, people = await _busy_season(engine, 30)
    for citizen_id in people:
        await set_balance(engine, citizen_id=citizen_id, balance=500)

    async def buy(index: int, n: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                shop.purchase(session, guild_id=GUILD_ID, user_id=user_id(n), item_key="diapers", now=NOW)
            )

    async def adjust(index: int, n: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            return await outcome(
                ledger.adjust_score(
                    session,
                    guild_id=GUILD_ID,
                    user_id=user_id(n),
                    delta=-7,
                    reason="race",
                    moderator_id=1,
                    now=NOW,
                )
            )

    racers: list[Callable[[], Awaitable[str]]] = [partial(_audit, engines[1], season)]
    racers += [partial(buy, index, n) for index, n in enumerate(range(1, 16))]
    racers += [partial(adjust, index, n) for index, n in enumerate(range(10, 25))]
    outcomes = await race(racers)

    assert outcomes == {"audited": 1, "ok": 30}
    await _ledgers_balance(engine, season)
    await _score_counts_are_exact(engine, season)
    async with transaction(engine) as session:
        balances = (await session.exec(select(Citizen.balance).where(Citizen.season_id == season))).all()
    assert min(balances) >= 0


@pytest.mark.parametrize("seed", range(3))
async def test_rank_counts_stay_exact_whatever_races_them(engines: list[AsyncEngine], seed: int) -> None:
    """A property of every mix of writers: random adjustments, purchases, joins, leaves and an audit,
    raced together, leave the per-score counts (what ranks are read from) equal to the citizens'
    scores, and every ledger balanced."""
    engine = engines[0]
    draw = random.Random(seed)
    season, _people = await _busy_season(engine, 24, messages=2)
    joined = 24

    async def act(index: int, kind: str, n: int, delta: int) -> str:
        async with transaction(engines[index % ENGINES]) as session:
            if kind == "adjust":
                work: Awaitable[object] = ledger.adjust_score(
                    session,
                    guild_id=GUILD_ID,
                    user_id=user_id(n),
                    delta=delta,
                    reason="property",
                    moderator_id=1,
                    now=NOW,
                )
            elif kind == "buy":
                work = shop.purchase(
                    session, guild_id=GUILD_ID, user_id=user_id(n), item_key="diapers", now=NOW
                )
            elif kind == "join":
                work = citizens.join(
                    session, guild_id=GUILD_ID, user_id=user_id(n), display_name=f"late-{n}", now=NOW
                )
            else:
                work = privacy.leave(session, guild_id=GUILD_ID, user_id=user_id(n), now=NOW)
            return await outcome(work)

    racers: list[Callable[[], Awaitable[str]]] = [partial(_audit, engines[1], season)]
    for index in range(30):
        kind = draw.choice(["adjust", "adjust", "buy", "join", "leave"])
        if kind == "join":
            joined += 1
            n = joined
        else:
            n = draw.randint(1, 24)
        racers.append(partial(act, index, kind, n, draw.randint(-400, 400)))
    outcomes = await race(racers)

    assert outcomes["audited"] == 1
    # Refusals a random mix may meet (someone already gone, a thin wallet); never a database error.
    assert set(outcomes) <= {
        "audited",
        "ok",
        "citizen_gone",
        "not_enrolled",
        "member_not_enrolled",
        "no_record",
        "insufficient_funds",
    }, outcomes
    await _score_counts_are_exact(engine, season)
    await _ledgers_balance(engine, season)
