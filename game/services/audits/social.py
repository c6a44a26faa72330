"""Step 4 of an audit, friends' penalties, in SQL: the friend graph never leaves the database.

The friends who lost points in steps 1-3 of this audit are in the temporary table ``audit_citizen``
(``penalty`` < 0, the sum of their negative applied deltas), with everyone whose score changed in
steps 1-3 (``score``, their score now). One ``INSERT INTO ledger_entry ... SELECT`` computes, per
citizen, ``max(cap, trunc(k * S))`` (the formula of :func:`game.rules.social.friend_penalty`, which a
property test holds this SQL to), splits it exactly over the friends who caused it (one entry per
friend, ``related_citizen_id`` = the friend), clamps with ``CASE`` and chains ``score_before`` /
``score_after`` with a running ``SUM() OVER``. Social entries are not in ``audit_citizen``: they never
propagate (one hop, no echo back).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from game.services.audits.driver import Driver
from game.vocabulary import Dimension, SourceKind

__all__ = [
    "FRIEND_RULE_KEY",
    "create_work_table",
    "drop_work_table",
    "fill_work_table",
    "friends_penalties",
]

FRIEND_RULE_KEY = "friend"


# The friends who lost points in steps 1-3 of this audit are in the temporary table ``audit_citizen``
# (``penalty`` < 0, the sum of their negative applied deltas), with everyone whose score changed in
# steps 1-3 (``score``, their score now). One window pass over the friendships, in the primary key's
# order (citizen, friend), gives for each (citizen, friend) pair the citizen's total ``S`` and the
# running sum up to this friend. With ``owed = max(cap, trunc(k * S))`` (rules.social), the pair's
# share is the difference of the cumulative shares ``trunc(owed * running / S)``: whole points that
# add up to ``owed`` exactly, each within one point of ``owed * penalty / S``. The cumulative share is
# also the running total of the citizen's social entries, so each entry's score before and after
# (clamped at the floor with CASE) needs no second pass. The friend is named by ``related_citizen_id``,
# not in the reason's words: a name copied into other citizens' ledgers would outlive the friend's
# ``/leave``, and the bot shows the friend's current name anyway. The rows are inserted in that same order, so
# the ledger's ids chain each citizen's entries as the running sums did. Social entries are not in
# ``audit_citizen``: they never propagate (one hop, no echo back).
_SOCIAL_SQL = """
WITH pair AS (
    SELECT f.citizen_id AS citizen_id, f.friend_id AS friend_id, p.penalty AS penalty,
           SUM(p.penalty) OVER everyone AS total,
           SUM(p.penalty) OVER so_far AS running
    FROM {join_order}
    WHERE p.penalty < 0 AND f.friend_id = p.citizen_id
    WINDOW everyone AS (PARTITION BY f.citizen_id ORDER BY f.friend_id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
           so_far AS (PARTITION BY f.citizen_id ORDER BY f.friend_id ROWS UNBOUNDED PRECEDING)
),
owed AS (
    SELECT citizen_id, friend_id, penalty, total, running,
           CASE WHEN (total * :num) / :den < :cap THEN :cap ELSE (total * :num) / :den END AS owed
    FROM pair
),
shares AS (
    SELECT owed.citizen_id, owed.friend_id, owed.penalty,
           COALESCE(mine.score, c.score) AS start,
           (owed.owed * (owed.running - owed.penalty)) / owed.total AS owed_before,
           (owed.owed * owed.running) / owed.total AS owed_after
    FROM owed
    JOIN citizen c ON c.id = owed.citizen_id
    LEFT JOIN audit_citizen mine ON mine.citizen_id = owed.citizen_id
    WHERE owed.owed < 0
),
clamped AS (
    SELECT citizen_id, friend_id, penalty,
           CASE WHEN start + owed_before < :low THEN :low ELSE start + owed_before END AS score_before,
           CASE WHEN start + owed_after < :low THEN :low ELSE start + owed_after END AS score_after
    FROM shares
    WHERE owed_after < owed_before
)
INSERT INTO ledger_entry (
    season_id, citizen_id, audit_number, dimension, delta, score_before, score_after, reason,
    source_kind, source_ref, rule_key, related_citizen_id, created_at
)
SELECT :season_id, citizen_id, :audit_number, :dimension, score_after - score_before, score_before,
       score_after, 'A friend was penalised ' || CAST(-penalty AS VARCHAR) || ' points in this audit'
       || :note,
       :source_kind, CAST(friend_id AS VARCHAR), :rule_key, friend_id, :now
FROM clamped
ORDER BY clamped.citizen_id, clamped.friend_id
RETURNING citizen_id, related_citizen_id, delta, score_after
"""

# Few penalised citizens: start from them and find their friends through ix_friendship_friend (then
# sort the few pairs). Many: read the friendships in primary-key order, already sorted for the window.
# A CROSS JOIN fixes SQLite's join order. PostgreSQL plans a CROSS JOIN as any inner join, and with a
# million friendships it hashes the whole table for 10,000 penalised citizens (1.4 s where 10,000
# index look-ups take milliseconds): a LATERAL subquery that it cannot flatten (OFFSET 0) makes it look
# the friends up instead.
_FEW_PENALISED = "audit_citizen p CROSS JOIN friendship f"
_FEW_PENALISED_POSTGRES = (
    "audit_citizen p CROSS JOIN LATERAL "
    "(SELECT citizen_id, friend_id FROM friendship WHERE friendship.friend_id = p.citizen_id OFFSET 0) f"
)
_MANY_PENALISED = "friendship f CROSS JOIN audit_citizen p"
_FEW_PENALISED_SHARE = 0.2


_SOCIAL_PARAM_TYPES = {
    "num": "INTEGER",
    "den": "INTEGER",
    "cap": "INTEGER",
    "low": "INTEGER",
    "season_id": "BIGINT",
    "audit_number": "INTEGER",
    "dimension": "VARCHAR",
    "source_kind": "VARCHAR",
    "rule_key": "VARCHAR",
    "note": "VARCHAR",
    "now": "TIMESTAMP WITH TIME ZONE",
}
_NAMED_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@functools.lru_cache(maxsize=8)
def _social_driver_sql(*, many: bool, postgres: bool) -> tuple[str, tuple[str, ...]]:
    """Step 4's SQL for the driver: ``?`` placeholders (each typed with a CAST on PostgreSQL, where a
    parameter in a select list has no type to infer) and the parameters' names in their order."""
    join_order = _MANY_PENALISED if many else _FEW_PENALISED_POSTGRES if postgres else _FEW_PENALISED
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        names.append(name)
        return f"CAST(? AS {_SOCIAL_PARAM_TYPES[name]})" if postgres else "?"

    sql = _NAMED_PARAM.sub(placeholder, _SOCIAL_SQL.format(join_order=join_order))
    return sql, tuple(names)


