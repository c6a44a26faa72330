"""The rules in force: a scenario with the decrees in force at an audit, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from game.rules.decrees import (
    DecreeSpan,
    decrees_due,
    expected_at,
    in_force,
    rules_at,
    rules_in_force,
    scaled,
    span_after,
)
from game.rules.speech import SpeechMatcher
from game.scenario import TopicKind, load_scenario, with_topic_added

NIGHT = load_scenario("game-night")
START = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
END = START + timedelta(hours=2)


def penalties(scenario: object) -> dict[str, int]:
    speech = scenario.speech  # type: ignore[attr-defined]
    return {rule.key: rule.penalty for rule in (*speech.forbidden, *speech.permit_required)}


def test_no_decree_is_the_scenario_itself() -> None:
    assert rules_in_force(NIGHT, []).scenario is NIGHT


def test_a_crackdown_doubles_every_speech_penalty_and_withdraws_an_item() -> None:
    crackdown = NIGHT.timeline.decree("crackdown")
    rules = rules_in_force(NIGHT, [crackdown]).scenario
    assert penalties(rules) == {key: 2 * value for key, value in penalties(NIGHT).items()}
    assert [rule.bonus for rule in rules.speech.approved] == [rule.bonus for rule in NIGHT.speech.approved]
    assert "imported-liquor" not in {item.key for item in rules.catalogue}
    assert NIGHT.item("imported-liquor")  # the season's own rules are untouched
    # The rules in force are a valid scenario, round-trip and compile like the pack.
    assert type(NIGHT).model_validate(rules.model_dump(mode="json")) == rules
    SpeechMatcher.from_scenario(rules)


def test_penalties_are_scaled_within_bounds() -> None:
    assert scaled(-120, Fraction(2), low=-1000, high=-1) == -240
    assert scaled(-700, Fraction(2), low=-1000, high=-1) == -1000
    assert scaled(-1, Fraction(1, 10), low=-1000, high=-1) == -1
    assert scaled(-25, Fraction(3, 2), low=-1000, high=-1) == -38  # half away from zero
    assert scaled(15, Fraction(3, 2), low=1, high=1000) == 23


def test_a_new_topic_is_judged_and_a_lifted_one_is_not() -> None:
    shortage = NIGHT.timeline.decree("snack-shortage")
    rules = rules_in_force(NIGHT, [shortage]).scenario
    findings = SpeechMatcher.from_scenario(rules).judge_message("we are out of snacks again")
    assert [(f.rule_key, f.delta) for f in findings] == [("snack-shortage", -60)]
    assert rules.item("green-tea").price == 30
    amnesty = NIGHT.timeline.decree("snack-amnesty")
    lifted = rules_in_force(NIGHT, [shortage, amnesty]).scenario
    assert SpeechMatcher.from_scenario(lifted).judge_message("we are out of snacks again") == []


def test_multipliers_apply_to_topics_added_later_and_multiply() -> None:
    shortage = NIGHT.timeline.decree("snack-shortage")
    crackdown = NIGHT.timeline.decree("crackdown")
    order = NIGHT.timeline.decree("rules-are-rules")
    rules = rules_in_force(NIGHT, [crackdown, shortage, order]).scenario
    assert penalties(rules)["snack-shortage"] == -180  # -60 x 2 x 1.5
    assert penalties(rules)["rage-quit"] == -120


def test_friends_factor_enrolment_and_new_items() -> None:
    collective = NIGHT.timeline.decree("collective-responsibility")
    festival = NIGHT.timeline.decree("festival-of-gratitude")
    result = rules_in_force(NIGHT, [collective, festival])
    assert result.mandatory_enrolment
    assert result.scenario.friends.factor_fraction == 1
    assert result.scenario.item("festival-lantern").price == 25
    assert [rule.bonus for rule in result.scenario.speech.approved] == [40, 20, 60]
    assert not rules_in_force(NIGHT, [festival]).mandatory_enrolment


def test_spans_govern_the_audits_after_the_decree_took_effect() -> None:
    crackdown = NIGHT.timeline.decree("crackdown")  # lasts three audits
    span = span_after(crackdown, after_audit=10)
    assert (span.from_audit, span.until_audit) == (11, 13)
    assert [n for n in range(9, 16) if span.governs(n)] == [11, 12, 13]
    revoked = span_after(crackdown, after_audit=10, revoked_after=11)
    assert [n for n in range(9, 16) if revoked.governs(n)] == [11]
    forever = span_after(NIGHT.timeline.decree("collective-responsibility"), after_audit=4)
    assert forever.until_audit is None
    assert forever.governs(10_000)
    spans = [span, forever, DecreeSpan(key="gone", from_audit=1)]
    assert in_force(spans, 12) == spans
    assert rules_at(NIGHT, spans, 12).decrees == (
        crackdown,
        NIGHT.timeline.decree("collective-responsibility"),
    )
    assert rules_at(NIGHT, spans, 14).decrees == (NIGHT.timeline.decree("collective-responsibility"),)


def test_decrees_fall_due_by_position_once_each() -> None:
    timeline = NIGHT.timeline.decrees
    due = decrees_due(
        timeline, taken=[], audit_number=11, now=START + timedelta(minutes=23), started_at=START, ends_at=END
    )
    assert due == []
    due = decrees_due(
        timeline, taken=[], audit_number=13, now=START + timedelta(minutes=26), started_at=START, ends_at=END
    )
    assert [d.key for d in due] == ["snack-shortage"]  # at 0.2 of two hours: 24 minutes
    caught_up = decrees_due(
        timeline,
        taken=["snack-shortage"],
        audit_number=40,
        now=START + timedelta(minutes=80),
        started_at=START,
        ends_at=END,
    )
    assert [d.key for d in caught_up] == ["crackdown", "collective-responsibility"]
    classic = load_scenario("classic")
    early = decrees_due(
        classic.timeline.decrees,
        taken=[],
        audit_number=4,
        now=START + timedelta(hours=1),
        started_at=START,
        ends_at=START + timedelta(days=7),
    )
    assert [d.key for d in early] == ["pilot-scheme"]  # after_audit = 4
    assert expected_at(
        classic.timeline.decree("pilot-scheme"), started_at=START, ends_at=END,
        first_audit_at=START + timedelta(minutes=15), audit_every=timedelta(minutes=15),
    ) == START + timedelta(hours=1)  # fmt: skip
    assert expected_at(
        NIGHT.timeline.decree("crackdown"), started_at=START, ends_at=END,
        first_audit_at=START, audit_every=timedelta(minutes=2),
    ) == START + timedelta(minutes=54)  # fmt: skip
    assert expected_at(
        NIGHT.timeline.decree("snack-amnesty"), started_at=START, ends_at=END,
        first_audit_at=START, audit_every=timedelta(minutes=2),
    ) is None  # fmt: skip


def test_the_ledger_reasons_name_the_decree_behind_a_multiplier() -> None:
    rules = rules_in_force(NIGHT, [NIGHT.timeline.decree("crackdown")]).scenario
    findings = SpeechMatcher.from_scenario(rules).judge_message("tank man")
    assert [(f.delta, f.reason) for f in findings] == [
        (-240, 'Forbidden topic, the 1989 Tiananmen protests (x2 by decree: The Crackdown): "tank man"')
    ]


def test_a_decree_topic_gives_way_to_a_topic_a_moderator_added_since() -> None:
    """The season's copy may hold a topic added after the pack was checked: the rules in force stay
    valid (a phrase belongs to one topic) instead of stopping the audit."""
    edited = with_topic_added(
        NIGHT, kind=TopicKind.FORBIDDEN, key="bowl", name="the bowl", phrases=["the bowl is empty"], delta=-5
    )
    shortage = edited.timeline.decree("snack-shortage")
    rules = rules_in_force(edited, [shortage]).scenario
    type(rules).model_validate(rules.model_dump(mode="json"))
    assert "the bowl is empty" not in rules.topic("snack-shortage").phrases
    taken_whole = with_topic_added(
        NIGHT, kind=TopicKind.APPROVED, key="snack-shortage", name="fine", phrases=["all good"], delta=5
    )
    rules = rules_in_force(taken_whole, [taken_whole.timeline.decree("snack-shortage")]).scenario
    type(rules).model_validate(rules.model_dump(mode="json"))
    assert [rule.key for rule in rules.speech.forbidden if rule.key == "snack-shortage"] == []
