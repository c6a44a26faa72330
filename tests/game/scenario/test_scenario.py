from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from game.errors import GameError, NotFound, ScenarioError, UnknownScenario
from game.rules.speech import SpeechMatcher
from game.scenario import (
    Dimension,
    Scenario,
    TopicKind,
    available_scenarios,
    load_scenario,
    load_scenario_file,
    parse_scenario,
    restore_scenario,
    with_item_added,
    with_item_price,
    with_item_removed,
    with_phrase_added,
    with_phrase_removed,
    with_sentiment_enabled,
    with_topic_added,
    with_topic_delta,
    with_topic_removed,
)

SHIPPED = ["classic", "debate-club", "game-night"]
CLASSIC_TEXT = (resources.files("citizen_score_data") / "classic.toml").read_text(encoding="utf-8")


# --- The shipped packs --------------------------------------------------------------------------------


def test_every_shipped_pack_is_listed() -> None:
    summaries = available_scenarios()
    assert [s.key for s in summaries] == SHIPPED
    assert all(s.name and s.description for s in summaries)


@pytest.mark.parametrize("key", SHIPPED)
def test_every_shipped_pack_loads_and_round_trips_through_json(key: str) -> None:
    scenario = load_scenario(key)
    assert scenario.key == key
    assert len(scenario.discussion_prompts) >= 5
    stored = json.loads(json.dumps(scenario.model_dump(mode="json")))  # what a season's JSON column holds
    assert restore_scenario(stored) == scenario
    assert Scenario.model_validate(stored) == scenario
    SpeechMatcher.from_scenario(scenario)  # every pack compiles


def test_classic_holds_the_numbers_of_the_game() -> None:
    classic = load_scenario("classic")
    assert (classic.score.minimum, classic.score.maximum, classic.score.start) == (350, 950, 600)
    assert [(t.name, t.min_score, t.max_score, t.role) for t in classic.tiers] == [
        ("Untrustworthy", 350, 549, None),
        ("Ordinary", 550, 649, None),
        ("Trustworthy", 650, 699, None),
        ("Travel Permit", 700, 749, "Travel Permit"),
        ("Visa", 750, 849, "Visa"),
        ("Model Citizen", 850, 950, "Model Citizen"),
    ]
    untrustworthy = classic.tier("untrustworthy")
    assert (untrustworthy.price_markup_percent, untrustworthy.travel_banned) == (25, True)
    assert {f.penalty for f in classic.speech.forbidden} <= set(range(-60, -29))
    assert {"tiananmen-1989", "stock-crash-2015"} <= {f.key for f in classic.speech.forbidden}
    assert classic.topic("politics").model_dump()["penalty"] == -25
    assert {a.bonus for a in classic.speech.approved} <= set(range(5, 16))
    economy = classic.economy
    assert (economy.start_balance, economy.stipend, economy.cost_of_living, economy.unpaid_penalty) == (
        500,
        20,
        15,
        -10,
    )
    friends = classic.friends
    assert (friends.factor, friends.cap_per_audit, friends.max_friends) == (0.2, -50, 25)
    assert (friends.factor_numerator, friends.factor_denominator) == (1, 5)
    assert (classic.rewards.min_interval, classic.rewards.repeat_window) == (timedelta(seconds=60), 5)
    assert classic.season.audit_interval == timedelta(minutes=15)
    assert classic.season.min_audit_interval == timedelta(seconds=10)
    effects = {item.key: item.effect for item in classic.catalogue}
    assert effects["diapers"] == 10
    assert classic.item("diapers").reason == "responsible parent"
    assert (effects["work-boots"], effects["party-newspaper"], effects["imported-liquor"]) == (5, 8, -10)
    assert (effects["video-game"], effects["vpn"]) == (-20, -40)
    assert classic.item("singapore-guide").requires_travel_permit
    assert all(item.dimension is Dimension.CONSUMPTION for item in classic.catalogue)


def test_the_other_packs_keep_their_promises() -> None:
    debate, night = load_scenario("debate-club"), load_scenario("game-night")
    assert len(debate.speech.permit_required) >= len(debate.speech.forbidden)
    assert debate.season.audit_interval < load_scenario("classic").season.audit_interval
    assert night.season.duration == timedelta(hours=2)
    biggest = max(-f.penalty for f in load_scenario("classic").speech.forbidden)
    assert max(-f.penalty for f in night.speech.forbidden) > biggest


def test_unknown_scenarios_are_not_found() -> None:
    for key in ("nope", "../classic", "classic.toml", ""):
        with pytest.raises(UnknownScenario) as caught:
            load_scenario(key)
        assert isinstance(caught.value, NotFound)
        assert isinstance(caught.value, ScenarioError)
        assert "classic, debate-club, game-night" in str(caught.value)


def test_a_scenario_is_frozen() -> None:
    classic = load_scenario("classic")
    with pytest.raises(ValidationError):
        classic.name = "Lenient"  # type: ignore[misc]


