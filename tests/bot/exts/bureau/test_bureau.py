from __future__ import annotations

import pytest
import simcord

from bot.client import CitizenBot
from game.models import (
    Appeal,
    Audit,
    Citizen,
    Dimension,
    LedgerEntry,
    Permit,
    RequestStatus,
    Season,
    ShopItem,
    SourceKind,
)
from game.scenario import restore_scenario
from game.services import appeals, permits
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
    await start_season(sim, town)
    return town


def the_bot(sim: simcord.Env) -> CitizenBot:
    return sim.bot  # type: ignore[return-value]


async def season_rules(sim: simcord.Env):  # type: ignore[no-untyped-def]
    [season] = await rows(sim, Season)
    return restore_scenario(season.rules)


# ------------------------------------------------------------------------------------------------ /audit


async def test_audit_scores_what_was_said_and_posts_the_bulletin(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    await ana.send(town.square, "Who remembers Tiananmen?")

    result = await town.mod.slash(town.square, "audit")

    embed = reply(result).embeds[0]
    assert embed.title == "Audit 1 done"
    assert "1 message reviewed" in embed.description
    [entry] = [e for e in await rows(sim, LedgerEntry) if e.dimension == Dimension.SPEECH]
    assert entry.delta == -60
    bulletin = town.announcements.last_message.embeds[0]
    assert bulletin.title.endswith("Bureau bulletin · audit 1")
    losses = {field.name: field.value for field in bulletin.fields}[
        "\N{CHART WITH DOWNWARDS TREND} Biggest losses"
    ]
    assert ana.mention in losses
    assert "\N{MINUS SIGN}" in losses


async def test_audit_without_a_season_says_how_to_start_one(sim: simcord.Env) -> None:
    town = build_town(sim, "Quiet Town")
    result = await town.mod.slash(town.square, "audit")

    assert "/season start" in result.response.content
    assert await rows(sim, Audit) == []


async def test_audit_of_a_paused_season_is_refused(sim: simcord.Env, town: Town) -> None:
    await town.mod.slash(town.square, "season pause")
    result = await town.mod.slash(town.square, "audit")

    assert "paused" in reply(result).content
    assert await rows(sim, Audit) == []


# ----------------------------------------------------------------------------------------------- /adjust


async def test_adjust_writes_a_bureau_entry(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)

    result = await town.mod.slash(
        town.square, "adjust", citizen=ana, delta=-25, reason="Loitering near the library"
    )

    embed = result.response.embeds[0]
    assert embed.title == "ana: \N{MINUS SIGN}25"
    assert "600 → **575**" in embed.description
    [entry] = await rows(sim, LedgerEntry)
    assert (entry.dimension, entry.delta, entry.source_kind) == (Dimension.BUREAU, -25, SourceKind.MODERATOR)
    assert entry.source_ref == str(town.mod.id)
    [citizen] = await rows(sim, Citizen)
    assert citizen.score == 575


async def test_adjust_is_clamped_by_the_game_and_says_so(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)

    result = await town.mod.slash(town.square, "adjust", citizen=ana, delta=500, reason="Exemplary")

    fields = {field.name: field.value for field in result.response.embeds[0].fields}
    assert "You asked for +500" in fields["Clamped"]
    assert "+350" in fields["Clamped"]
    [citizen] = await rows(sim, Citizen)
    assert citizen.score == 950
    [entry] = await rows(sim, LedgerEntry)
    assert entry.delta == 350


@pytest.mark.parametrize(
    ("delta", "reason", "expected"),
    [
        (10**15, "Hostile", "An adjustment is from -600 to 600"),
        (0, "Nothing", "not zero"),
        (5, "x" * 2000, "Keep the reason to 200 characters; yours has 2,000"),
        (5, "   ", "Give a reason"),
    ],
)
async def test_hostile_adjustments_are_refused_in_a_sentence(
    sim: simcord.Env, town: Town, delta: int, reason: str, expected: str
) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)

    result = await town.mod.slash(town.square, "adjust", citizen=ana, delta=delta, reason=reason)

    assert result.ephemeral
    assert expected in result.response.content
    assert await rows(sim, LedgerEntry) == []


async def test_adjusting_a_member_who_is_not_enrolled(sim: simcord.Env, town: Town) -> None:
    result = await town.mod.slash(town.square, "adjust", citizen=town.plain, delta=5, reason="Helpful")

    assert "not a citizen" in result.response.content
    assert await rows(sim, LedgerEntry) == []


# ------------------------------------------------------------------------------------------------ /rules


async def test_rules_list_shows_every_kind(sim: simcord.Env, town: Town) -> None:
    result = await town.mod.slash(town.square, "rules list")

    embed = result.response.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert "`tiananmen-1989` \N{MINUS SIGN}60" in fields["\N{NO ENTRY SIGN} Forbidden topics"]
    assert "`politics`" in fields["\N{MEMO} Need a permit"]
    assert "`positive-energy`" in fields["\N{WHITE HEAVY CHECK MARK} Approved talk"]

    one = await town.mod.slash(town.square, "rules list", topic="a-certain-bear")
    assert "`Winnie the Pooh`" in one.response.embeds[0].fields[0].value


