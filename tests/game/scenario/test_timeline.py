"""Scenario timelines: the shipped packs' decrees; broken timelines refused with file, field and reason."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from game.errors import ScenarioError
from game.scenario import EffectKind, load_scenario, load_scenario_file, restore_scenario

GAME_NIGHT_TEXT = (resources.files("citizen_score_data") / "game-night.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("key", "scheduled"), [("classic", 3), ("game-night", 3), ("debate-club", 2)])
def test_every_shipped_pack_has_a_timeline(key: str, scheduled: int) -> None:
    timeline = load_scenario(key).timeline
    assert len(timeline.scheduled) >= scheduled
    assert timeline.optional, "moderators have an optional decree to issue"
    assert timeline.public
    # A season's JSON copy keeps the timeline whole.
    scenario = load_scenario(key)
    assert restore_scenario(json.loads(json.dumps(scenario.model_dump(mode="json")))).timeline == timeline


def test_the_shipped_timelines_use_every_kind_of_decree() -> None:
    kinds = {
        effect.kind
        for key in ("classic", "game-night", "debate-club")
        for decree in load_scenario(key).timeline.decrees
        for effect in decree.effects
    }
    assert kinds == set(EffectKind)


def broken(tmp_path: Path, old: str, new: str) -> str:
    assert old in GAME_NIGHT_TEXT, f"the test's anchor {old!r} is no longer in game-night.toml"
    path = tmp_path / "broken.toml"
    path.write_text(GAME_NIGHT_TEXT.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path)
    assert caught.value.source == str(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ("at = 0.2\n", "at = 1.2\n", "timeline.decrees[0].at", "less than 1"),
        ("at = 0.2\n", "", "timeline.decrees[0].at", "exactly one of at"),
        ("at = 0.2\n", "at = 0.2\nafter_audit = 3\n", "timeline.decrees[0].at", "exactly one of at"),
        ("optional = true\n\n[[timeline.decrees.effects]]\nkind = \"amnesty\"",
         "optional = true\nat = 0.5\n\n[[timeline.decrees.effects]]\nkind = \"amnesty\"",
         "timeline.decrees[4].optional", "give it no at or after_audit"),
        ('key = "crackdown"', 'key = "snack-shortage"', "timeline.decrees[1].key",
         "already the key of decrees[0]"),
        ('kind = "scale-penalties"\nfactor = 2', 'kind = "scale-penalties"\nfactor = 0',
         "timeline.decrees[1].effects[0].scale-penalties.factor", "greater than 0"),
        ('kind = "scale-penalties"\nfactor = 2', 'kind = "scale-penalties"\nfactor = 2.125',
         "timeline.decrees[1].effects[0].scale-penalties.factor", "at most two decimals"),
        ('kind = "scale-penalties"', 'kind = "scale-everything"', "timeline.decrees[1].effects[0]",
         "does not match any of the expected tags"),
        ('item = "imported-liquor"', 'item = "imported-caviar"', "timeline.decrees[1].effects[1].item",
         "there is no item 'imported-caviar'"),
        ('topic = "snack-shortage"', 'topic = "snack-shortages"', "timeline.decrees[4].effects[0].topic",
         "there is no topic 'snack-shortages'"),
        ('key = "snack-shortage"\nname = "the snack shortage"',
         'key = "rage-quit"\nname = "the snack shortage"',
         "timeline.decrees[0].effects[0].key", "already a topic of the pack"),
        ('"no more snacks"', '"no more snacks", "VPN"', "timeline.decrees[0].effects[0].phrases[4]",
         "already a phrase of the pack's topic 'great-firewall'"),
        ('key = "festival-lantern"', 'key = "diapers"', "timeline.decrees[3].effects[1].key",
         "already an item of the shop"),
        ('reason = "festive spirit"', 'reason = "festive spirit"\nmin_tier = "emperor"',
         "timeline.decrees[3].effects[1].min_tier", "must be the key of a tier"),
        ('kind = "amnesty"\ntopic = "snack-shortage"', ('kind = "amnesty"\ntopic = "positive-energy"\n'
         '[[timeline.decrees.effects]]\nkind = "lift-topic"\ntopic = "harmony"'),
         "timeline.decrees[4].effects[1].topic", "approved talk"),
        (('optional = true\n\n[[timeline.decrees.effects]]\nkind = "amnesty"\ntopic = "snack-shortage"\n\n'
         '[[timeline.decrees.effects]]\nkind = "lift-topic"\ntopic = "snack-shortage"\n'),
         ('optional = true\nlasts_audits = 2\n\n[[timeline.decrees.effects]]\nkind = "amnesty"\n'
         'topic = "snack-shortage"\n'),
         "timeline.decrees[4].lasts_audits", "an amnesty happens once"),
        ("lasts_audits = 3", "lasts_audits = 0", "timeline.decrees[1].lasts_audits",
         "greater than or equal to 1"),
        ("[timeline]\npublic = true", "[timeline]\npublic = true\nsecret = true", "timeline.secret",
         "not a field the Bureau recognises"),
    ],
)  # fmt: skip
def test_a_broken_timeline_is_refused(tmp_path: Path, old: str, new: str, field: str, reason: str) -> None:
    message = broken(tmp_path, old, new)
    assert f"{tmp_path / 'broken.toml'}: {field}: " in message, message
    assert reason in message, message


def test_a_stored_season_copy_may_lose_a_topic_a_decree_names() -> None:
    """Moderators may remove a topic the timeline lifts: the season's copy is not refused for it."""
    data = load_scenario("game-night").model_dump(mode="json")
    data["catalogue"] = [item for item in data["catalogue"] if item["key"] != "imported-liquor"]
    assert restore_scenario(data).timeline.decree("crackdown").lasts_audits == 3
