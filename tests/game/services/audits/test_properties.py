"""Audit invariants under random seasons (hypothesis), on SQLite and PostgreSQL.

Whatever citizens say, buy and befriend: scores stay in range, ``start + sum(ledger) == score`` with
every entry chained to the one before, no balance goes negative, and each citizen's friend penalty is
exactly ``max(cap, trunc(k * S))`` over their friends' own penalties of that audit (clamped only by
the floor), paid only for friends, never passed on.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from game.models import Citizen, Friendship, LedgerEntry
from game.rules.social import friend_penalty
from game.services.audits import run_audit_now
from tests.factories.rows import (
    T0,
    assert_books_balance,
    befriend,
    buy,
    classic,
    new_citizen,
    new_season,
    post,
    rules_of,
)

citizen_t = Citizen.__table__
ledger_t = LedgerEntry.__table__
friendship_t = Friendship.__table__

_guilds = itertools.count(1_000)

PHRASES = [
    "just chatting about lunch",
    "tank man",  # forbidden -60
    "Winnie the Pooh",  # forbidden -30
    "the election",  # permit topic -25
    "positive energy",  # +10
    "harmony and hard work",  # +5 (one reward per message)
    "thank you Bureau",  # +15
    "VPN and inflation",  # -30 and -25
    "positive energy and tank man",  # a penalty voids the reward
]
ITEMS = ["diapers", "video-game", "vpn", "work-boots", "imported-liquor"]

worlds = st.fixed_dictionaries(
    {
        "scores": st.lists(st.integers(350, 950), min_size=2, max_size=7),
        "balances": st.lists(st.integers(0, 60), min_size=7, max_size=7),
        "debts": st.lists(st.integers(0, 30), min_size=7, max_size=7),
        "friendships": st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=15),
        "messages": st.lists(
            st.tuples(st.integers(0, 6), st.sampled_from(PHRASES), st.integers(0, 1_700)), max_size=25
        ),
        "purchases": st.lists(
            st.tuples(st.integers(0, 6), st.sampled_from(ITEMS), st.integers(1, 3)), max_size=6
        ),
        "stipend": st.integers(0, 30),
        "cost": st.integers(0, 30),
        "factor": st.sampled_from([0.0, 0.2, 0.5, 1.0, 0.125]),
        "cap": st.sampled_from([-50, -7, -1, 0]),
        "audits": st.integers(1, 2),
    }
)


async def build(engine: AsyncEngine, world: dict[str, Any]) -> tuple[int, list[int]]:
    scenario = classic(
        **{
            "economy.stipend": world["stipend"],
            "economy.cost_of_living": world["cost"],
            "friends.factor": world["factor"],
            "friends.cap_per_audit": world["cap"],
        }
    )
    season = await new_season(engine, scenario=scenario, guild_id=next(_guilds))
    people = [
        await new_citizen(
            engine, season, user_id=n + 1, score=score, balance=world["balances"][n], debt=world["debts"][n]
        )
        for n, score in enumerate(world["scores"])
    ]
    seen: set[tuple[int, int]] = set()
    for a, b in world["friendships"]:
        if a < len(people) and b < len(people) and a != b and (min(a, b), max(a, b)) not in seen:
            seen.add((min(a, b), max(a, b)))
            await befriend(engine, season, people[a], people[b])
    for author, text, second in world["messages"]:
        if author < len(people):
            await post(engine, season, people[author], text, at=T0 + timedelta(seconds=second))
    for buyer, item, quantity in world["purchases"]:
        if buyer < len(people):
            await buy(engine, season, people[buyer], item, quantity=quantity)
    return season, people


async def check_friend_penalties(engine: AsyncEngine, season: int, number: int) -> None:
    rules = (await rules_of(engine, season)).friends
    low = (await rules_of(engine, season)).score.minimum
    async with engine.connect() as connection:
        entries = (
            await connection.execute(
                sa.select(ledger_t)
                .where(ledger_t.c.season_id == season, ledger_t.c.audit_number == number)
                .order_by(ledger_t.c.id)
            )
        ).all()
        edges = (
            await connection.execute(sa.select(friendship_t).where(friendship_t.c.season_id == season))
        ).all()
    friends: dict[int, set[int]] = defaultdict(set)
    for edge in edges:
        friends[edge.citizen_id].add(edge.friend_id)
    own: dict[int, list[int]] = defaultdict(list)
    social: dict[int, list[Any]] = defaultdict(list)
    for entry in entries:
        (social if entry.dimension == "social" else own)[entry.citizen_id].append(entry)
    citizens = set(own) | set(social) | set(friends)
    for citizen_id in citizens:
        expected = friend_penalty((e.delta for f in friends[citizen_id] for e in own.get(f, [])), rules)
        mine = social.get(citizen_id, [])
        total = sum(e.delta for e in mine)
        assert total >= rules.cap_per_audit
        assert {e.related_citizen_id for e in mine} <= friends[citizen_id]  # friends only: one hop
        if mine:
            before_social = mine[0].score_before
            # The whole friend penalty, unless the floor took part of it.
            assert total == max(expected, low - before_social)
        else:
            assert expected == 0
        # No echo: what a citizen's friends pay is computed from their own entries, never social ones.
        for entry in mine:
            assert entry.delta <= 0


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds)
async def test_audits_keep_every_invariant(engine: AsyncEngine, world: dict[str, Any]) -> None:
    season, _people = await build(engine, world)
    for number in range(1, world["audits"] + 1):
        result = await run_audit_now(
            engine, season_id=season, now=T0 + timedelta(minutes=15 * number), claimed_by="hypothesis"
        )
        assert result is not None
        assert result.number == number
        await assert_books_balance(engine, season)
        await check_friend_penalties(engine, season, number)
    async with engine.connect() as connection:
        balances = (
            await connection.execute(
                sa.select(citizen_t.c.balance, citizen_t.c.debt).where(citizen_t.c.season_id == season)
            )
        ).all()
    assert all(balance >= 0 and debt >= 0 for balance, debt in balances)