# --- Broken packs are refused with file, field and reason ---------------------------------------------


def broken(tmp_path: Path, old: str, new: str) -> str:
    assert old in CLASSIC_TEXT, f"the test's anchor {old!r} is no longer in classic.toml"
    path = tmp_path / "broken.toml"
    path.write_text(CLASSIC_TEXT.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path)
    assert isinstance(caught.value, GameError)
    assert caught.value.source == str(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ('min_score = 550', 'min_score = 560', "tiers[1].min_score",
         "must be 550, one above tiers[0].max_score"),
        ('min_score = 650\nmax_score = 699', 'min_score = 640\nmax_score = 699', "tiers[2].min_score",
         "overlap"),
        ('max_score = 950', 'max_score = 940', "tiers[5].max_score", "must be 950, the highest score"),
        ('min_score = 350\nmax_score = 549', 'min_score = 360\nmax_score = 549', "tiers[0].min_score",
         "must be 350"),
        ('max_score = 549', 'max_score = 300', "tiers[0].max_score", "must be at least min_score"),
        ('key = "ordinary"', 'key = "untrustworthy"', "tiers[1].key", "already the key of tiers[0]"),
        ('key = "ordinary"', 'key = "Ordinary Folk"', "tiers[1].key", "lowercase letters"),
        ('role = "Visa"', 'role = "Travel Permit"', "tiers[4].role", "already the role of tiers[3]"),
        ("start = 600", "start = 1000", "score.start", "must be within 350..950"),
        ("penalty = -60", "penalty = 60", "speech.forbidden[0].penalty", "must be less than 0"),
        ("bonus = 10", "bonus = -10", "speech.approved[0].bonus", "must be greater than 0"),
        ("unpaid_penalty = -10", "unpaid_penalty = 0", "economy.unpaid_penalty", "must be less than 0"),
        ("stipend = 20\n", "", "economy.stipend", "is required"),
        ("stipend = 20", "stipned = 20", "economy.stipned", "not a field the Bureau recognises"),
        ("factor = 0.2", "factor = 1.5", "friends.factor", "less than or equal to 1"),
        ("factor = 0.2", "factor = 0.2001", "friends.factor", "at most three decimals"),
        ("cap_per_audit = -50", "cap_per_audit = 50", "friends.cap_per_audit", "less than or equal to 0"),
        ("price = 30", "price = -30", "catalogue[0].price", "greater than or equal to 0"),
        ('key = "work-boots"', 'key = "diapers"', "catalogue[1].key", "already the key of catalogue[0]"),
        ('reason = "idle hands"', 'reason = "idle hands"\nmin_tier = "emperor"', "catalogue[5].min_tier",
         "must be the key of a tier"),
        ('requires_travel_permit = true', 'requires_travel_permit = true\nstock = -1', "catalogue[8].stock",
         "greater than or equal to 0"),
        ('audit_interval = "15m"', 'audit_interval = "15 parsecs"', "season.audit_interval",
         "must be a duration"),
        ('audit_interval = "15m"', 'audit_interval = "5s"', "season.audit_interval",
         "not be shorter than min_audit_interval"),
        ('min_interval = "60s"', 'min_interval = "-60s"', "rewards.min_interval", "must be a duration"),
        ('default_duration = "24h"', 'default_duration = "0h"', "permits.default_duration",
         "must be a duration"),
        ('"Pooh Bear"]', '"Pooh Bear", "tank  MAN"]', "speech.forbidden[2].phrases[2]",
         "already a phrase of speech.forbidden[0] (tiananmen-1989)"),
        ('"Pooh Bear"]', '"Pooh Bear", "?!"]', "speech.forbidden[2].phrases[2]",
         "at least one letter or digit"),
        ('key = "politics"', 'key = "tiananmen-1989"', "speech.permit_required[0].key",
         "already the key of speech.forbidden[0]"),
        ("positive_threshold = 0.6", "positive_threshold = 2", "speech.sentiment.positive_threshold",
         "less than or equal to 1"),
    ],
)  # fmt: skip
def test_a_broken_pack_is_refused(tmp_path: Path, old: str, new: str, field: str, reason: str) -> None:
    message = broken(tmp_path, old, new)
    assert f"{tmp_path / 'broken.toml'}: {field}: " in message
    assert reason in message


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    text = CLASSIC_TEXT.replace("start = 600", "start = 2000").replace("stipend = 20", "stipend = -1")
    path = tmp_path / "twice.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path)
    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"score.start", "economy.stipend"}
    assert len(str(caught.value).splitlines()) == 2


def test_a_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "syntax.toml"
    path.write_text('key = "x"\nname = "X"\ndescription = \n', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path)
    assert str(caught.value).startswith(f"{path}: line 3, column ")
    assert "TOML syntax" in str(caught.value)


