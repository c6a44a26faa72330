"""The debrief report: every section drawn, every number from the ledger, exports that round-trip."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.report import (
    CSV_COLUMNS,
    Friendship,
    ReportAppeal,
    ReportCitizen,
    ReportData,
    ReportEntry,
    ReportPermit,
    SourceKind,
    TierBand,
    ledger_csv,
    ledger_json,
    read_ledger_csv,
    read_ledger_json,
    render_html,
    write_report,
)
from game.rules.tiers import tier_for

START = datetime(2026, 11, 14, 19, 0, tzinfo=UTC)
FLOOR, CEILING, START_SCORE = 350, 950, 600

CLASSIC_TIERS = (
    TierBand(name="Untrustworthy", min_score=350, max_score=549),
    TierBand(name="Ordinary", min_score=550, max_score=649),
    TierBand(name="Trustworthy", min_score=650, max_score=699),
    TierBand(name="Travel Permit", min_score=700, max_score=749),
    TierBand(name="Visa", min_score=750, max_score=849),
    TierBand(name="Model Citizen", min_score=850, max_score=950),
)

PROMPTS = (
    "Who changed how they spoke once they saw their friends' scores fall?",
    "Was the permit system fair, or did it only reward those who asked early?",
    "Which purchase would you have made if it had not been scored?",
)

FORBIDDEN = {"the 1989 Tiananmen protests": -50, "the 2015 stock market crash": -30}
APPROVED = {"positive energy": 5, "praise for the Bureau": 10}
SHOP = {
    "diapers": ("consumption", 10),
    "work boots": ("consumption", 5),
    "Party newspaper subscription": ("consumption", 8),
    "imported liquor": ("consumption", -10),
    "video game": ("consumption", -20),
    "VPN subscription": ("consumption", -40),
}


class SeasonBuilder:
    """Writes a ledger the way an audit would: clamped deltas, running scores, friends' penalties."""

    def __init__(self, names: dict[int, str], friendships: list[tuple[int, int]]) -> None:
        self.names = names
        self.friendships = friendships
        self.scores = dict.fromkeys(names, START_SCORE)
        self.entries: list[ReportEntry] = []
        self.next_id = 1

    def add(
        self,
        citizen: int,
        audit: int,
        dimension: str,
        delta: int,
        reason: str,
        source: SourceKind,
        rule_key: str | None = None,
        *,
        related: int | None = None,
        reverses: int | None = None,
    ) -> ReportEntry:
        before = self.scores[citizen]
        after = min(max(before + delta, FLOOR), CEILING)
        entry = ReportEntry(
            entry_id=self.next_id,
            citizen_number=citizen,
            audit_number=audit,
            dimension=dimension,
            delta=after - before,
            score_before=before,
            score_after=after,
            reason=reason,
            source=source,
            rule_key=rule_key,
            created_at=START + timedelta(minutes=15 * audit, milliseconds=self.next_id),
            related_citizen_number=related,
            reverses_entry_id=reverses,
        )
        self.next_id += 1
        self.scores[citizen] = after
        self.entries.append(entry)
        return entry

    def friends_of(self, citizen: int) -> list[int]:
        return sorted(
            [b for a, b in self.friendships if a == citizen]
            + [a for a, b in self.friendships if b == citizen]
        )

    def audit(
        self,
        number: int,
        speech: list[tuple[int, str]],
        purchases: list[tuple[int, str]],
        broke: tuple[int, ...] = (),
    ) -> None:
        penalties: dict[int, int] = {}
        for citizen, topic in speech:
            if topic in FORBIDDEN:
                e = self.add(
                    citizen, number, "speech", FORBIDDEN[topic], f"named {topic}", SourceKind.MESSAGE, topic
                )
            elif topic == "politics":
                e = self.add(
                    citizen, number, "speech", -25, "politics without a permit", SourceKind.MESSAGE, topic
                )
            else:
                e = self.add(citizen, number, "speech", APPROVED[topic], topic, SourceKind.MESSAGE, topic)
            if e.delta < 0:
                penalties[citizen] = penalties.get(citizen, 0) + e.delta
        for citizen, item in purchases:
            dimension, effect = SHOP[item]
            e = self.add(citizen, number, dimension, effect, f"bought {item}", SourceKind.PURCHASE, item)
            if e.delta < 0:
                penalties[citizen] = penalties.get(citizen, 0) + e.delta
        for citizen in broke:
            e = self.add(
                citizen, number, "finance", -10, "could not pay the cost of living", SourceKind.FINANCE
            )
            penalties[citizen] = penalties.get(citizen, 0) + e.delta
        for citizen in sorted(self.names):
            budget = -50
            for friend in self.friends_of(citizen):
                if friend not in penalties or budget >= 0:
                    continue
                share = max(int(0.2 * penalties[friend]), budget)
                if share:
                    self.add(
                        citizen,
                        number,
                        "social",
                        share,
                        f"friend {self.names[friend]} was penalised",
                        SourceKind.FRIEND,
                        related=friend,
                    )
                    budget -= share