async def test_topics_and_phrases_are_edited(sim: simcord.Env, town: Town) -> None:
    added = await town.mod.slash(
        town.square,
        "rules add-topic",
        kind="forbidden",
        key="Tax-Reform",
        name="tax reform",
        phrases="tax reform; new taxes, , flat tax",
        points=-35,
    )
    assert added.response.embeds[0].title == "Topic added: tax reform"
    rule = (await season_rules(sim)).topic("tax-reform")
    assert (rule.phrases, rule.penalty) == (("tax reform", "new taxes", "flat tax"), -35)

    await town.mod.slash(town.square, "rules add-phrase", topic="tax-reform", phrase="VAT")
    await town.mod.slash(town.square, "rules remove-phrase", topic="tax-reform", phrase="NEW TAXES")
    assert (await season_rules(sim)).topic("tax-reform").phrases == ("tax reform", "flat tax", "VAT")

    removed = await town.mod.slash(town.square, "rules remove-topic", topic="tax-reform")
    assert removed.response.embeds[0].title == "Topic removed"
    with pytest.raises(KeyError):
        (await season_rules(sim)).topic("tax-reform")


async def test_an_edited_rule_applies_at_the_next_audit(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    await town.mod.slash(town.square, "rules add-phrase", topic="a-certain-bear", phrase="honey pot")

    await ana.send(town.square, "Look at that honey pot")
    await town.mod.slash(town.square, "audit")

    [entry] = [e for e in await rows(sim, LedgerEntry) if e.dimension == Dimension.SPEECH]
    assert (entry.rule_key, entry.delta) == ("a-certain-bear", -30)


@pytest.mark.parametrize(
    ("command", "options", "expected"),
    [
        ("rules remove-topic", {"topic": "no-such-topic"}, "there is no topic 'no-such-topic'"),
        ("rules add-phrase", {"topic": "no-such-topic", "phrase": "x"}, "there is no topic 'no-such-topic'"),
        ("rules remove-phrase", {"topic": "politics", "phrase": "cabbage"}, "has no phrase 'cabbage'"),
        ("rules list", {"topic": "no-such-topic"}, "There is no topic “no-such-topic”"),
        (
            "rules add-topic",
            {"kind": "forbidden", "key": "gossip", "name": "gossip", "phrases": "gossip", "points": 20},
            "give a negative number",
        ),
        (
            "rules add-topic",
            {"kind": "forbidden", "key": "again", "name": "again", "phrases": "Tiananmen", "points": -5},
            "is already a phrase of",
        ),
        (
            "rules add-topic",
            {"kind": "approved", "key": "x", "name": "x", "phrases": " , ;", "points": 5},
            "at least one phrase",
        ),
    ],
)
async def test_unknown_or_invalid_rules_edits_get_a_sentence(
    sim: simcord.Env, town: Town, command: str, options: dict[str, object], expected: str
) -> None:
    before = (await rows(sim, Season))[0].rules

    result = await town.mod.slash(town.square, command, **options)

    assert result.ephemeral
    assert expected in result.response.content
    assert (await rows(sim, Season))[0].rules == before


async def test_topic_autocomplete_lists_the_seasons_topics(sim: simcord.Env, town: Town) -> None:
    choices = await town.mod.autocomplete(town.square, "rules remove-topic", "topic", "bear")

    assert [choice["value"] for choice in choices] == ["a-certain-bear"]


async def test_phrase_autocomplete_follows_the_chosen_topic(sim: simcord.Env, town: Town) -> None:
    choices = await town.mod.autocomplete(
        town.square, "rules remove-phrase", "phrase", "pooh", topic="a-certain-bear"
    )

    assert [choice["value"] for choice in choices] == ["Winnie the Pooh", "Pooh Bear"]


# ---------------------------------------------------------------------------------------------- /catalog


async def test_catalog_items_are_added_repriced_and_withdrawn(sim: simcord.Env, town: Town) -> None:
    added = await town.mod.slash(
        town.square,
        "catalog add",
        key="bicycle",
        name="Bicycle",
        price=120,
        effect=6,
        reason="healthy commuting",
        stock=3,
    )
    assert added.response.embeds[0].title == "In the shop: Bicycle"
    assert "120 credits" in added.response.embeds[0].description

    repriced = await town.mod.slash(town.square, "catalog price", item="bicycle", price=1500)
    assert "120 credits → **1,500 credits**" in repriced.response.embeds[0].description

    withdrawn = await town.mod.slash(town.square, "catalog remove", item="bicycle")
    assert withdrawn.response.embeds[0].title == "Withdrawn: Bicycle"
    [bike] = [item for item in await rows(sim, ShopItem) if item.key == "bicycle"]
    assert (bike.price, bike.active, bike.stock) == (1500, False, 3)


@pytest.mark.parametrize(
    ("command", "options", "expected"),
    [
        ("catalog price", {"item": "no-such-item", "price": 5}, "there is no item 'no-such-item'"),
        ("catalog remove", {"item": "no-such-item"}, "there is no item 'no-such-item'"),
        ("catalog price", {"item": "diapers", "price": -5}, "A price is from 0"),
        (
            "catalog add",
            {"key": "diapers", "name": "Diapers", "price": 1, "effect": 1, "reason": "again"},
            "already",
        ),
        (
            "catalog add",
            {"key": "Bad Key!", "name": "Thing", "price": 1, "effect": 1, "reason": "r"},
            "must be a short key",
        ),
    ],
)
async def test_unknown_or_invalid_catalog_edits_get_a_sentence(
    sim: simcord.Env, town: Town, command: str, options: dict[str, object], expected: str
) -> None:
    result = await town.mod.slash(town.square, command, **options)

    assert result.ephemeral
    assert expected in result.response.content


# ------------------------------------------------------------------------------------ /permits, /appeals


async def request_permit(sim: simcord.Env, town: Town, member: simcord.MemberActor) -> int:
    bot = the_bot(sim)
    async with bot.transaction() as session:
        permit = await permits.request_permit(
            session,
            guild_id=town.guild.id,
            user_id=member.id,
            topic="politics",
            reason="Debate night",
            now=bot.clock.now(),
        )
    return permit.id


async def test_permits_lists_pending_requests_with_buttons(sim: simcord.Env, town: Town) -> None:
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    permit_id = await request_permit(sim, town, ana)

    listed = await town.mod.slash(town.square, "permits")

    card = listed.response
    assert "1 permit request waiting" in card.content
    assert card.embeds[0].title == f"\N{PASSPORT CONTROL} Permit request #{permit_id}"
    approved = await town.mod.click(card, label="Approve")

    assert "Approved by" in {f.name: f.value for f in approved.response.embeds[0].fields}["Decision"]
    [permit] = await rows(sim, Permit)
    assert permit.status == RequestStatus.APPROVED
    assert permit.decided_by == town.mod.id


async def test_nothing_waiting(sim: simcord.Env, town: Town) -> None:
    permits_reply = await town.mod.slash(town.square, "permits")
    appeals_reply = await town.mod.slash(town.square, "appeals")

    assert permits_reply.response.embeds[0].title == "No permit requests waiting"
    assert appeals_reply.response.embeds[0].title == "No appeals waiting"


async def test_appeals_are_granted_with_a_reversing_entry(sim: simcord.Env, town: Town) -> None:
    bot = the_bot(sim)
    ana = town.guild.add_member(sim.create_user("ana"))
    await enrol(sim, town, ana)
    await town.mod.slash(town.square, "adjust", citizen=ana, delta=-40, reason="Suspicious shopping")
    [entry] = await rows(sim, LedgerEntry)
    async with bot.transaction() as session:
        await appeals.file_appeal(
            session,
            guild_id=town.guild.id,
            user_id=ana.id,
            entry_id=entry.id,
            reason="I was buying diapers",
            now=bot.clock.now(),
        )

    listed = await town.mod.slash(town.square, "appeals")
    assert "Suspicious shopping" in listed.response.embeds[0].description
    granted = await town.mod.click(listed.response, label="Grant")

    decision = {f.name: f.value for f in granted.response.embeds[0].fields}["Decision"]
    assert "entry reversed, +40 → score 600" in decision
    [appeal] = await rows(sim, Appeal)
    assert appeal.status == RequestStatus.APPROVED
    [citizen] = await rows(sim, Citizen)
    assert citizen.score == 600
    assert [e.delta for e in await rows(sim, LedgerEntry)] == [-40, 40]


# ------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("audit", {}),
        ("adjust", {"citizen": "plain", "delta": 5, "reason": "x"}),
        ("rules list", {}),
        ("rules add-topic", {"kind": "forbidden", "key": "k", "name": "n", "phrases": "p", "points": -5}),
        ("rules remove-topic", {"topic": "politics"}),
        ("rules add-phrase", {"topic": "politics", "phrase": "senate"}),
        ("rules remove-phrase", {"topic": "politics", "phrase": "vote"}),
        ("catalog add", {"key": "k", "name": "n", "price": 1, "effect": 1, "reason": "r"}),
        ("catalog remove", {"item": "diapers"}),
        ("catalog price", {"item": "diapers", "price": 1}),
        ("permits", {}),
        ("appeals", {}),
    ],
)
async def test_every_bureau_command_refuses_a_plain_member(
    sim: simcord.Env, town: Town, command: str, options: dict[str, object]
) -> None:
    open_bureau_commands(sim, town.guild, town.guild.default_role)
    resolved = {key: town.plain if value == "plain" else value for key, value in options.items()}
    rules_before = (await rows(sim, Season))[0].rules

    result = await town.plain.slash(town.square, command, **resolved)

    assert_refused(result)
    assert (await rows(sim, Season))[0].rules == rules_before
    assert await rows(sim, Audit) == []
    assert await rows(sim, LedgerEntry) == []


async def test_bureau_commands_are_hidden_from_plain_members(sim: simcord.Env, town: Town) -> None:
    visible = town.plain.available_commands(town.square)

    for command in ("audit", "adjust", "rules list", "catalog add", "permits", "appeals", "season start"):
        assert command not in visible
        assert command in town.mod.available_commands(town.square)
