"""What a player noticed: CJK names on the card, a sparkline that does not make a dip a cliff, a
history axis that starts with the season."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matplotlib import dates as mdates
from PIL import Image, ImageChops

from bot.images import HistoryPoint, ScoreCardData, render_score_card
from bot.images._card import SPARK_MIN_SPAN, sparkline_window
from bot.images._fonts import font_chain
from bot.images._history import history_figure

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ink(chain_text: str, *, face_index: int | None = None) -> Image.Image:
    """``chain_text`` drawn black on white, by the chain (or by one of its faces only)."""
    chain = font_chain(40, bold=True)
    image = Image.new("RGBA", (160, 60), (255, 255, 255, 255))
    if face_index is None:
        chain.draw(image, (5, 45), chain_text, fill=(0, 0, 0, 255))
    else:
        from PIL import ImageDraw

        ImageDraw.Draw(image).text(
            (5, 45), chain_text, font=chain.faces[face_index].font, fill=(0, 0, 0, 255), anchor="ls"
        )
    return image.convert("L")


def test_a_cjk_name_draws_its_glyphs_not_boxes() -> None:
    chain = font_chain(40, bold=True)
    assert chain.drawable("陈伟 김민준 さくら") == "陈伟 김민준 さくら"  # nothing left out
    for char in "陈김さ":
        glyph = ink(char)
        assert ImageChops.difference(glyph, ink(" ")).getbbox() is not None, f"{char} drew nothing"
        # The primary face (DejaVu) has no such glyph: what it draws is its missing-glyph box.
        assert ImageChops.difference(glyph, ink(char, face_index=0)).getbbox() is not None, char
    # Two different characters are two different pictures (boxes would all look alike).
    assert ImageChops.difference(ink("陈"), ink("伟")).getbbox() is not None


def test_a_card_with_a_cjk_name_shows_the_name() -> None:
    named = render_score_card(
        ScoreCardData(display_name="陈伟", citizen_number=7, score=600, tier_name="Ordinary")
    )
    unnamed = render_score_card(
        ScoreCardData(display_name="\ue000", citizen_number=7, score=600, tier_name="Ordinary")
    )
    assert named != unnamed  # a name nothing can draw falls back to "Citizen #7"


def test_the_sparkline_spans_a_sensible_share_of_the_score_range() -> None:
    lo, hi = sparkline_window([357, 350], 350, 950)
    # 7 points of a 600-point range: about a tenth of the sparkline's height, not all of it.
    assert hi - lo == SPARK_MIN_SPAN * 600
    assert (357 - 350) / (hi - lo) < 0.15
    assert lo >= 350  # the window stays inside the score range
    wide_lo, wide_hi = sparkline_window([400, 900], 350, 950)
    assert (wide_lo, wide_hi) == (400, 900)  # a real swing fills the height


def test_the_history_axis_starts_when_the_season_does() -> None:
    for scores in ([600], [600, 612, 590]):
        points = [HistoryPoint(at=START + timedelta(minutes=15 * i), score=s) for i, s in enumerate(scores)]
        figure = history_figure(points, title="Ana", start_score=600)
        left, right = figure.axes[0].get_xlim()
        assert left >= mdates.date2num(START), scores  # type: ignore[no-untyped-call]
        assert right > mdates.date2num(points[-1].at), scores  # type: ignore[no-untyped-call]
