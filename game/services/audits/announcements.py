"""Step 6 of an audit: what it asks the bot to tell Discord, written to the outbox in its transaction.

A :class:`~game.payloads.RoleSync` for each citizen whose tier changed, one
:class:`~game.payloads.Bulletin` per audit (the biggest gains and losses, friends' penalties, new
holders of a tier, demotions), and :class:`~game.payloads.SeasonEnd` with the final standings when the
season's deadline has passed. Payloads are facts; the bot words them.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC
from operator import itemgetter

from game.models import OutboxKind
from game.payloads import (
    Bulletin,
    Cascade,
    Movement,
    Payload,
    Person,
    SeasonEnd,
    Standing,
    TierMove,
    dump_payload,
    payload_kind,
)
from game.services.audits.books import CitizenState
from game.services.audits.steps import AuditRun

__all__ = ["BULLETIN_LIST_LIMIT", "BULLETIN_TOP", "STANDINGS_TOP", "write_announcements", "write_season_end"]

BULLETIN_TOP = 5
BULLETIN_LIST_LIMIT = 20
STANDINGS_TOP = 10


def _person(citizen: CitizenState) -> Person:
    return Person(citizen_id=citizen.id, user_id=citizen.user_id, display_name=citizen.display_name)


def _movement(citizen: CitizenState) -> Movement:
    return Movement(
        citizen_id=citizen.id,
        user_id=citizen.user_id,
        display_name=citizen.display_name,
        delta=citizen.score - citizen.start_score,
        score=citizen.score,
    )


def _tier_move(citizen: CitizenState, tier: str) -> TierMove:
    return TierMove(
        citizen_id=citizen.id,
        user_id=citizen.user_id,
        display_name=citizen.display_name,
        old_tier=citizen.start_tier,
        new_tier=tier,
        score=citizen.score,
    )


def bulletin(run: AuditRun) -> Bulletin:
    """The audit's bulletin, from what the run left."""
    ranks = run.compiled.tier_rank
    changed = [c for c in run.citizens.values() if c.score != c.start_score]
    gains = sorted(
        (c for c in changed if c.score > c.start_score), key=lambda c: (c.start_score - c.score, c.id)
    )
    losses = sorted(
        (c for c in changed if c.score < c.start_score), key=lambda c: (c.score - c.start_score, c.id)
    )
    # The biggest few of up to ~100,000 entries: a heap, not a sort (same result as sorted()[:n]).
    cascades = [row for row in run.social_rows if row[2] < 0]
    top_cascades = heapq.nsmallest(BULLETIN_TOP, cascades, key=itemgetter(2, 0, 1))
    promotions = [(c, tier) for c, tier in run.tier_changes if ranks[tier] > ranks.get(c.start_tier, -1)]
    demotions = [(c, tier) for c, tier in run.tier_changes if ranks[tier] <= ranks.get(c.start_tier, -1)]
    citizens = run.citizens
    return Bulletin(
        audit_number=run.number,
        messages_scored=run.messages_scored,
        purchases_applied=run.purchases_applied,
        ledger_entries=run.ledger_entries,
        citizens_changed=run.citizens_changed,
        top_gains=tuple(_movement(c) for c in gains[:BULLETIN_TOP]),
        top_losses=tuple(_movement(c) for c in losses[:BULLETIN_TOP]),
        friend_cascades=tuple(
            Cascade(
                citizen_id=citizen_id,
                user_id=citizens[citizen_id].user_id,
                display_name=citizens[citizen_id].display_name,
                delta=delta,
                friend=_person(citizens[friend_id]),
            )
            for citizen_id, friend_id, delta, _after in top_cascades
            if friend_id in citizens
        ),
        friend_cascades_total=len(cascades),
        promotions=tuple(_tier_move(c, tier) for c, tier in promotions[:BULLETIN_LIST_LIMIT]),
        promotions_total=len(promotions),
        demotions=tuple(_tier_move(c, tier) for c, tier in demotions[:BULLETIN_LIST_LIMIT]),
        demotions_total=len(demotions),
    )


def _role_sync_json(run: AuditRun, citizen: CitizenState, tier: str) -> str:
    # Built by hand, not through the payload's adapter: a big audit queues thousands of these. A test
    # holds it to dump_payload(RoleSync(...)).
    return json.dumps(
        {
            "user_id": citizen.user_id,
            "season_id": run.season_id,
            "old_tier": citizen.start_tier,
            "new_tier": tier,
            "audit_number": run.number,
        }
    )


async def _write(run: AuditRun, rows: Sequence[tuple[OutboxKind, str]]) -> None:
    stamp = run.driver.time(run.now)
    values = [(run.guild_id, run.season_id, kind.value, payload, stamp, 0) for kind, payload in rows]
    columns = ("guild_id", "season_id", "kind", "payload", "created_at", "attempts")
    if run.background_ok and values:
        marks = ", ".join("?" * len(columns))
        statement = f"INSERT INTO outbox ({', '.join(columns)}) VALUES ({marks})"
        run.background(run.driver.start(statement, values, many=True))
    else:
        await run.driver.insert_many("outbox", columns, values)
    run.outbox_messages += len(values)


def _row(payload: Payload) -> tuple[OutboxKind, str]:
    return payload_kind(payload), json.dumps(dump_payload(payload))


async def write_announcements(run: AuditRun) -> None:
    """The role syncs and the bulletin of the audit ``run`` scored."""
    rows = [(OutboxKind.ROLE_SYNC, _role_sync_json(run, citizen, tier)) for citizen, tier in run.tier_changes]
    rows.append(_row(bulletin(run)))
    await _write(run, rows)


def season_end(run: AuditRun, *, season_number: int) -> SeasonEnd:
    def standings(order: Sequence[CitizenState]) -> tuple[Standing, ...]:
        return tuple(
            Standing(citizen_id=c.id, user_id=c.user_id, display_name=c.display_name, score=c.score)
            for c in order[:STANDINGS_TOP]
        )

    everyone = list(run.citizens.values())
    tiers = Counter(run.compiled.tier_of(c.score) for c in everyone)
    return SeasonEnd(
        season_id=run.season_id,
        season_number=season_number,
        audits=run.number,
        citizens=len(everyone),
        average_score=round(sum(c.score for c in everyone) / len(everyone), 1) if everyone else None,
        top=standings(sorted(everyone, key=lambda c: (-c.score, c.id))),
        bottom=standings(sorted(everyone, key=lambda c: (c.score, c.id))),
        tiers={tier.key: tiers.get(tier.key, 0) for tier in run.scenario.tiers},
        ended_at=run.now.astimezone(UTC),
    )


async def write_season_end(run: AuditRun, *, season_number: int) -> None:
    """The final standings, when this audit is the season's last."""
    await _write(run, [_row(season_end(run, season_number=season_number))])
    await run.drain()
