"""The debrief page as a reader meets it: hostile names, ties, a citizen to follow, shipped templates."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from game.report import ReportData, render_html
from tests.game.report.test_report import START_SCORE, crowd_season, section, small_season

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "game" / "report" / "templates"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def season() -> ReportData:
    return small_season()


def test_a_hostile_name_is_shown_as_text(season: ReportData) -> None:
    citizens = (replace(season.citizens[0], display_name=HOSTILE), *season.citizens[1:])
    page = render_html(replace(season, citizens=citizens, guild_name=HOSTILE, scenario_name=HOSTILE))
    assert "<script" not in page
    # The standings, the network's tooltips and labels, the chart picker and the masthead all name it.
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5


def with_finals(season: ReportData, finals: dict[int, int]) -> ReportData:
    """The season with a last audit that moves the given citizens to the given final scores."""
    entries = list(season.entries)
    scores = {c.number: c.final_score for c in season.citizens}
    next_id = max(e.entry_id for e in entries) + 1
    last = entries[-1]
    for number, final in finals.items():
        delta = final - scores[number]
        entries.append(
            replace(
                last,
                entry_id=next_id,
                citizen_number=number,
                delta=delta,
                score_before=scores[number],
                score_after=final,
                related_citizen_number=None,
                reverses_entry_id=None,
            )
        )
        next_id += 1
        scores[number] = final
    citizens = tuple(replace(c, final_score=scores[c.number]) for c in season.citizens)
    return replace(season, entries=tuple(entries), citizens=citizens)


def highlights(page: str) -> str:
    match = re.search(r'<ul class="highlights">(.*?)</ul>', page, re.DOTALL)
    assert match is not None
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_a_tie_at_the_top_names_everyone_in_it(season: ReportData) -> None:
    page = render_html(with_finals(season, {1: 950, 4: 950}))
    assert "Highest score: Ana and Dmitri with 950;" in highlights(page)


def test_a_large_tie_names_three_and_counts_the_others(season: ReportData) -> None:
    page = render_html(with_finals(season, dict.fromkeys((1, 2, 4, 6, 7, 8), 350)))
    text = highlights(page)
    assert "lowest: Ana, Bo, Dmitri and 3 others with 350." in text


def test_a_single_leader_is_named_alone(season: ReportData) -> None:
    text = highlights(render_html(season))
    best = max(season.citizens, key=lambda c: c.final_score)
    assert f"Highest score: {best.display_name} with {best.final_score};" in text


def test_a_reader_can_follow_each_citizen_on_the_score_chart(season: ReportData) -> None:
    page = render_html(season)
    scores = section(page, "scores")
    for citizen in season.citizens:
        assert f'id="follow-{citizen.number}"' in scores
        assert f'id="timeline-line-{citizen.number}"' in scores  # the citizen's own line
        # Picking the citizen brings the line forward and rings them in the network.
        assert f"#scores:has(#follow-{citizen.number}:checked) #timeline-line-{citizen.number}" in page
        assert f'class="net-c{citizen.number}"' in section(page, "network")
    assert 'id="follow-all" checked' in scores


def test_in_a_crowd_the_followed_line_is_drawn_over_the_spread() -> None:
    data = crowd_season()
    scores = section(render_html(data), "scores")
    assert "The spread of 40 citizens" in scores
    for citizen in data.citizens:
        assert f'id="timeline-follow-{citizen.number}"' in scores
        assert f'id="follow-{citizen.number}"' in scores


def test_a_season_without_a_score_chart_offers_nobody_to_follow() -> None:
    data = small_season()
    data = replace(
        data,
        entries=(),
        appeals=(),
        citizens=tuple(replace(c, final_score=START_SCORE) for c in data.citizens),
    )
    page = render_html(data)
    assert 'name="follow"' not in page
    assert ":has(#follow-" not in page


def test_the_page_suits_narrow_screens_and_cjk_names(season: ReportData) -> None:
    page = render_html(season)
    assert "scroll-margin-top" in page
    assert "@media (max-width:600px)" in page
    for font in ("Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Noto Color Emoji"):
        assert f'"{font}"' in page


def test_every_template_is_shipped_with_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["game.report"]
    shipped = {path for pattern in patterns for path in TEMPLATES.parent.glob(pattern)}
    files = {path for path in TEMPLATES.rglob("*") if path.is_file()}
    assert files
    assert files <= shipped, sorted(str(p) for p in files - shipped)
