"""Fonts for the images, with per-character fallback and no way to fail for want of a font.

The primary face is DejaVu Sans (the system's copy, else the one matplotlib ships, else Pillow's
built-in scalable font). Characters it lacks are drawn with the first fallback face that has them:
the host's CJK faces and colour emoji (a bitmap font, drawn at its one size and scaled) when it has
them installed (Debian: fonts-noto-cjk, fonts-noto-color-emoji), then Noto Sans CJK from the
``noto-cjk-sans-otc`` package the bot depends on, so Chinese, Japanese and Korean names draw on any
host (colour emoji still need the host's font). Characters no face has are left out
rather than drawn as empty boxes; the card falls back to the citizen number if nothing of a name
is left.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

_FontObject = ImageFont.FreeTypeFont | ImageFont.ImageFont | ImageFont.TransposedFont

_SYSTEM_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)

_FALLBACKS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-{weight}.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf",
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
)

# Colour emoji fonts are bitmaps available at one size only.
_EMOJI = (Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"), 109)


def _matplotlib_font_dir() -> Path | None:
    try:
        import matplotlib  # optional: only for its bundled DejaVu
    except ImportError:
        return None
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _primary_paths(bold: bool) -> list[Path]:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    dirs = list(_SYSTEM_DIRS)
    bundled = _matplotlib_font_dir()
    if bundled is not None:
        dirs.append(bundled)
    return [d / name for d in dirs]


def _packaged_cjk() -> Path | None:
    """Noto Sans CJK (regular weight) as the ``noto-cjk-sans-otc`` package ships it, if installed."""
    spec = importlib.util.find_spec("noto_cjk_sans_otc")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).with_name("NotoSansCJK-Regular.ttc")


def _fallback_paths(bold: bool) -> list[Path]:
    weight = "Bold" if bold else "Regular"
    paths = [Path(p.format(weight=weight)) for p in _FALLBACKS]
    packaged = _packaged_cjk()
    if packaged is not None and packaged not in paths:
        paths.append(packaged)
    return paths


def outline_fallbacks() -> list[Path]:
    """The installed fallback font files (regular and bold) that are outline fonts."""
    return [p for bold in (False, True) for p in _fallback_paths(bold) if p.is_file()]


@functools.cache
def _coverage(path: Path) -> frozenset[int] | None:
    """The code points the font maps, or ``None`` if that cannot be read."""
    try:
        from fontTools.ttLib import TTFont  # comes with matplotlib; optional
    except ImportError:
        return None
    try:
        font = TTFont(str(path), fontNumber=0, lazy=True)
        try:
            cmap = font.getBestCmap() or {}
        finally:
            font.close()
    except Exception:
        log.warning("cannot read the character map of %s", path, exc_info=True)
        return None
    return frozenset(cmap)


@dataclass(frozen=True)
class _Face:
    font: _FontObject
    coverage: frozenset[int] | None  # None: unknown, used for everything the others lack
    scale: float | None = None  # set for a bitmap face: its glyphs are resized by this much

    def has(self, char: str) -> bool:
        return self.coverage is None or ord(char) in self.coverage

    def length(self, text: str) -> float:
        return float(self.font.getlength(text)) * (self.scale or 1.0)


class FontChain:
    """A primary face plus fallbacks at one size; draws mixed-script text along one baseline."""

    def __init__(self, faces: Sequence[_Face]) -> None:
        if not faces:
            raise ValueError("a font chain needs at least one face")
        self.faces = tuple(faces)

    def _face_for(self, char: str, *, outline_only: bool = False) -> _Face | None:
        for face in self.faces:
            if face.has(char) and not (outline_only and face.scale is not None):
                return face
        return None

    def drawable(self, text: str, *, outline_only: bool = False) -> str:
        """``text`` without the characters no face can draw.

        ``outline_only`` also leaves out what only a bitmap (colour emoji) face has, for renderers
        such as matplotlib that cannot draw bitmap fonts.
        """
        return "".join(
            c for c in text if c in " \u00a0" or self._face_for(c, outline_only=outline_only) is not None
        )

    def runs(self, text: str) -> list[tuple[str, _Face]]:
        runs: list[tuple[str, _Face]] = []
        for char in self.drawable(text):
            face = self._face_for(char) or self.faces[0]
            if runs and runs[-1][1] is face:
                runs[-1] = (runs[-1][0] + char, face)
            else:
                runs.append((char, face))
        return runs

    def length(self, text: str) -> float:
        return sum(face.length(run) for run, face in self.runs(text))

    def fit(self, text: str, width: float) -> str:
        """``text``, shortened with an ellipsis to fit ``width`` pixels."""
        text = self.drawable(text)
        if self.length(text) <= width:
            return text
        while text and self.length(text + "…") > width:
            text = text[:-1]
        return text.rstrip() + "…"

    def draw(
        self,
        image: Image.Image,
        xy: tuple[float, float],
        text: str,
        *,
        fill: tuple[int, ...] | str,
        anchor: str = "ls",
    ) -> float:
        """Draw ``text`` on the RGBA ``image`` with its baseline at ``xy[1]``.

        ``anchor`` is ``ls``, ``ms`` or ``rs`` (left, middle, right). Returns the drawn width.
        """
        width = self.length(text)
        x, y = xy
        if anchor[0] == "m":
            x -= width / 2
        elif anchor[0] == "r":
            x -= width
        draw = ImageDraw.Draw(image)
        for run, face in self.runs(text):
            if face.scale is None:
                draw.text((x, y), run, font=face.font, fill=fill, anchor="ls")
            else:
                _draw_bitmap_run(image, (x, y), run, face)
            x += face.length(run)
        return width


def _draw_bitmap_run(image: Image.Image, xy: tuple[float, float], run: str, face: _Face) -> None:
    assert face.scale is not None
    font = face.font
    ascent, descent = font.getmetrics() if isinstance(font, ImageFont.FreeTypeFont) else (0, 0)
    native_w = max(1, math.ceil(float(font.getlength(run))))
    glyphs = Image.new("RGBA", (native_w, max(1, ascent + descent)), (0, 0, 0, 0))
    ImageDraw.Draw(glyphs).text((0, ascent), run, font=font, anchor="ls", embedded_color=True)
    size = (max(1, round(native_w * face.scale)), max(1, round((ascent + descent) * face.scale)))
    glyphs = glyphs.resize(size, Image.Resampling.LANCZOS)
    image.alpha_composite(glyphs, (round(xy[0]), round(xy[1] - ascent * face.scale)))


def _load(path: Path, size: int) -> ImageFont.FreeTypeFont | None:
    if not path.is_file():
        return None
    try:
        return ImageFont.truetype(str(path), size=size)
    except OSError:
        log.warning("cannot load font %s", path, exc_info=True)
        return None


@functools.cache
def font_chain(size: int, *, bold: bool = False) -> FontChain:
    """The chain for ``size`` pixels; always returns something that can draw ASCII."""
    faces: list[_Face] = []
    for path in _primary_paths(bold):
        font = _load(path, size)
        if font is not None:
            faces.append(_Face(font, _coverage(path)))
            break
    for path in _fallback_paths(bold):
        font = _load(path, size)
        if font is not None:
            coverage = _coverage(path)
            # A fallback whose coverage is unknown would swallow every character: skip it.
            if coverage is not None:
                faces.append(_Face(font, coverage))
    if not faces:
        faces.append(_Face(ImageFont.load_default(size=size), frozenset(range(0x20, 0x7F))))
    emoji_path, emoji_size = _EMOJI
    emoji = _load(emoji_path, emoji_size)
    emoji_coverage = _coverage(emoji_path) if emoji is not None else None
    if emoji is not None and emoji_coverage is not None:
        # An emoji sits a little larger than a letter, as in chat clients.
        faces.append(_Face(emoji, emoji_coverage, scale=size * 1.1 / emoji_size))
    return FontChain(faces)
