"""The score card and the history chart: valid PNGs of the promised size, whatever the names are."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageFont

from bot.images import (
    CARD_SIZE,
    HISTORY_CHART_SIZE,
    HistoryPoint,
    ScoreCardData,
    render_history_chart,
    render_score_card,
)
from bot.images._fonts import FontChain, _Face, font_chain
from game.report import TierBand

START = datetime(2026, 11, 14, 19, 0, tzinfo=UTC)

TIERS = (
    TierBand(name="Untrustworthy", min_score=350, max_score=549),
    TierBand(name="Ordinary", min_score=550, max_score=649),
    TierBand(name="Trustworthy", min_score=650, max_score=699),
    TierBand(name="Travel Permit", min_score=700, max_score=749),
    TierBand(name="Visa", min_score=750, max_score=849),
    TierBand(name="Model Citizen", min_score=850, max_score=950),
)


def open_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()  # checks the chunks; the image must be reopened to be read
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def card(**changes: object) -> ScoreCardData:
    fields: dict[str, object] = {
        "display_name": "Ana Lima",
        "citizen_number": 42,
        "score": 712,
        "tier_name": "Travel Permit",
        "recent_scores": (600, 612, 605, 640, 690, 700, 712),
        "last_audit_number": 7,
        "season_name": "Season 3",
        "scenario_name": "classic",
    }
    fields.update(changes)
    return ScoreCardData(**fields)  # type: ignore[arg-type]


def avatar_png() -> bytes:
    picture = Image.new("RGB", (300, 200), (200, 120, 60))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def test_a_score_card_is_a_png_of_the_card_size() -> None:
    image = open_png(render_score_card(card()))
    assert image.size == CARD_SIZE
    assert image.mode == "RGB"


@pytest.mark.parametrize(
    "name",
    [
        "Wolfeschlegelsteinhausenbergerdorff the Magnificent, Keeper of the Seventh Harmony",
        "陈伟",
        "Esperanza 🌻🌻🌻",
        "🐢🔥",
        "👨‍👩‍👧‍👦 family",
        "مواطن صالح",
        "Zalgo z̷̢͎a̸̧͝l̶̨̛g̵̢̛o̴̡͘",
        "",
        "   ",
        "\u200b\u200d",
        "W" * 300,
    ],
)
def test_any_name_gives_a_card(name: str) -> None:
    image = open_png(render_score_card(card(display_name=name)))
    assert image.size == CARD_SIZE


@pytest.mark.parametrize("score", [350, 351, 600, 949, 950])
def test_scores_at_the_edges_and_without_history(score: int) -> None:
    image = open_png(render_score_card(card(score=score, recent_scores=(), last_audit_number=None)))
    assert image.size == CARD_SIZE


def test_the_tier_colour_marks_the_card() -> None:
    image = open_png(render_score_card(card(tier_colour="#123456")))
    r, g, b = image.getpixel((2, CARD_SIZE[1] // 2))  # type: ignore[misc]
    assert abs(r - 0x12) <= 2
    assert abs(g - 0x34) <= 2
    assert abs(b - 0x56) <= 2


def test_without_a_tier_colour_the_score_scale_picks_one() -> None:
    low = open_png(render_score_card(card(score=360)))
    high = open_png(render_score_card(card(score=940)))
    low_rgb = low.getpixel((2, CARD_SIZE[1] // 2))
    high_rgb = high.getpixel((2, CARD_SIZE[1] // 2))
    assert isinstance(low_rgb, tuple)
    assert isinstance(high_rgb, tuple)
    assert low_rgb[0] > low_rgb[2]  # red end
    assert high_rgb[2] > high_rgb[0]  # blue-green end


def test_an_avatar_is_drawn_and_a_broken_one_is_ignored() -> None:
    plain = render_score_card(card())
    with_avatar = render_score_card(card(avatar=avatar_png()))
    broken = render_score_card(card(avatar=b"not an image at all"))
    assert with_avatar != plain
    assert broken == plain
    assert open_png(with_avatar).size == CARD_SIZE


def test_cards_render_the_same_twice() -> None:
    assert render_score_card(card(avatar=avatar_png())) == render_score_card(card(avatar=avatar_png()))


def test_the_change_since_the_last_audit() -> None:
    assert card(recent_scores=(600, 590)).change == -10
    assert card(recent_scores=(600,)).change is None
    assert card(recent_scores=(600, 590), change_since_last_audit=4).change == 4


def test_a_chain_without_fallbacks_drops_what_it_cannot_draw() -> None:
    ascii_only = FontChain([_Face(ImageFont.load_default(size=20), frozenset(range(0x20, 0x7F)))])
    assert ascii_only.drawable("Bo 🐢 陈") == "Bo  "
    fitted = ascii_only.fit("A rather long display name", 80)
    assert fitted.endswith("…")
    assert ascii_only.length(fitted) <= 80


def test_the_font_chain_always_draws_ascii() -> None:
    chain = font_chain(24, bold=True)
    assert chain.drawable("Citizen No. 42") == "Citizen No. 42"
    assert chain.length("Citizen") > 0


def history(scores: list[int]) -> list[HistoryPoint]:
    return [
        HistoryPoint(at=START + timedelta(minutes=15 * i), score=s, audit_number=i or None)
        for i, s in enumerate(scores)
    ]


@pytest.mark.parametrize(
    "points",
    [
        history([600, 612, 605, 640, 690, 700, 712, 698, 731]),
        history([600]),
        [],
        list(reversed(history([600, 550, 420, 380, 350]))),
        history([950, 950, 950]),
    ],
    ids=["season", "one point", "empty", "unsorted falling", "flat at the ceiling"],
)
def test_a_history_chart_is_a_png_of_the_chart_size(points: list[HistoryPoint]) -> None:
    image = open_png(render_history_chart(points, title="Score history — Ana", tiers=TIERS, start_score=600))
    assert image.size == HISTORY_CHART_SIZE


def test_a_history_chart_needs_no_tiers_and_renders_the_same_twice() -> None:
    points = history([600, 640, 610])
    first = render_history_chart(points, title="Bo")
    assert first == render_history_chart(points, title="Bo")
    assert open_png(first).size == HISTORY_CHART_SIZE


def test_unicode_titles_draw_without_missing_glyphs() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = render_history_chart(history([600, 580]), title="Esperanza 🌻 陈伟 " + "x" * 200, tiers=TIERS)
    assert open_png(data).size == HISTORY_CHART_SIZE
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_history_points_need_aware_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        HistoryPoint(at=datetime(2026, 1, 1), score=600)  # noqa: DTZ001


def test_the_images_package_does_not_import_discord() -> None:
    code = "import sys, bot.images; assert 'discord' not in sys.modules, 'discord was imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_points_all_at_one_instant_draw_without_a_singular_axis() -> None:
    """Joining and getting an entry in the same second gives two points at one time."""
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    points = [HistoryPoint(at=at, score=600), HistoryPoint(at=at, score=570)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        data = render_history_chart(points, title="Ana")
    assert open_png(data).size == HISTORY_CHART_SIZE
    assert not [w for w in caught if "xlims" in str(w.message)]