def test_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"missing\.toml: cannot be read"):
        load_scenario_file(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario_file(binary)


def test_parse_scenario_names_the_given_source() -> None:
    with pytest.raises(ScenarioError, match=r"^upload\.toml: key: is required"):
        parse_scenario(CLASSIC_TEXT.replace('key = "classic"\n', "", 1), source="upload.toml")


def test_a_corrupt_stored_copy_is_refused() -> None:
    stored = load_scenario("classic").model_dump(mode="json")
    stored["tiers"] = stored["tiers"][1:]
    with pytest.raises(ScenarioError, match=r"^season 3: tiers\[0\]\.min_score: must be 350"):
        restore_scenario(stored, source="season 3")
    stored = load_scenario("classic").model_dump(mode="json")
    stored["discussion_prompts"] = []
    with pytest.raises(ScenarioError, match=r"^season 3: discussion_prompts: must have at least 1 item"):
        restore_scenario(stored, source="season 3")


# --- Moderators' edits --------------------------------------------------------------------------------

CLASSIC = load_scenario("classic")


def test_adding_a_topic_makes_a_new_scenario_the_matcher_uses() -> None:
    edited = with_topic_added(
        CLASSIC,
        kind=TopicKind.FORBIDDEN,
        key="pizza",
        name="pineapple pizza",
        phrases=["pineapple pizza"],
        delta=-35,
    )
    assert CLASSIC.speech.forbidden[-1].key != "pizza"  # the original is untouched
    assert edited.speech.forbidden[-1].key == "pizza"
    findings = SpeechMatcher.from_scenario(edited).judge_message("Pineapple-pizza!", permits=frozenset())
    assert [(f.rule_key, f.delta) for f in findings] == [("pizza", -35)]
    approved = with_topic_added(
        CLASSIC, kind=TopicKind.APPROVED, key="smiles", name="Smiles", phrases=["smile"], delta=6
    )
    assert approved.topic("smiles").model_dump()["bonus"] == 6


def test_edits_are_validated_like_a_file() -> None:
    with pytest.raises(
        ScenarioError, match=r"^scenario 'classic': speech\.forbidden\[6\]\.penalty: must be less"
    ):
        with_topic_added(CLASSIC, kind=TopicKind.FORBIDDEN, key="pizza", name="P", phrases=["pizza"], delta=5)
    with pytest.raises(ScenarioError, match=r"speech\.permit_required\[3\]\.key: 'politics' is already"):
        with_topic_added(
            CLASSIC, kind=TopicKind.PERMIT_REQUIRED, key="politics", name="P", phrases=["x"], delta=-5
        )
    with pytest.raises(ScenarioError, match=r"already a phrase of speech\.forbidden"):
        with_phrase_added(CLASSIC, "politics", "Tank Man")
    with pytest.raises(ScenarioError, match=r"catalogue\[0\]\.price"):
        with_item_price(CLASSIC, "diapers", -1)
    with pytest.raises(ScenarioError, match="there is no topic 'nope'"):
        with_topic_removed(CLASSIC, "nope")
    with pytest.raises(ScenarioError, match="there is no item 'nope'"):
        with_item_price(CLASSIC, "nope", 3)


def test_phrases_are_added_and_removed_as_the_matcher_sees_them() -> None:
    added = with_phrase_added(CLASSIC, "politics", "referendum")
    assert added.topic("politics").phrases[-1] == "referendum"
    removed = with_phrase_removed(added, "politics", "  REFERENDUM! ")
    assert removed == CLASSIC
    with pytest.raises(ScenarioError, match="has no phrase"):
        with_phrase_removed(CLASSIC, "politics", "referendum")
    with pytest.raises(ScenarioError, match="last phrase of 'positive-energy'"):
        with_phrase_removed(
            with_phrase_removed(CLASSIC, "positive-energy", "正能量"), "positive-energy", "positive energy"
        )


def test_other_edits() -> None:
    assert (
        with_topic_delta(CLASSIC, "tiananmen-1989", -45).topic("tiananmen-1989").model_dump()["penalty"]
        == -45
    )
    assert with_topic_delta(CLASSIC, "harmony", 7).topic("harmony").model_dump()["bonus"] == 7
    assert "politics" not in {t.key for t in with_topic_removed(CLASSIC, "politics").speech.permit_required}
    assert with_item_price(CLASSIC, "vpn", 99).item("vpn").price == 99
    assert "vpn" not in {i.key for i in with_item_removed(CLASSIC, "vpn").catalogue}
    tea = with_item_added(CLASSIC, {"key": "tea", "name": "Tea", "price": 5, "effect": 1, "reason": "calm"})
    assert tea.item("tea").dimension is Dimension.CONSUMPTION
    again = with_item_added(with_item_removed(CLASSIC, "vpn"), CLASSIC.item("vpn"))
    assert again.item("vpn") == CLASSIC.item("vpn")
    sentiment = with_sentiment_enabled(CLASSIC, True).speech.sentiment
    assert sentiment is not None
    assert sentiment.enabled
