"""The score card: a brag-able PNG of one citizen's standing, drawn with Pillow.

Drawn at twice the size and scaled down, which gives smooth circles and lines without a vector
library. Plain bytes out; nothing here knows about Discord.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from bot.images._fonts import FontChain, font_chain
from game.report import parse_hex, score_rgb

log = logging.getLogger(__name__)

CARD_SIZE = (800, 420)
_S = 2  # supersampling factor

_BG_TOP = (27, 33, 48)
_BG_BOTTOM = (13, 17, 25)
_TEXT = (241, 243, 247)
_MUTED = (150, 160, 180)
_FAINT = (255, 255, 255, 26)
_UP = (96, 211, 141)
_DOWN = (255, 112, 104)
_STAMP = (214, 69, 65)

_RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreCardData:
    """What a score card shows.

    ``recent_scores`` are the scores after the last few audits, oldest first, ending with the
    current one. ``change_since_last_audit`` defaults to the difference of the last two of them.
    ``tier_colour`` is ``#rrggbb``; without it the colour comes from the score scale. ``avatar``
    is image bytes (PNG, JPEG, WebP, ...); unreadable bytes are ignored.
    """

    display_name: str
    citizen_number: int
    score: int
    tier_name: str
    tier_colour: str | None = None
    recent_scores: tuple[int, ...] = ()
    change_since_last_audit: int | None = None
    last_audit_number: int | None = None
    season_name: str = ""
    scenario_name: str = ""
    score_floor: int = 350
    score_ceiling: int = 950
    avatar: bytes | None = None

    @property
    def change(self) -> int | None:
        if self.change_since_last_audit is not None:
            return self.change_since_last_audit
        if len(self.recent_scores) >= 2:
            return self.recent_scores[-1] - self.recent_scores[-2]
        return None


def _s(value: float) -> int:
    return round(value * _S)


def _font(size: int, *, bold: bool = False) -> FontChain:
    return font_chain(_s(size), bold=bold)


def _luminance(rgb: _RGB) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _on(rgb: _RGB) -> _RGB:
    """Black or white, whichever reads better on ``rgb``."""
    return (20, 22, 28) if _luminance(rgb) > 0.28 else (255, 255, 255)


def _lighten(rgb: _RGB, amount: float) -> _RGB:
    r, g, b = (round(c + (255 - c) * amount) for c in rgb)
    return (r, g, b)


def _background(width: int, height: int) -> Image.Image:
    top = Image.new("RGB", (1, 2))
    top.putpixel((0, 0), _BG_TOP)
    top.putpixel((0, 1), _BG_BOTTOM)
    return top.resize((width, height), Image.Resampling.BILINEAR).convert("RGBA")


def _guilloche(image: Image.Image, centre: tuple[int, int]) -> None:
    """Fine concentric rings, like the security print on a banknote or an ID card."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    cx, cy = centre
    for i, radius in enumerate(range(_s(40), _s(760), _s(11))):
        wobble = _s(6) * math.sin(i * 0.7)
        r = radius + wobble
        draw.ellipse((cx - r, cy - r * 0.94, cx + r, cy + r * 0.94), outline=(255, 255, 255, 11), width=_s(1))
    image.alpha_composite(layer)


def _circle_text(
    layer: Image.Image,
    centre: tuple[float, float],
    radius: float,
    text: str,
    chain: FontChain,
    fill: tuple[int, ...],
) -> None:
    """``text`` spread evenly around a full circle, letters upright to the outside."""
    font = chain.faces[0].font
    widths = [float(font.getlength(c)) for c in text]
    spacing = (2 * math.pi * radius - sum(widths)) / len(text)
    angle = -math.pi / 2 - (widths[0] / 2) / radius
    size = int(max(widths) * 2 + _s(20))
    for char, width in zip(text, widths, strict=True):
        theta = angle + (width / 2) / radius
        glyph = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((size / 2, size / 2), char, font=font, fill=fill, anchor="mm")
        glyph = glyph.rotate(-math.degrees(theta) - 90, resample=Image.Resampling.BICUBIC)
        x = centre[0] + radius * math.cos(theta) - size / 2
        y = centre[1] + radius * math.sin(theta) - size / 2
        layer.alpha_composite(glyph, (round(x), round(y)))
        angle += (width + spacing) / radius


def _star(centre: tuple[float, float], outer: float, inner: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        a = -math.pi / 2 + i * math.pi / 5
        points.append((centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)))
    return points