async def create_work_table(connection: AsyncConnection) -> None:
    """The temporary ``audit_citizen(citizen_id, score, penalty)``: scores after steps 1-3, penalties."""
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE audit_citizen "
            "(citizen_id BIGINT PRIMARY KEY, score INTEGER NOT NULL, penalty INTEGER NOT NULL) ON COMMIT DROP"
        )
    else:
        await connection.exec_driver_sql("DROP TABLE IF EXISTS temp.audit_citizen")
        await connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE audit_citizen "
            "(citizen_id INTEGER PRIMARY KEY, score INTEGER NOT NULL, penalty INTEGER NOT NULL)"
        )


async def fill_work_table(connection: AsyncConnection, rows: Sequence[tuple[int, int, int]]) -> None:
    driver = Driver(connection)
    await driver.insert_many("audit_citizen", ("citizen_id", "score", "penalty"), rows)
    if driver.postgres:
        # A temporary table has no statistics until analysed; without them the planner guesses badly.
        await connection.exec_driver_sql("ANALYZE audit_citizen")


async def drop_work_table(connection: AsyncConnection) -> None:
    if connection.dialect.name != "postgresql":  # PostgreSQL drops it at commit
        await connection.exec_driver_sql("DROP TABLE IF EXISTS temp.audit_citizen")


async def friends_penalties(
    connection: AsyncConnection,
    *,
    season_id: int,
    audit_number: int,
    now: datetime,
    factor_numerator: int,
    factor_denominator: int,
    cap: int,
    low: int,
    penalised: int,
    citizens: int,
    note: str = "",
) -> list[tuple[int, int, int, int]]:
    """Run step 4 over a filled ``audit_citizen``: ``(citizen, friend, delta, score_after)`` per entry.

    The 80,000-row ``RETURNING`` of a big audit is read straight from the driver (tuples/records, no
    SQLAlchemy result rows).
    """
    driver = Driver(connection)
    sql, names = _social_driver_sql(
        many=penalised > _FEW_PENALISED_SHARE * max(citizens, 1), postgres=driver.postgres
    )
    values: dict[str, object] = {
        "num": factor_numerator,
        "den": factor_denominator,
        "cap": cap,
        "low": low,
        "season_id": season_id,
        "audit_number": audit_number,
        "dimension": Dimension.SOCIAL.value,
        "source_kind": SourceKind.FRIEND.value,
        "rule_key": FRIEND_RULE_KEY,
        # What the reason adds when a decree set the friends' factor (at most 200 characters).
        "note": note[:200],
        "now": driver.time(now),
    }
    return await driver.fetch(sql, *(values[name] for name in names))
