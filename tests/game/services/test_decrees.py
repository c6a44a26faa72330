"""Decrees on SQLite and PostgreSQL: the audit takes the timeline's decrees once each and plays by the
rules in force; moderators issue and revoke optional decrees; an amnesty reverses through the ledger."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from game.db import transaction
from game.errors import Conflict, ErrorCode, InvalidInput, NotFound
from game.models import DecreeRecord, Enrollment, OutboxKind, ShopItem, SourceKind
from game.payloads import DecreeNews, load_payload
from game.report._timeline import decree_impacts
from game.report.build import build_report_data
from game.scenario import Scenario, restore_scenario
from game.services.appeals import appealable_entries, file_appeal, grant_appeal
from game.services.audits import run_audit_now
from game.services.decrees import decree_board, issue_decree, revoke_decree, rules_in_force
from game.services.permits import request_permit
from game.services.seasons import shop_row
from game.services.shop import catalogue, purchase
from tests.factories.rows import (
    GUILD,
    ME,
    T0,
    assert_books_balance,
    audit,
    befriend,
    citizen,
    classic,
    ledger,
    new_citizen,
    new_season,
    outbox,
    post,
    season_row,
    speech,
)

decree_t: sa.Table = DecreeRecord.__table__  # type: ignore[attr-defined]
shop_t: sa.Table = ShopItem.__table__  # type: ignore[attr-defined]
EVERY = timedelta(minutes=15)
MODERATOR = 77


def timeline_scenario() -> Scenario:
    data = classic().model_dump(mode="json")
    data["timeline"] = {
        "public": True,
        "decrees": [
            {
                "key": "ban",
                "name": "The snack ban",
                "after_audit": 1,
                "effects": [
                    {"kind": "forbid-topic", "key": "snacks", "name": "snacks", "phrases": ["out of snacks"],
                     "penalty": -50},
                    {"kind": "set-price", "item": "diapers", "price": 99},
                ],
            },
            {
                "key": "crackdown",
                "name": "The Crackdown",
                "after_audit": 2,
                "lasts_audits": 2,
                "effects": [
                    {"kind": "scale-penalties", "factor": 2},
                    {"kind": "withdraw-item", "item": "video-game"},
                    {"kind": "mandatory-enrolment"},
                ],
            },
            {"key": "pardon", "name": "The snack pardon", "after_audit": 5,
             "effects": [{"kind": "amnesty", "topic": "snacks"}, {"kind": "lift-topic", "topic": "snacks"}]},
            {"key": "mercy", "name": "Mercy", "optional": True,
             "effects": [{"kind": "amnesty", "topic": "tiananmen-1989"}]},
            {"key": "campaign", "name": "Praise campaign", "optional": True, "lasts_audits": 10,
             "effects": [{"kind": "scale-rewards", "factor": 2}]},
        ],
    }  # fmt: skip
    return restore_scenario(data)


async def setup(engine: AsyncEngine) -> tuple[int, int]:
    scenario = timeline_scenario()
    season = await new_season(engine, scenario=scenario, audit_every=EVERY)
    async with engine.begin() as connection:
        await connection.execute(sa.insert(shop_t), [shop_row(season, item) for item in scenario.catalogue])
    ana = await new_citizen(engine, season, user_id=1, name="ana", score=900)
    return season, ana


async def news(engine: AsyncEngine, season: int) -> list[DecreeNews]:
    rows = await outbox(engine, season, OutboxKind.DECREE)
    return [load_payload(OutboxKind.DECREE, row.payload) for row in rows]  # type: ignore[misc]


async def shop(engine: AsyncEngine, season: int) -> dict[str, Any]:
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.select(shop_t).where(shop_t.c.season_id == season))).all()
    return {row.key: row for row in rows}


async def say_and_audit(engine: AsyncEngine, season: int, ana: int, number: int, text: str) -> list[Any]:
    await post(engine, season, ana, text, at=T0 + EVERY * number - timedelta(minutes=1))
    await audit(engine, season, now=T0 + EVERY * number)
    entries = await ledger(engine, ana, audit_number=number)
    return speech([e for e in entries if e.source_kind == SourceKind.MESSAGE.value])


async def test_the_timeline_changes_the_rules_audit_by_audit(engine: AsyncEngine) -> None:
    season, ana = await setup(engine)

    # Audit 1 plays by the pack: the snack ban comes after it, so this message costs nothing.
    assert await say_and_audit(engine, season, ana, 1, "we are out of snacks") == []
    (ban,) = await news(engine, season)
    assert (ban.event, ban.decree_key, ban.from_audit, ban.until_audit) == ("took_effect", "ban", 2, None)
    assert [(c.kind, c.key, c.value, c.before) for c in ban.changes] == [
        ("forbid-topic", "snacks", -50, None),
        ("set-price", "diapers", 99, 30),
    ]
    assert (await shop(engine, season))["diapers"].price == 99
    # A retried or doubled audit takes nothing twice.
    assert await run_audit_now(engine, season_id=season, now=T0 + EVERY, claimed_by=ME, number=1) is None
    assert len(await news(engine, season)) == 1

    assert await say_and_audit(engine, season, ana, 2, "out of snacks again") == [("snacks", -50)]
    crackdown = (await news(engine, season))[-1]
    assert (crackdown.decree_key, crackdown.from_audit, crackdown.until_audit) == ("crackdown", 3, 4)
    assert crackdown.until_at == T0 + EVERY * 4
    assert (await season_row(engine, season)).enrollment == Enrollment.MANDATORY.value
    assert not (await shop(engine, season))["video-game"].active

    # The crackdown doubles every speech penalty for two audits, then lapses.
    assert await say_and_audit(engine, season, ana, 3, "out of snacks, tank man") == [
        ("tiananmen-1989", -120),
        ("snacks", -100),
    ]
    assert await say_and_audit(engine, season, ana, 4, "out of snacks") == [("snacks", -100)]
    lapsed = (await news(engine, season))[-1]
    assert (lapsed.event, lapsed.decree_key) == ("lapsed", "crackdown")
    assert (await season_row(engine, season)).enrollment == Enrollment.VOLUNTARY.value
    assert (await shop(engine, season))["video-game"].active
    assert await say_and_audit(engine, season, ana, 5, "out of snacks") == [("snacks", -50)]

    # The pardon after audit 5: every snack penalty reversed by a new entry, history untouched.
    pardon = (await news(engine, season))[-1]
    assert (pardon.decree_key, pardon.reversed_entries, pardon.reversed_points, pardon.pardoned) == (
        "pardon",
        4,
        300,
        1,
    )
    entries = await ledger(engine, ana)
    penalties = [e for e in entries if e.rule_key == "snacks" and e.delta < 0]
    reversals = [e for e in entries if e.source_kind == SourceKind.DECREE.value]
    assert sorted(r.reverses_entry_id for r in reversals) == sorted(p.id for p in penalties)
    assert all(r.delta == -p.delta for r, p in zip(reversals, penalties, strict=True))
    assert all(r.reason.startswith("Amnesty (The snack pardon)") for r in reversals)
    await assert_books_balance(engine, season)
    assert await say_and_audit(engine, season, ana, 6, "out of snacks") == []  # lifted

    # The debrief knows the timeline and what each decree did around it.
    async with transaction(engine) as session:
        data = await build_report_data(session, season)
    assert [(d.key, d.from_audit, d.until_audit) for d in data.decrees] == [
        ("ban", 2, None),
        ("crackdown", 3, 4),
        ("pardon", 6, None),
    ]
    impacts = {impact.decree.key: impact for impact in decree_impacts(data, window=2)}
    assert impacts["crackdown"].during is not None
    assert impacts["crackdown"].during.speech_lost == 160.0  # (220 + 100) / 2 audits
    assert impacts["pardon"].amnesty_points == 300


async def test_moderators_issue_and_revoke_optional_decrees(engine: AsyncEngine) -> None:
    season, ana = await setup(engine)
    await say_and_audit(engine, season, ana, 1, "tank man")
    await say_and_audit(engine, season, ana, 2, "tank man")
    now = T0 + EVERY * 2 + timedelta(minutes=3)

    async with transaction(engine) as session:
        board = await decree_board(session, guild_id=GUILD)
    assert board.public
    assert [line.key for line in board.in_force] == ["ban", "crackdown"]
    assert [line.key for line in board.coming] == ["pardon"]
    assert board.coming[0].expected_at == T0 + EVERY * 5
    assert [line.key for line in board.optional] == ["mercy", "campaign"]

    async with transaction(engine) as session:
        mercy = await issue_decree(session, guild_id=GUILD, key="mercy", moderator_id=MODERATOR, now=now)
    assert (mercy.issued_by, mercy.from_audit, mercy.reversed_entries) == (MODERATOR, 3, 2)
    reversals = [e for e in await ledger(engine, ana) if e.source_kind == SourceKind.DECREE.value]
    assert [e.delta for e in reversals] == [60, 60]
    assert all(e.audit_number is None for e in reversals)
    await assert_books_balance(engine, season)
    # A second amnesty finds nothing left to reverse.
    async with transaction(engine) as session:
        await revoke_decree(session, guild_id=GUILD, key="mercy", moderator_id=MODERATOR, now=now)
    async with transaction(engine) as session:
        again = await issue_decree(session, guild_id=GUILD, key="mercy", moderator_id=MODERATOR, now=now)
    assert again.reversed_entries == 0

    async with transaction(engine) as session:
        campaign = await issue_decree(
            session, guild_id=GUILD, key="campaign", moderator_id=MODERATOR, now=now
        )
    assert (campaign.from_audit, campaign.until_audit) == (3, 12)
    assert await say_and_audit(engine, season, ana, 3, "positive energy") == [("positive-energy", 20)]
    async with transaction(engine) as session:
        revoked = await revoke_decree(
            session, guild_id=GUILD, key="campaign", moderator_id=MODERATOR, now=now
        )
    assert (revoked.until_audit, revoked.revoked_by) == (3, MODERATOR)
    async with transaction(engine) as session:
        board = await decree_board(session, guild_id=GUILD)
    assert [line.key for line in board.in_force] == ["ban", "crackdown", "mercy"]
    assert [line.key for line in board.past] == ["mercy", "campaign"]
    assert [line.key for line in board.optional] == ["campaign"]
    events = [
        (n.event, n.decree_key) for n in await news(engine, season) if n.decree_key in ("mercy", "campaign")
    ]
    assert events == [
        ("took_effect", "mercy"),
        ("revoked", "mercy"),
        ("took_effect", "mercy"),
        ("took_effect", "campaign"),
        ("revoked", "campaign"),
    ]


@pytest.mark.parametrize(
    ("key", "error", "code"),
    [
        ("nonsense", NotFound, ErrorCode.DECREE_NOT_FOUND),
        ("crackdown", Conflict, ErrorCode.DECREE_SCHEDULED),
    ],
)
async def test_a_decree_that_cannot_be_issued_is_refused(
    engine: AsyncEngine, key: str, error: type[Exception], code: ErrorCode
) -> None:
    await setup(engine)
    with pytest.raises(error) as caught:
        async with transaction(engine) as session:
            await issue_decree(session, guild_id=GUILD, key=key, moderator_id=MODERATOR, now=T0)
    assert caught.value.code is code  # type: ignore[attr-defined]


async def test_issuing_twice_and_revoking_what_is_not_in_force_are_refused(engine: AsyncEngine) -> None:
    await setup(engine)
    async with transaction(engine) as session:
        await issue_decree(session, guild_id=GUILD, key="campaign", moderator_id=MODERATOR, now=T0)
    with pytest.raises(Conflict) as twice:
        async with transaction(engine) as session:
            await issue_decree(session, guild_id=GUILD, key="campaign", moderator_id=MODERATOR, now=T0)
    assert twice.value.code is ErrorCode.DECREE_IN_FORCE
    with pytest.raises(NotFound) as missing:
        async with transaction(engine) as session:
            await revoke_decree(session, guild_id=GUILD, key="mercy", moderator_id=MODERATOR, now=T0)
    assert missing.value.code is ErrorCode.DECREE_NOT_IN_FORCE
    assert missing.value.params["choices"] == ["campaign"]


async def test_an_amnestied_penalty_is_not_paid_back_twice_by_an_appeal(engine: AsyncEngine) -> None:
    season, ana = await setup(engine)
    bo = await new_citizen(engine, season, user_id=2, name="bo", score=900)
    await post(engine, season, ana, "tank man", at=T0 + timedelta(minutes=5))
    await post(engine, season, bo, "tank man", at=T0 + timedelta(minutes=6))
    await audit(engine, season, now=T0 + EVERY)
    [ana_penalty] = [e for e in await ledger(engine, ana) if e.rule_key == "tiananmen-1989"]
    [bo_penalty] = [e for e in await ledger(engine, bo) if e.rule_key == "tiananmen-1989"]
    now = T0 + EVERY + timedelta(minutes=1)
    async with transaction(engine) as session:
        pending = await file_appeal(
            session, guild_id=GUILD, user_id=1, entry_id=ana_penalty.id, reason="it was history", now=now
        )
    async with transaction(engine) as session:
        await issue_decree(session, guild_id=GUILD, key="mercy", moderator_id=MODERATOR, now=now)

    with pytest.raises(Conflict) as granted:
        async with transaction(engine) as session:
            await grant_appeal(session, guild_id=GUILD, appeal_id=pending.id, moderator_id=MODERATOR, now=now)
    assert granted.value.code is ErrorCode.ENTRY_ALREADY_REVERSED
    with pytest.raises(Conflict) as filed:
        async with transaction(engine) as session:
            await file_appeal(
                session, guild_id=GUILD, user_id=2, entry_id=bo_penalty.id, reason="me too", now=now
            )
    assert filed.value.code is ErrorCode.ENTRY_ALREADY_REVERSED
    async with transaction(engine) as session:
        assert await appealable_entries(session, guild_id=GUILD, user_id=2) == ()
    await assert_books_balance(engine, season)
    assert (await citizen(engine, ana)).score == 900


async def test_two_moderators_issuing_at_once_issue_once(engine: AsyncEngine) -> None:
    season, _ana = await setup(engine)

    async def issue() -> object:
        try:
            async with transaction(engine) as session:
                return await issue_decree(
                    session, guild_id=GUILD, key="campaign", moderator_id=MODERATOR, now=T0
                )
        except Conflict as error:
            return error.code

    outcomes = await asyncio.gather(issue(), issue())
    assert sorted(map(str, outcomes)).count(str(ErrorCode.DECREE_IN_FORCE)) == 1
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.select(decree_t).where(decree_t.c.season_id == season))).all()
    assert [row.decree_key for row in rows] == ["campaign"]


async def test_a_decree_on_the_friends_factor_is_named_in_their_penalties(engine: AsyncEngine) -> None:
    data = classic().model_dump(mode="json")
    data["timeline"] = {
        "decrees": [
            {"key": "collective", "name": "Collective responsibility", "after_audit": 1,
             "effects": [{"kind": "friends-factor", "factor": 0.5}]},
        ]
    }  # fmt: skip
    season = await new_season(engine, scenario=restore_scenario(data), audit_every=EVERY)
    ana = await new_citizen(engine, season, user_id=1, name="ana", score=900)
    bo = await new_citizen(engine, season, user_id=2, name="bo", score=900)
    await befriend(engine, season, ana, bo)
    for number in (1, 2):
        await post(engine, season, ana, "tank man", at=T0 + EVERY * number - timedelta(minutes=1))
        await audit(engine, season, now=T0 + EVERY * number)
    social = [e for e in await ledger(engine, bo) if e.source_kind == SourceKind.FRIEND.value]
    assert [(e.audit_number, e.delta) for e in social] == [(1, -12), (2, -30)]  # 0.2, then 0.5 of -60
    assert social[0].reason == "A friend was penalised 60 points in this audit"
    assert social[1].reason == (
        "A friend was penalised 60 points in this audit"
        " (friends pay 50 % by decree: Collective responsibility)"
    )


async def test_a_permit_topic_a_decree_added_can_be_asked_for(engine: AsyncEngine) -> None:
    data = classic().model_dump(mode="json")
    data["timeline"] = {
        "decrees": [
            {"key": "pilot", "name": "The pilot scheme", "after_audit": 1,
             "effects": [{"kind": "require-permit", "key": "the-score", "name": "the score itself",
                          "phrases": ["social credit"], "penalty": -20}]},
        ]
    }  # fmt: skip
    season = await new_season(engine, scenario=restore_scenario(data), audit_every=EVERY)
    await new_citizen(engine, season, user_id=1, name="ana")
    now = T0 + timedelta(minutes=5)
    with pytest.raises(InvalidInput) as early:
        async with transaction(engine) as session:
            await request_permit(session, guild_id=GUILD, user_id=1, topic="the-score", reason="why", now=now)
    assert early.value.code is ErrorCode.NOT_A_PERMIT_TOPIC
    await audit(engine, season, now=T0 + EVERY)
    async with transaction(engine) as session:
        permit = await request_permit(
            session, guild_id=GUILD, user_id=1, topic="the-score", reason="to discuss it", now=now + EVERY
        )
        in_force = await rules_in_force(session, guild_id=GUILD)
    assert (permit.topic, permit.topic_name) == ("the-score", "the score itself")
    assert in_force.topic("the-score").penalty == -20


async def test_an_item_a_decree_adds_is_sold_while_it_holds(engine: AsyncEngine) -> None:
    data = classic().model_dump(mode="json")
    data["timeline"] = {
        "decrees": [
            {"key": "festival", "name": "Festival", "after_audit": 1, "lasts_audits": 1,
             "effects": [{"kind": "add-item", "key": "lantern", "name": "Festival lantern", "price": 5,
                          "effect": 25, "reason": "festive spirit"}]},
        ]
    }  # fmt: skip
    season = await new_season(engine, scenario=restore_scenario(data), audit_every=EVERY)
    async with engine.begin() as connection:
        await connection.execute(sa.insert(shop_t), [shop_row(season, i) for i in classic().catalogue])
    ana = await new_citizen(engine, season, user_id=1, name="ana")
    await audit(engine, season, now=T0 + EVERY)
    async with transaction(engine) as session:
        shop_now = await catalogue(session, guild_id=GUILD, user_id=1)
        await purchase(session, guild_id=GUILD, user_id=1, item_key="lantern", now=T0 + EVERY)
    assert shop_now.items[-1].key == "lantern"
    await audit(engine, season, now=T0 + EVERY * 2)
    [bought] = [e for e in await ledger(engine, ana) if e.rule_key == "lantern"]
    assert (bought.delta, bought.reason) == (25, "Bought Festival lantern: festive spirit")
    # It lapsed after audit 2: withdrawn again.
    with pytest.raises(NotFound):
        async with transaction(engine) as session:
            await purchase(session, guild_id=GUILD, user_id=1, item_key="lantern", now=T0 + EVERY * 2)