def small_season() -> ReportData:
    names = {
        1: "Ana",
        2: "Bo",
        3: "陈伟 Chen",
        4: "Dmitri",
        5: "Esperanza 🌻",
        6: "Farah",
        7: "Gus",
        8: "Hana",
        9: "<b>Ivy</b> & co",
    }
    friendships = [(1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (2, 7), (8, 9), (4, 6)]
    season = SeasonBuilder(names, friendships)
    season.audit(
        1,
        speech=[(1, "positive energy"), (2, "the 2015 stock market crash"), (8, "praise for the Bureau")],
        purchases=[(5, "diapers"), (6, "video game")],
    )
    season.audit(
        2,
        speech=[(4, "politics"), (3, "positive energy"), (9, "positive energy")],
        purchases=[(2, "VPN subscription"), (8, "work boots")],
    )
    appealed = next(e for e in season.entries if e.rule_key == "politics")
    season.audit(
        3,
        speech=[(2, "the 1989 Tiananmen protests"), (7, "politics"), (5, "praise for the Bureau")],
        purchases=[(1, "Party newspaper subscription"), (6, "imported liquor"), (5, "diapers")],
        broke=(6,),
    )
    season.add(8, 3, "bureau", 20, "helped a new citizen find the rules", SourceKind.MODERATOR)
    season.audit(
        4,
        speech=[(4, "positive energy"), (1, "praise for the Bureau"), (3, "the 2015 stock market crash")],
        purchases=[(7, "video game"), (9, "diapers")],
    )
    season.add(
        4,
        4,
        "speech",
        -appealed.delta,
        "appeal granted",
        SourceKind.APPEAL,
        "politics",
        reverses=appealed.entry_id,
    )
    season.audit(
        5,
        speech=[(2, "politics"), (6, "positive energy"), (8, "praise for the Bureau")],
        purchases=[(2, "video game"), (5, "work boots")],
        broke=(2,),
    )
    crash = next(e for e in season.entries if e.rule_key == "the 2015 stock market crash")
    season.add(
        crash.citizen_number,
        5,
        "speech",
        -crash.delta,
        "amnesty: the crash is forgiven",
        SourceKind.DECREE,
        crash.rule_key,
        reverses=crash.entry_id,
    )
    vpn = next(e for e in season.entries if e.rule_key == "VPN subscription")
    return ReportData(
        guild_name="The Harmonious Debate Society",
        season_title="Season 3: Autumn of Harmony",
        scenario_name="classic",
        started_at=START,
        ended_at=START + timedelta(hours=1, minutes=30),
        generated_at=START + timedelta(hours=1, minutes=31),
        start_score=START_SCORE,
        score_floor=FLOOR,
        score_ceiling=CEILING,
        tiers=CLASSIC_TIERS,
        discussion_prompts=PROMPTS,
        citizens=tuple(
            ReportCitizen(
                number=n,
                display_name=name,
                final_score=season.scores[n],
                tier=tier_for(season.scores[n], CLASSIC_TIERS).name,
            )
            for n, name in names.items()
        ),
        entries=tuple(season.entries),
        friendships=tuple(Friendship(citizen_a=a, citizen_b=b) for a, b in friendships),
        permits=(
            ReportPermit(
                citizen_number=4,
                topic="politics",
                status="active",
                requested_at=START + timedelta(minutes=35),
                expires_at=START + timedelta(hours=3),
            ),
            ReportPermit(
                citizen_number=2,
                topic="politics",
                status="denied",
                requested_at=START + timedelta(minutes=50),
            ),
            ReportPermit(citizen_number=7, topic="history", status="pending"),
        ),
        appeals=(
            ReportAppeal(
                citizen_number=4,
                entry_id=appealed.entry_id,
                status="granted",
                reason="I had applied for a permit",
            ),
            ReportAppeal(citizen_number=2, entry_id=vpn.entry_id, status="denied", reason="It was for work"),
        ),
    )


def crowd_season(citizens: int = 40, audits: int = 12, seed: int = 3) -> ReportData:
    rng = random.Random(seed)
    names = {n: f"Citizen {n:03d}" for n in range(1, citizens + 1)}
    friendships = sorted({tuple(sorted(rng.sample(range(1, citizens + 1), 2))) for _ in range(citizens * 2)})
    season = SeasonBuilder(names, friendships)  # type: ignore[arg-type]
    topics = [*FORBIDDEN, "politics", *APPROVED, *APPROVED]
    for audit in range(1, audits + 1):
        speech = [(rng.randint(1, citizens), rng.choice(topics)) for _ in range(citizens // 2)]
        purchases = [(rng.randint(1, citizens), rng.choice(list(SHOP))) for _ in range(citizens // 4)]
        season.audit(audit, speech, purchases)
    return ReportData(
        guild_name="Big Guild",
        season_title="Week of Trust",
        scenario_name="game-night",
        started_at=START,
        ended_at=START + timedelta(minutes=15 * audits + 5),
        generated_at=START + timedelta(minutes=15 * audits + 6),
        start_score=START_SCORE,
        score_floor=FLOOR,
        score_ceiling=CEILING,
        tiers=CLASSIC_TIERS,
        citizens=tuple(
            ReportCitizen(number=n, display_name=name, final_score=season.scores[n], tier="")
            for n, name in names.items()
        ),
        entries=tuple(season.entries),
        friendships=tuple(Friendship(citizen_a=a, citizen_b=b) for a, b in friendships),
    )


def empty_season() -> ReportData:
    return ReportData(
        guild_name="Quiet Guild",
        season_title="Season 1",
        scenario_name="classic",
        started_at=START,
        ended_at=START + timedelta(hours=2),
        generated_at=START + timedelta(hours=2),
        start_score=START_SCORE,
        score_floor=FLOOR,
        score_ceiling=CEILING,
        tiers=CLASSIC_TIERS,
    )


@pytest.fixture(scope="module")
def season() -> ReportData:
    return small_season()


@pytest.fixture(scope="module")
def html(season: ReportData) -> str:
    return render_html(season)


def section(html: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', html, re.DOTALL)
    assert match is not None, f"no section {key}"
    return match.group(1)


def data_value(html: str, attribute: str, key: str) -> int:
    match = re.search(rf'{attribute}="{re.escape(key)}" data-value="(-?\d+)"', html) or re.search(
        rf'data-value="(-?\d+)" {attribute}="{re.escape(key)}"', html
    )
    assert match is not None, f"no {attribute}={key}"
    return int(match.group(1))


def test_the_season_fixture_is_a_rich_one(season: ReportData) -> None:
    sources = {e.source for e in season.entries}
    assert sources == set(SourceKind)
    assert any(e.related_citizen_number is not None for e in season.entries)
    assert all(
        c.final_score == START_SCORE + sum(e.delta for e in season.entries if e.citizen_number == c.number)
        for c in season.citizens
    )


def test_every_section_is_there_with_its_chart(html: str) -> None:
    assert html.startswith("<!doctype html>")
    for key in (
        "totals",
        "scores",
        "distribution",
        "network",
        "topics",
        "purchases",
        "permits",
        "appeals",
        "prompts",
        "ledger",
    ):
        section(html, key)
    for key in ("scores", "distribution", "network", "topics", "purchases"):
        assert "<svg" in section(html, key), key
        assert '<p class="empty">' not in section(html, key), key
    assert html.count("<svg") >= 6  # five charts and the seal


def test_the_page_is_self_contained(html: str) -> None:
    assert "http://" not in html
    assert "https://" not in html
    for tag in ("<script", "<link", "<img", "<iframe", "@import"):
        assert tag not in html


def test_chart_ids_do_not_collide(html: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r'(?:href="#|url\(#)([^")]+)', html):
        assert ref in ids, ref


def test_headline_totals_are_ledger_sums(season: ReportData, html: str) -> None:
    deltas = [e.delta for e in season.entries]
    assert data_value(html, "data-total", "gained") == sum(d for d in deltas if d > 0)
    assert data_value(html, "data-total", "lost") == sum(d for d in deltas if d < 0)
    assert data_value(html, "data-total", "net") == sum(deltas)
    assert data_value(html, "data-total", "entries") == len(deltas)
    assert data_value(html, "data-total", "audits") == len({e.audit_number for e in season.entries})
    friend = sum(e.delta for e in season.entries if e.source is SourceKind.FRIEND)
    assert friend < 0
    assert data_value(html, "data-total", "friend") == friend
    assert data_value(html, "data-total", "friend-flow") == friend


def test_breakdowns_are_ledger_sums(season: ReportData, html: str) -> None:
    for dimension in {e.dimension for e in season.entries}:
        expected = sum(e.delta for e in season.entries if e.dimension == dimension)
        assert data_value(html, "data-dimension", dimension) == expected
    for source in SourceKind:
        expected = sum(e.delta for e in season.entries if e.source is source)
        assert data_value(html, "data-source", source.value) == expected
    for citizen in season.citizens:
        expected = sum(e.delta for e in season.entries if e.citizen_number == citizen.number)
        assert data_value(html, "data-citizen", str(citizen.number)) == expected
    for item in SHOP:
        bought = [e for e in season.entries if e.source is SourceKind.PURCHASE and e.rule_key == item]
        if bought:
            assert data_value(html, "data-item", item) == sum(e.delta for e in bought)


def test_final_standings_follow_the_ledger(season: ReportData, html: str) -> None:
    standings = section(html, "distribution")
    for citizen in season.citizens:
        assert '<span class="score" style="--c:' in standings
        assert f">{citizen.final_score}</span>" in standings
    counts = {t.name: 0 for t in CLASSIC_TIERS}
    for citizen in season.citizens:
        counts[tier_for(citizen.final_score, CLASSIC_TIERS).name] += 1
    for name, count in counts.items():
        assert f'data-tier="{name}">{count}</b>' in standings


def test_cascades_are_drawn_with_their_points(season: ReportData, html: str) -> None:
    network = section(html, "network")
    drawn = [int(p) for p in re.findall(r'<g data-points="(-?\d+)">', network)]
    pairs = {
        (e.related_citizen_number, e.citizen_number) for e in season.entries if e.source is SourceKind.FRIEND
    }
    assert len(drawn) == len(pairs)
    assert sum(drawn) == sum(e.delta for e in season.entries if e.source is SourceKind.FRIEND)
    assert network.count("<circle") == len(season.citizens)


def test_topics_purchases_permits_appeals_and_prompts_are_listed(season: ReportData, html: str) -> None:
    topics = section(html, "topics")
    for topic in FORBIDDEN:
        assert topic in topics
    purchases = section(html, "purchases")
    assert "VPN subscription" in purchases
    permits = section(html, "permits")
    assert permits.count("<tr>") == 1 + len(season.permits)
    assert "denied" in permits
    assert "pending" in permits
    appeals = section(html, "appeals")
    assert appeals.count("<tr>") == 1 + len(season.appeals)
    assert "I had applied for a permit" in appeals
    reversal = next(e for e in season.entries if e.reverses_entry_id is not None)
    assert f"#{reversal.entry_id}" in appeals
    prompts = unescape(section(html, "prompts"))
    for prompt in PROMPTS:
        assert prompt in prompts


def test_user_text_is_escaped(html: str) -> None:
    assert "<b>Ivy</b>" not in html
    assert "&lt;b&gt;Ivy&lt;/b&gt; &amp; co" in html
    assert "陈伟 Chen" in html
    assert "Esperanza 🌻" in html


def test_the_ledger_check_passes_for_a_sound_ledger(html: str) -> None:
    assert 'class="check ok"' in html
    assert "does not add up" not in html


def test_a_recorded_score_that_disagrees_with_the_ledger_is_called_out(season: ReportData) -> None:
    wrong = replace(season.citizens[0], final_score=season.citizens[0].final_score + 7)
    page = render_html(replace(season, citizens=(wrong, *season.citizens[1:])))
    assert "The ledger does not add up" in page
    assert f"recorded score {wrong.final_score}" in page
    # The page still shows the ledger's number, not the recorded one.
    assert data_value(page, "data-citizen", str(wrong.number)) == wrong.final_score - 7 - START_SCORE


def test_rendering_is_deterministic(season: ReportData, html: str, tmp_path: Path) -> None:
    assert render_html(season) == html
    first = write_report(season, tmp_path / "a")
    second = write_report(season, tmp_path / "b")
    for a, b in ((first.html, second.html), (first.csv, second.csv), (first.json, second.json)):
        assert a.read_bytes() == b.read_bytes()


def test_write_report_writes_three_files(season: ReportData, tmp_path: Path) -> None:
    files = write_report(season, tmp_path / "debrief")
    assert (files.html.name, files.csv.name, files.json.name) == ("report.html", "ledger.csv", "ledger.json")
    assert files.html.read_text(encoding="utf-8") == render_html(season)
    assert files.csv.read_bytes() == ledger_csv(season).encode()
    assert json.loads(files.json.read_text(encoding="utf-8"))["format"] == "citizen-score-ledger/1"


def by_id(entries: tuple[ReportEntry, ...]) -> list[ReportEntry]:
    return sorted(entries, key=lambda e: e.entry_id)


def test_csv_round_trips(season: ReportData) -> None:
    text = ledger_csv(season)
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert by_id(read_ledger_csv(text)) == by_id(season.entries)


def test_json_round_trips_and_carries_the_ledger_scores(season: ReportData) -> None:
    text = ledger_json(season)
    assert by_id(read_ledger_json(text)) == by_id(season.entries)
    document = json.loads(text)
    scores = {c["number"]: c["final_score"] for c in document["citizens"]}
    assert scores == {c.number: c.final_score for c in season.citizens}


def test_csv_cells_cannot_run_as_spreadsheet_formulas(season: ReportData) -> None:
    entry = replace(season.entries[0], reason='=HYPERLINK("x","click")', rule_key="+cmd")
    data = replace(season, entries=(entry,), citizens=(), appeals=(), permits=())
    text = ledger_csv(data)
    assert "'=HYPERLINK" in text
    assert "'+cmd" in text
    assert read_ledger_csv(text) == (entry,)


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    reasons=st.lists(_text, min_size=1, max_size=8),
    keys=st.lists(st.one_of(st.none(), _text.filter(bool)), min_size=8, max_size=8),
    deltas=st.lists(st.integers(-60, 60), min_size=8, max_size=8),
)
def test_exports_round_trip_any_text(reasons: list[str], keys: list[str | None], deltas: list[int]) -> None:
    score = START_SCORE
    entries = []
    for i, reason in enumerate(reasons):
        entries.append(
            ReportEntry(
                entry_id=i + 1,
                citizen_number=1,
                audit_number=i + 1,
                dimension="speech",
                delta=deltas[i],
                score_before=score,
                score_after=score + deltas[i],
                reason=reason,
                source=SourceKind.MESSAGE,
                rule_key=keys[i],
                created_at=START + timedelta(minutes=i),
            )
        )
        score += deltas[i]
    data = replace(empty_season(), entries=tuple(entries))
    assert read_ledger_csv(ledger_csv(data)) == tuple(entries)
    assert read_ledger_json(ledger_json(data)) == tuple(entries)


def test_an_empty_season_renders() -> None:
    data = empty_season()
    page = render_html(data)
    for key in (
        "totals",
        "scores",
        "distribution",
        "network",
        "topics",
        "purchases",
        "permits",
        "appeals",
        "prompts",
        "ledger",
    ):
        section(page, key)
    for key in ("gained", "lost", "net", "entries", "citizens"):
        assert data_value(page, "data-total", key) == 0
    assert page.count('<p class="empty">') >= 8
    assert ledger_csv(data) == ",".join(CSV_COLUMNS) + "\r\n"
    assert json.loads(ledger_json(data))["entries"] == []
    assert read_ledger_json(ledger_json(data)) == ()


def test_a_season_where_nothing_happened_to_its_citizens_renders(season: ReportData) -> None:
    data = replace(season, entries=(), appeals=(), ended_at=None)
    data = replace(data, citizens=tuple(replace(c, final_score=START_SCORE) for c in data.citizens))
    page = render_html(data)
    assert "still running" in page
    assert "<svg" in section(page, "distribution")  # everyone at the start score
    assert "<svg" in section(page, "network")  # friendships, no cascades
    assert data_value(page, "data-total", "net") == 0


def test_a_crowd_is_drawn_as_a_spread() -> None:
    data = crowd_season()
    page = render_html(data)
    assert "The spread of 40 citizens" in section(page, "scores")
    assert data_value(page, "data-total", "net") == sum(e.delta for e in data.entries)
    assert 'class="check ok"' in page


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(empty_season(), started_at=datetime(2026, 1, 1))  # noqa: DTZ001


def test_the_score_range_is_the_scenarios_never_a_default() -> None:
    with pytest.raises(TypeError, match="score_floor"):
        ReportData(  # type: ignore[call-arg]
            guild_name="Quiet Guild",
            season_title="Season 1",
            scenario_name="classic",
            started_at=START,
            ended_at=None,
            generated_at=START,
            start_score=START_SCORE,
        )
    # Another scenario's range is drawn as it is: its floor and ceiling frame the page.
    data = replace(empty_season(), score_floor=0, score_ceiling=1000, start_score=500)
    assert "scores stay within 0–1000" in render_html(data)
