"""The friends' penalties in SQL agree with the pure formula, on random graphs, on both engines.

:func:`game.rules.social.friend_penalty` says what a citizen owes for their friends' penalties;
step 4 of the audit computes it in one ``INSERT ... SELECT`` instead (the graph never leaves the
database). Here random friend graphs and penalties go straight into the step's work table, the step
runs (through both of its join orders: few penalised citizens, and many), and every citizen's social
entries must add up to the formula, clamped only by the floor, split over exactly the friends who
were penalised, each friend's share within a point of its proportional part.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from game.rules.social import friend_penalty
from game.scenario import FriendRules
from game.services.audits.social import create_work_table, fill_work_table, friends_penalties
from tests.factories.rows import T0, befriend, classic, new_citizen, new_season

_guilds = itertools.count(5_000)

graphs = st.fixed_dictionaries(
    {
        "scores": st.lists(st.integers(350, 950), min_size=2, max_size=9),
        "edges": st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), max_size=24),
        "penalties": st.lists(st.integers(-120, 0), min_size=9, max_size=9),
        "factor": st.sampled_from([0.2, 0.5, 1.0, 0.125, 0.333]),
        "cap": st.sampled_from([-50, -7, -1, -1000]),
        "many": st.booleans(),
    }
)


async def _world(engine: AsyncEngine, graph: dict[str, Any]) -> tuple[int, list[int], set[tuple[int, int]]]:
    scenario = classic(**{"friends.factor": graph["factor"], "friends.cap_per_audit": graph["cap"]})
    season = await new_season(engine, scenario=scenario, guild_id=next(_guilds))
    ids = [
        await new_citizen(engine, season, user_id=n + 1, score=score)
        for n, score in enumerate(graph["scores"])
    ]
    pairs: set[tuple[int, int]] = set()
    for a, b in graph["edges"]:
        if a < len(ids) and b < len(ids) and a != b:
            pair = (min(ids[a], ids[b]), max(ids[a], ids[b]))
            if pair not in pairs:
                pairs.add(pair)
                await befriend(engine, season, *pair)
    return season, ids, pairs


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=graphs)
async def test_the_sql_pays_what_the_formula_says(engine: AsyncEngine, graph: dict[str, Any]) -> None:
    season, ids, pairs = await _world(engine, graph)
    rules = FriendRules(factor=graph["factor"], cap_per_audit=graph["cap"], max_friends=25)
    scores = dict(zip(ids, graph["scores"], strict=False))
    penalty = {citizen: graph["penalties"][n] for n, citizen in enumerate(ids)}
    friends: dict[int, set[int]] = defaultdict(set)
    for a, b in pairs:
        friends[a].add(b)
        friends[b].add(a)
    work = [(citizen, scores[citizen], penalty[citizen]) for citizen in ids]
    penalised = sum(1 for _, _, p in work if p < 0)
    async with engine.begin() as connection:
        await create_work_table(connection)
        await fill_work_table(connection, work)
        rows = await friends_penalties(
            connection,
            season_id=season,
            audit_number=1,
            now=T0,
            factor_numerator=rules.factor_numerator,
            factor_denominator=rules.factor_denominator,
            cap=rules.cap_per_audit,
            low=350,
            penalised=penalised,
            # The step picks its join order from this ratio: steer it both ways.
            citizens=1 if graph["many"] else 10 * len(ids) + 10,
        )
        await connection.rollback()

    paid: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for citizen, friend, delta, after in rows:
        paid[citizen].append((friend, delta, after))
    for citizen in ids:
        owed = friend_penalty([penalty[f] for f in friends[citizen]], rules)
        expected = max(scores[citizen] + owed, 350) - scores[citizen]
        entries = paid.get(citizen, [])
        assert sum(delta for _, delta, _ in entries) == expected, (citizen, entries)
        assert {friend for friend, _, _ in entries} <= {f for f in friends[citizen] if penalty[f] < 0}
        if entries:
            assert entries[-1][2] == scores[citizen] + expected
        if expected == owed and owed < 0:  # no clamping: each share is proportional, within a point
            total = sum(penalty[f] for f in friends[citizen] if penalty[f] < 0)
            for friend, delta, _ in entries:
                assert abs(delta - owed * penalty[friend] / total) < 1