def _seal(image: Image.Image, centre: tuple[int, int], radius: int) -> None:
    """A rubber-stamp seal of the Bureau, slightly askew, as if pressed by hand."""
    size = radius * 2 + _s(12)
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    c = (size / 2, size / 2)
    ink = (*_STAMP, 235)
    draw.ellipse((c[0] - radius, c[1] - radius, c[0] + radius, c[1] + radius), outline=ink, width=_s(4))
    r2 = radius - _s(7)
    draw.ellipse((c[0] - r2, c[1] - r2, c[0] + r2, c[1] + r2), outline=ink, width=_s(1.5))
    r3 = radius - _s(28)
    draw.ellipse((c[0] - r3, c[1] - r3, c[0] + r3, c[1] + r3), outline=ink, width=_s(2))
    _circle_text(
        layer, c, radius - _s(17.5), "BUREAU OF SOCIAL CREDIT ★ AUDITED ★ ", _font(11, bold=True), ink
    )
    draw.polygon(_star(c, r3 * 0.62, r3 * 0.25), fill=ink)
    layer = layer.rotate(14, resample=Image.Resampling.BICUBIC)
    # The stamp is pressed, not printed: let the background show through a little.
    alpha = layer.getchannel("A").point(lambda v: round(v * 0.8))
    layer.putalpha(alpha)
    image.alpha_composite(layer, (centre[0] - size // 2, centre[1] - size // 2))


def _avatar(data: ScoreCardData, diameter: int, ring: _RGB) -> Image.Image:
    disc = Image.new("RGBA", (diameter, diameter), (0, 0, 0, 0))
    mask = Image.new("L", (diameter, diameter), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, diameter - 1, diameter - 1), fill=255)
    picture: Image.Image | None = None
    if data.avatar is not None:
        try:
            with Image.open(io.BytesIO(data.avatar)) as source:
                source.load()
                picture = ImageOps.fit(source.convert("RGBA"), (diameter, diameter), Image.Resampling.LANCZOS)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            log.info("ignoring an unreadable avatar for citizen No. %s", data.citizen_number)
    if picture is None:
        picture = Image.new("RGBA", (diameter, diameter), (*_lighten(_BG_TOP, 0.12), 255))
        draw = ImageDraw.Draw(picture)
        chain = _font(36, bold=True)
        name = chain.drawable(data.display_name).strip()
        initial = name[0].upper() if name else "#"
        # Baseline placed so that capitals sit in the middle of the disc.
        chain.draw(picture, (diameter / 2, diameter / 2 + _s(13)), initial, fill=ring, anchor="ms")
    disc.paste(picture, (0, 0), mask)
    draw = ImageDraw.Draw(disc)
    draw.ellipse((0, 0, diameter - 1, diameter - 1), outline=ring, width=_s(3))
    return disc


def _fit_name(text: str, width: float) -> tuple[FontChain, str]:
    for size in (34, 31, 28, 25):
        chain = _font(size, bold=True)
        if chain.length(text) <= width:
            return chain, text
    chain = _font(25, bold=True)
    return chain, chain.fit(text, width)


# The sparkline's height spans at least this share of the score range: a 7-point dip on a 600-point
# scale stays a dip, not a cliff.
SPARK_MIN_SPAN = 0.1


def sparkline_window(scores: Sequence[int], floor: int, ceiling: int) -> tuple[float, float]:
    """The scores the sparkline's bottom and top stand for: the scores' own range, widened to at
    least ``SPARK_MIN_SPAN`` of ``floor``..``ceiling`` around their middle, kept inside that range."""
    low, high = min(scores), max(scores)
    span = max(high - low, SPARK_MIN_SPAN * (ceiling - floor), 1)
    lo = (low + high) / 2 - span / 2
    lo = min(max(lo, floor), ceiling - span) if ceiling - floor >= span else lo
    return lo, lo + span


def _sparkline(
    image: Image.Image,
    box: tuple[int, int, int, int],
    scores: tuple[int, ...],
    colour: _RGB,
    *,
    floor: int,
    ceiling: int,
) -> None:
    x0, y0, x1, y1 = box
    draw = ImageDraw.Draw(image)
    label = _font(12, bold=True)
    small = _font(12)
    if len(scores) < 2:
        small.draw(image, (x0, (y0 + y1) / 2), "The trend appears after two audits.", fill=_MUTED)
        return
    label.draw(image, (x0, y0 - _s(12)), f"LAST {len(scores)} AUDITS", fill=_MUTED)
    low, high = min(scores), max(scores)
    lo, hi = sparkline_window(scores, floor, ceiling)
    plot_x1 = x1 - _s(46)  # room for the value labels
    step = (plot_x1 - x0) / (len(scores) - 1)
    points = [(x0 + i * step, y1 - (s - lo) / (hi - lo) * (y1 - y0)) for i, s in enumerate(scores)]
    fill = Image.new("RGBA", image.size, (0, 0, 0, 0))
    fill_draw = ImageDraw.Draw(fill)
    fill_draw.polygon([(x0, y1), *points, (points[-1][0], y1)], fill=(*colour, 46))
    for gy in (y0, (y0 + y1) / 2, y1):
        fill_draw.line((x0, gy, plot_x1, gy), fill=_FAINT, width=_s(1))
    image.alpha_composite(fill)
    draw = ImageDraw.Draw(image)
    draw.line(points, fill=colour, width=_s(3), joint="curve")
    lx, ly = points[-1]
    r = _s(5.5)
    draw.ellipse((lx - r, ly - r, lx + r, ly + r), fill=colour, outline=_TEXT, width=_s(2))
    small.draw(image, (x1, y0 + _s(5)), str(high), fill=_MUTED, anchor="rs")
    small.draw(image, (x1, y1 + _s(5)), str(low), fill=_MUTED, anchor="rs")


def render_score_card(card: ScoreCardData) -> bytes:
    """The card as PNG bytes, ``CARD_SIZE`` pixels."""
    width, height = (_s(v) for v in CARD_SIZE)
    colour: _RGB = (
        parse_hex(card.tier_colour)
        if card.tier_colour
        else score_rgb(card.score, card.score_floor, card.score_ceiling)
    )
    bright = _lighten(colour, 0.18)
    image = _background(width, height)
    _guilloche(image, (_s(690), _s(150)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, _s(8), height), fill=colour)

    # Header: who issues the card, and for which season.
    header = _font(14, bold=True)
    header.draw(image, (_s(40), _s(42)), "CITIZEN SCORE", fill=_TEXT)
    bureau_x = _s(40) + header.length("CITIZEN SCORE") + _s(10)
    _font(14).draw(image, (bureau_x, _s(42)), "Bureau of Social Credit", fill=_MUTED)
    context = " · ".join(part for part in (card.season_name, card.scenario_name) if part)
    if context:
        chain = _font(14)
        chain.draw(image, (_s(760), _s(42)), chain.fit(context, _s(300)), fill=_MUTED, anchor="rs")
    draw.line((_s(40), _s(58), _s(760), _s(58)), fill=(255, 255, 255, 40), width=_s(1))

    _seal(image, (_s(676), _s(158)), _s(66))

    # Identity.
    disc = _avatar(card, _s(84), bright)
    image.alpha_composite(disc, (_s(40), _s(78)))
    draw = ImageDraw.Draw(image)
    number = f"Citizen No. {card.citizen_number}"
    # Characters no installed font has are dropped; collapse the gaps they leave.
    name = " ".join(_font(34).drawable(card.display_name).split())
    chain, shown = _fit_name(name or number, _s(440))
    if name:
        chain.draw(image, (_s(144), _s(118)), shown, fill=_TEXT)
        _font(18).draw(image, (_s(144), _s(150)), number, fill=_MUTED)
    else:
        # Nothing of the name can be drawn with the fonts installed: the number stands in for it.
        chain.draw(image, (_s(144), _s(134)), shown, fill=_TEXT)

    # The score, the tier and the last change.
    big = _font(118, bold=True)
    big.draw(image, (_s(34), _s(306)), str(card.score), fill=_TEXT)
    score_w = big.length(str(card.score))
    _font(20).draw(image, (_s(44) + score_w, _s(306)), f"/ {card.score_ceiling}", fill=_MUTED)

    pill_font = _font(19, bold=True)
    tier_text = pill_font.fit(card.tier_name or "Unranked", _s(260))
    pill_w = pill_font.length(tier_text) + _s(32)
    pill = (_s(40), _s(328), _s(40) + pill_w, _s(366))
    draw.rounded_rectangle(pill, radius=_s(19), fill=colour)
    pill_font.draw(image, (pill[0] + _s(16), _s(354)), tier_text, fill=_on(colour))

    change = card.change
    since = (
        f" since audit {card.last_audit_number}"
        if card.last_audit_number is not None
        else " since the last audit"
    )
    change_font = _font(17, bold=True)
    cx = pill[2] + _s(18)
    if change is None:
        change_font.draw(image, (cx, _s(354)), "first audit pending", fill=_MUTED)
    else:
        if change > 0:
            text, tone = f"▲ {change}", _UP
        elif change < 0:
            text, tone = f"▼ {-change}", _DOWN
        else:
            text, tone = "● no change", _MUTED
        w = change_font.draw(image, (cx, _s(354)), text, fill=tone)
        _font(15).draw(image, (cx + w, _s(354)), since, fill=_MUTED)

    _sparkline(
        image,
        (_s(470), _s(262), _s(760), _s(312)),
        card.recent_scores,
        bright,
        floor=card.score_floor,
        ceiling=card.score_ceiling,
    )

    footer = _font(13)
    footer.draw(image, (_s(40), _s(400)), f"Scores run {card.score_floor}–{card.score_ceiling}", fill=_MUTED)
    footer.draw(
        image, (_s(760), _s(400)), "A public record: any citizen may look it up.", fill=_MUTED, anchor="rs"
    )

    final = image.convert("RGB").resize(CARD_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    final.save(out, format="PNG")
    return out.getvalue()
