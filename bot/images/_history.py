"""The ``/history`` chart: one citizen's score over the season, over the tier bands, as PNG.

Matplotlib's object-oriented API only (no pyplot, no global figure state), styled per artist
rather than through ``rcParams`` so concurrent renders cannot disturb one another.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.figure import Figure

from bot.images._fonts import font_chain, outline_fallbacks
from game.report import TierBand, score_colour, tier_colour

HISTORY_CHART_SIZE = (1200, 600)
_DPI = 150

_BG = "#141925"
_PANEL = "#1a2030"
_TEXT = "#eef1f6"
_MUTED = "#98a2b6"
_GRID = "#2a3246"
_LINE = "#e8ecf3"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryPoint:
    """A citizen's score at a moment of the season (after an audit, or the season start)."""

    at: datetime
    score: int
    audit_number: int | None = None

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError(f"history point time must be timezone-aware, got {self.at!r}")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@functools.cache
def _families() -> tuple[str, ...]:
    """DejaVu Sans, then the fallback faces the card uses, so both draw the same characters.

    matplotlib's font list is cached on disk and misses fonts installed after the cache was
    built; registering the files directly makes the fallback work without a cache rebuild.
    """
    families = ["DejaVu Sans"]
    for path in outline_fallbacks():
        name = str(path)
        if not any(entry.fname == name for entry in font_manager.fontManager.ttflist):
            font_manager.fontManager.addfont(name)
        for entry in font_manager.fontManager.ttflist:
            if entry.fname == name and entry.name not in families:
                families.append(entry.name)
                break
    return tuple(families)


def render_history_chart(
    points: Sequence[HistoryPoint],
    *,
    title: str,
    tiers: Sequence[TierBand] = (),
    score_floor: int = 350,
    score_ceiling: int = 950,
    start_score: int | None = None,
) -> bytes:
    """The score over time as PNG bytes, ``HISTORY_CHART_SIZE`` pixels.

    ``points`` need not be sorted. ``start_score``, when given, is drawn as a dashed reference.
    """
    fig = history_figure(
        points,
        title=title,
        tiers=tiers,
        score_floor=score_floor,
        score_ceiling=score_ceiling,
        start_score=start_score,
    )
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=_DPI, facecolor=_BG, metadata={"Software": None})
    return out.getvalue()


def history_figure(
    points: Sequence[HistoryPoint],
    *,
    title: str,
    tiers: Sequence[TierBand] = (),
    score_floor: int = 350,
    score_ceiling: int = 950,
    start_score: int | None = None,
) -> Figure:
    """The chart ``render_history_chart`` draws, as a matplotlib figure (its first axes: the plot)."""
    ordered = sorted(points, key=lambda p: p.at)
    family = list(_families())
    fig = Figure(
        figsize=(HISTORY_CHART_SIZE[0] / _DPI, HISTORY_CHART_SIZE[1] / _DPI), dpi=_DPI, facecolor=_BG
    )
    ax = fig.add_axes((0.075, 0.12, 0.765, 0.72), facecolor=_PANEL)
    # Only characters some installed outline font has: no empty boxes, no missing-glyph warnings.
    chain = font_chain(20, bold=True)
    shown_title = _short(" ".join(chain.drawable(title, outline_only=True).split()), 70) or "Score history"
    fig.text(
        0.075, 0.92, shown_title, color=_TEXT, fontsize=14, fontweight="bold", family=family, va="bottom"
    )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(_GRID)
    ax.tick_params(colors=_MUTED, labelcolor=_MUTED, labelsize=9)
    ax.grid(True, color=_GRID, linewidth=0.7)
    ax.set_axisbelow(True)

    if ordered:
        scores = [p.score for p in ordered]
        low, high = min(scores), max(scores)
        if start_score is not None:
            low, high = min(low, start_score), max(high, start_score)
        pad = max((high - low) * 0.25, 30)
        y_lo, y_hi = max(score_floor, low - pad), min(score_ceiling, high + pad)
    else:
        y_lo, y_hi = score_floor, score_ceiling
    ax.set_ylim(y_lo, y_hi)

    for tier in tiers:
        if tier.max_score + 1 < y_lo or tier.min_score > y_hi:
            continue
        colour = tier_colour(tier, score_floor, score_ceiling)
        ax.axhspan(tier.min_score, tier.max_score + 1, color=colour, alpha=0.16, lw=0, zorder=0)
        ax.axhline(tier.min_score, color=colour, alpha=0.45, lw=0.8, zorder=0)
        middle = (max(tier.min_score, y_lo) + min(tier.max_score + 1, y_hi)) / 2
        ax.text(
            1.012,
            middle,
            _short(chain.drawable(tier.name, outline_only=True), 18),
            transform=ax.get_yaxis_transform(),
            color=colour,
            fontsize=8.5,
            fontweight="bold",
            va="center",
            ha="left",
            family=family,
            clip_on=False,
        )

    if not ordered:
        ax.text(
            0.5,
            0.5,
            "No audits yet",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=_MUTED,
            fontsize=13,
        )
        ax.set_xticks([])
    else:
        times = [p.at for p in ordered]
        x = mdates.date2num(times)  # type: ignore[no-untyped-call]
        tz = ordered[0].at.tzinfo
        if start_score is not None:
            ax.axhline(start_score, color=_MUTED, lw=0.9, ls=(0, (4, 3)), zorder=1)
        ax.plot(x, scores, drawstyle="steps-post", color=_LINE, lw=2.2, zorder=3, solid_joinstyle="miter")
        ax.scatter(
            x,
            scores,
            s=22,
            c=[score_colour(s, score_floor, score_ceiling) for s in scores],
            edgecolors=_PANEL,
            linewidths=1.2,
            zorder=4,
        )
        last = ordered[-1]
        ax.annotate(
            str(last.score),
            xy=(x[-1], last.score),
            xytext=(6, 6),
            textcoords="offset points",
            color=_TEXT,
            fontsize=11,
            fontweight="bold",
        )
        # The axis starts at the first point (the season's start or the citizen's joining), never
        # before the season began; room on the right for the last score's label.
        span = x[-1] - x[0]
        if span <= 0:  # one point, or all at one instant (joined and audited in the same second)
            hour = 1 / 24  # date numbers count days
            ax.set_xlim(x[0], x[0] + hour)
        else:
            ax.set_xlim(x[0], x[-1] + span * 0.08)
        locator = mdates.AutoDateLocator(tz=tz, minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        formatter = mdates.ConciseDateFormatter(locator, tz=tz, show_offset=False)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(formatter)
    return fig
