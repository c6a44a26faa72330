"""What people type, at the game's boundary: cleaned texts, checked numbers and ids.

The first tests hold the rules of :mod:`game.inputs`; the rest send hostile values through the
services on both engines, where PostgreSQL refused NUL and 64-bit overflows reached the database.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from game.db import transaction
from game.errors import ErrorCode, InvalidInput
from game.inputs import (
    INT32_MAX,
    SNOWFLAKE_MAX,
    check_number,
    check_snowflake,
    clean_label,
    clean_name,
    clean_reason,
    clean_text,
    read_snowflake,
)
from game.models import Citizen, LedgerEntry, Permit, ShopItem
from game.services import appeals, edits, friends, ledger, permits, queries, seasons
from tests.factories import GUILD_ID, NOW, make_citizen, make_citizens, make_season, user_id
from tests.support.refusals import refused

NUL = "\x00"
TOO_BIG_ID = 99999999999999999999  # 20 digits, above 2**64 even

# ------------------------------------------------------------------------------------------ texts


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"a{NUL}b", "a b"),
        ("tab\there\nand line", "tab here and line"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("non\ufffe\uffffchar\ufdd0s", "nonchars"),
        ("\u202eevil\u202c name", "evil name"),
        (
            "family \U0001f468\u200d\U0001f469\u200d\U0001f467 stays",
            "family \U0001f468\u200d\U0001f469\u200d\U0001f467 stays",
        ),
        ("  ", ""),
    ],
)
def test_clean_text_removes_what_no_table_should_hold(typed: str, stored: str) -> None:
    assert clean_text(typed) == stored
    assert NUL not in clean_text(typed)


def test_a_reason_of_nothing_but_control_characters_is_empty() -> None:
    with refused(InvalidInput, ErrorCode.REASON_EMPTY, purpose="permit"):
        clean_reason(NUL * 5, purpose="permit")


def test_names_are_cut_labels_are_refused() -> None:
    assert clean_name("x" * 300, limit=100) == "x" * 100
    assert clean_name(NUL) == ""
    with refused(InvalidInput, ErrorCode.TEXT_TOO_LONG, what="the name", limit=100, length=101):
        clean_label("y" * 101, what="the name")
    with refused(InvalidInput, ErrorCode.TEXT_EMPTY, what="the key"):
        clean_label(f" {NUL} ", what="the key")


@pytest.mark.parametrize("value", [0, -1, 101, True, 2**63])
def test_numbers_out_of_range_are_refused(value: int) -> None:
    with refused(InvalidInput, ErrorCode.NUMBER_OUT_OF_RANGE, what="the page", low=1, high=100):
        check_number(value, what="the page", low=1, high=100)


@pytest.mark.parametrize("value", [0, -5, SNOWFLAKE_MAX + 1, TOO_BIG_ID])
def test_ids_no_discord_could_make_are_refused(value: int) -> None:
    with refused(InvalidInput, ErrorCode.NOT_A_MEMBER_ID):
        check_snowflake(value)


def test_read_snowflake() -> None:
    assert read_snowflake(" 123456789012345678 ") == 123456789012345678
    assert read_snowflake("zed") is None
    with refused(InvalidInput, ErrorCode.NOT_A_MEMBER_ID, text=str(TOO_BIG_ID)):
        read_snowflake(str(TOO_BIG_ID))


# -------------------------------------------------------------------------- through the services


async def test_a_display_name_with_nul_is_stored_clean(engine: AsyncEngine) -> None:
    await make_season(engine)
    joined = await make_citizen(engine, n=1, name=f"zed{NUL}\u202e")
    nameless = await make_citizen(engine, n=2, name=NUL * 3)
    assert joined.display_name == "zed"
    assert nameless.display_name == "Citizen #2"


async def test_reasons_with_nul_are_stored_clean(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizens(engine, count=2)
    async with transaction(engine) as session:
        await ledger.adjust_score(
            session,
            guild_id=GUILD_ID,
            user_id=user_id(1),
            delta=-5,
            reason=f"spam{NUL}spam",
            moderator_id=user_id(2),
            now=NOW,
        )
        await permits.request_permit(
            session, guild_id=GUILD_ID, user_id=user_id(1), topic="politics", reason=f"a{NUL}b", now=NOW
        )
    async with transaction(engine) as session:
        reasons = (await session.exec(select(LedgerEntry.reason))).all()
        [permit] = (await session.exec(select(Permit))).all()
    assert "spam spam" in reasons
    assert permit.reason == "a b"


async def test_typed_ids_beyond_64_bits_never_reach_the_database(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizens(engine, count=1)
    async with transaction(engine) as session:
        for call in (friends.accept_friend, friends.decline_friend):
            with refused(InvalidInput, ErrorCode.NOT_A_MEMBER_ID):
                await call(session, guild_id=GUILD_ID, user_id=user_id(1), from_user_id=TOO_BIG_ID, now=NOW)
        for other in (TOO_BIG_ID, 0):
            with refused(InvalidInput, ErrorCode.NOT_A_MEMBER_ID):
                await friends.remove_friend(
                    session, guild_id=GUILD_ID, user_id=user_id(1), friend_user_id=other, now=NOW
                )
            with refused(InvalidInput, ErrorCode.NOT_A_MEMBER_ID):
                await friends.request_friend(
                    session, guild_id=GUILD_ID, user_id=user_id(1), friend_user_id=other, now=NOW
                )


async def test_naming_yourself_says_what_you_tried(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizens(engine, count=1)
    me = user_id(1)
    async with transaction(engine) as session:
        with refused(InvalidInput, ErrorCode.NO_REQUEST_FROM_SELF):
            await friends.accept_friend(session, guild_id=GUILD_ID, user_id=me, from_user_id=me, now=NOW)
        with refused(InvalidInput, ErrorCode.NO_REQUEST_FROM_SELF):
            await friends.decline_friend(session, guild_id=GUILD_ID, user_id=me, from_user_id=me, now=NOW)
        with refused(InvalidInput, ErrorCode.NOT_OWN_FRIEND):
            await friends.remove_friend(session, guild_id=GUILD_ID, user_id=me, friend_user_id=me, now=NOW)


@pytest.mark.parametrize("number", [0, -1, 2**31, 2**53 - 1])
async def test_season_numbers_are_bounded(engine: AsyncEngine, number: int) -> None:
    await make_season(engine)
    async with transaction(engine) as session:
        with refused(InvalidInput, ErrorCode.NUMBER_OUT_OF_RANGE, low=1, high=seasons.MAX_SEASON_NUMBER):
            await seasons.get_season(session, guild_id=GUILD_ID, number=number)


@pytest.mark.parametrize("page", [0, -1, 2**31, 2**63])
async def test_leaderboard_pages_are_bounded(engine: AsyncEngine, page: int) -> None:
    season = await make_season(engine)
    async with transaction(engine) as session:
        with refused(InvalidInput, ErrorCode.NUMBER_OUT_OF_RANGE, low=1, high=queries.MAX_PAGE):
            await queries.leaderboard_page(session, season_id=season.id, page=page)


@pytest.mark.parametrize("entry", [0, -1, 2**63])
async def test_appeal_entry_numbers_are_bounded(engine: AsyncEngine, entry: int) -> None:
    await make_season(engine)
    await make_citizens(engine, count=1)
    async with transaction(engine) as session:
        with refused(InvalidInput, ErrorCode.NUMBER_OUT_OF_RANGE):
            await appeals.file_appeal(
                session, guild_id=GUILD_ID, user_id=user_id(1), entry_id=entry, reason="no", now=NOW
            )


def _item(**changes: object) -> dict[str, object]:
    item: dict[str, object] = {"key": "kite", "name": "Kite", "price": 10, "effect": 1, "reason": "fun"}
    item.update(changes)
    return item


@pytest.mark.parametrize(
    ("changes", "what"),
    [
        ({"stock": INT32_MAX + 1}, "the stock"),
        ({"stock": -1}, "the stock"),
        ({"price": 2**63}, "the price"),
        ({"effect": -(2**31)}, "the effect"),
    ],
)
async def test_catalogue_numbers_are_bounded(
    engine: AsyncEngine, changes: dict[str, object], what: str
) -> None:
    await make_season(engine)
    async with transaction(engine) as session:
        with refused(InvalidInput, ErrorCode.NUMBER_OUT_OF_RANGE, what=what):
            await edits.add_catalogue_item(session, guild_id=GUILD_ID, item=_item(**changes))


async def test_catalogue_texts_are_cleaned(engine: AsyncEngine) -> None:
    await make_season(engine)
    async with transaction(engine) as session:
        await edits.add_catalogue_item(
            session,
            guild_id=GUILD_ID,
            item=_item(name=f"Ki{NUL}te", description=f"x{NUL}", stock=edits.MAX_STOCK),
        )
        with refused(InvalidInput, ErrorCode.TEXT_EMPTY, what="the reason"):
            await edits.add_catalogue_item(session, guild_id=GUILD_ID, item=_item(key="k2", reason=NUL))
    async with transaction(engine) as session:
        row = (await session.exec(select(ShopItem).where(ShopItem.key == "kite"))).one()
    assert (row.name, row.description, row.stock) == ("Ki te", "x", edits.MAX_STOCK)


async def test_citizens_are_intact_after_refusals(engine: AsyncEngine) -> None:
    await make_season(engine)
    await make_citizens(engine, count=1)
    async with transaction(engine) as session:
        with refused(InvalidInput, ErrorCode.NOT_A_MEMBER_ID):
            await friends.request_friend(
                session, guild_id=GUILD_ID, user_id=user_id(1), friend_user_id=TOO_BIG_ID, now=NOW
            )
    async with transaction(engine) as session:
        assert len((await session.exec(select(Citizen))).all()) == 1
