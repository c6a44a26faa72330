"""/decree through the bot under SimCord: list, issue (with autocomplete), revoke, refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import simcord

from bot.utils.decrees import TIMELINE_FIELD, timeline_lines
from game.models import DecreeRecord, LedgerEntry, SourceKind
from game.services.decrees import DecreeBoard, DecreeLine
from tests.support.bureau import (
    Town,
    assert_refused,
    build_town,
    configure,
    enrol,
    open_bureau_commands,
    reply,
    rows,
    start_season,
)


@pytest.fixture
async def town(sim: simcord.Env) -> Town:
    town = build_town(sim)
    await configure(sim, town)
    await start_season(sim, town, duration="7d")
    return town


async def test_list_shows_the_timeline_and_the_optional_decrees(sim: simcord.Env, town: Town) -> None:
    embed = reply(await town.mod.slash(town.square, "decree list")).embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert fields["In force"] == "*none*"
    assert "`pilot-scheme`" in fields["Coming"]
    assert "`market-amnesty`" in fields["Optional (/decree issue)"]


async def test_autocomplete_offers_the_optional_decrees(sim: simcord.Env, town: Town) -> None:
    choices = await town.mod.autocomplete(town.square, "decree issue", "decree", "amnesty")
    assert [choice["value"] for choice in choices] == ["market-amnesty"]
    assert await town.mod.autocomplete(town.square, "decree revoke", "decree", "") == []


async def test_an_amnesty_is_issued_announced_and_written_to_the_ledger(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    await ana.send(town.square, "Remember the stock market crash?")
    await town.mod.slash(town.square, "audit")

    result = await town.mod.slash(town.square, "decree issue", decree="market-amnesty")

    assert reply(result).embeds[0].title == "Decree issued: Market amnesty"
    [reversal] = [e for e in await rows(sim, LedgerEntry) if e.source_kind == SourceKind.DECREE]
    assert reversal.delta == 40
    assert reversal.reason.startswith("Amnesty (Market amnesty)")
    [record] = await rows(sim, DecreeRecord)
    assert (record.decree_key, record.issued_by, record.reversed_entries) == (
        "market-amnesty",
        town.mod.id,
        1,
    )
    await sim.bot.courier.deliver_pending()  # type: ignore[attr-defined]
    post = town.announcements.last_message.embeds[0]
    assert post.title.endswith("Decree: Market amnesty")
    assert "Every penalty for **the 2015 stock market crash** so far is forgiven." in post.description
    assert f"By order of {town.mod.mention}." in post.description

    choices = await town.mod.autocomplete(town.square, "decree revoke", "decree", "")
    assert [choice["value"] for choice in choices] == ["market-amnesty"]
    revoked = await town.mod.slash(town.square, "decree revoke", decree="market-amnesty")
    assert reply(revoked).embeds[0].title == "Decree revoked: Market amnesty"


async def test_unknown_and_scheduled_decrees_get_a_sentence(sim: simcord.Env, town: Town) -> None:
    unknown = await town.mod.slash(town.square, "decree issue", decree="free-snacks")
    assert unknown.ephemeral
    assert "no optional decree `free-snacks`" in reply(unknown).content
    scheduled = await town.mod.slash(town.square, "decree issue", decree="pilot-scheme")
    assert "is on the season's timeline and comes by itself" in reply(scheduled).content
    missing = await town.mod.slash(town.square, "decree revoke", decree="praise-campaign")
    assert "No decree `praise-campaign` is in force; none is." in reply(missing).content
    assert await rows(sim, DecreeRecord) == []


async def test_a_plain_member_may_not_issue(sim: simcord.Env, town: Town) -> None:
    open_bureau_commands(sim, town.guild, town.guild.default_role)
    assert_refused(await town.plain.slash(town.square, "decree issue", decree="market-amnesty"))
    assert await rows(sim, DecreeRecord) == []


async def test_status_and_help_show_a_public_timeline(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "decree issue", decree="praise-campaign")
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)

    for actor, command in ((town.mod, "season status"), (ana, "help")):
        embed = reply(await actor.slash(town.square, command)).embeds[0]
        fields = {field.name: field.value for field in embed.fields}
        timeline = fields[TIMELINE_FIELD]
        assert "**Positive energy campaign** `praise-campaign`: from audit 1" in timeline
        assert "through audit 12" in timeline
        assert "**The pilot scheme** `pilot-scheme`: <t:" in timeline


def test_a_secret_timeline_is_not_shown() -> None:
    line = DecreeLine(
        key="crackdown", name="The Crackdown", description="", optional=False, record_id=1, from_audit=3
    )
    board = DecreeBoard(public=False, in_force=(line,), coming=(), optional=(), past=())
    assert timeline_lines(board, datetime.now(UTC)) is None
    assert timeline_lines(replace(board, public=True), datetime.now(UTC)) is not None
