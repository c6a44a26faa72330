"""Turning matplotlib figures into SVG that can sit inline in one HTML page, deterministically."""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

# The bot process never opens a window: pin the non-interactive backend before anything draws.
matplotlib.use("Agg")

from markupsafe import escape
from matplotlib.figure import Figure

# Fixed salt and no timestamp: the same data gives byte-identical SVG.
HASH_SALT = "citizen-score-debrief"

INK = "#1f2430"
MUTED = "#6b7080"
GRID = "#e6e1d6"
PAPER = "#fffdf8"

STYLE: dict[str, Any] = {
    "svg.hashsalt": HASH_SALT,
    "svg.fonttype": "none",
    "font.family": ["DejaVu Sans"],
    "font.size": 10.5,
    "axes.edgecolor": "#b9b3a6",
    "axes.labelcolor": INK,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlecolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "figure.facecolor": PAPER,
    "axes.facecolor": PAPER,
    "savefig.facecolor": PAPER,
    "legend.frameon": False,
}


# rc_context swaps matplotlib's global rcParams; the lock keeps two report threads from
# drawing with each other's settings half-applied.
_STYLE_LOCK = threading.Lock()


@contextmanager
def chart_style() -> Iterator[None]:
    # rc_context's stub wants a dict keyed by a Literal of every rc name.
    with _STYLE_LOCK, matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure without pyplot: no global figure registry to leak from a long-running bot."""
    return Figure(figsize=(width, height), layout="constrained")


_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_SIZE = re.compile(r'\s(width|height)="[^"]*"')
_REFERENCE = re.compile(r'(\bid="|href="#|url\(#)')
_FONT = re.compile(r"font-family: [^;\"]*")


def figure_to_svg(fig: Figure, *, prefix: str, label: str) -> str:
    """The figure as an ``<svg>`` element for inline use.

    Matplotlib names its clip paths and markers by content hashes, so two charts in one page can
    share ids; every id is prefixed to keep them apart. The prolog, RDF metadata and namespace URLs
    go (HTML does not need them), and the fixed size gives way to the viewBox so charts scale.
    """
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # Text is written as text (svg.fonttype none) and drawn by the browser, which has the
        # CJK and emoji glyphs DejaVu lacks; matplotlib's complaint only concerns its own metrics.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return inline_svg(buffer.getvalue(), prefix=prefix, label=label)


def inline_svg(text: str, *, prefix: str, label: str) -> str:
    text = _PROLOG.sub("", text, count=1)
    text = _METADATA.sub("", text)
    head_end = text.index(">")
    head = _SIZE.sub("", _XMLNS.sub("", text[:head_end]))
    head += f' role="img" aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet"'
    text = head + text[head_end:]
    text = _REFERENCE.sub(lambda m: f"{m.group(1)}{prefix}-", text)
    # Let the page's font stack draw the text.
    return _FONT.sub("font-family: var(--chart-font)", text).strip()
