"""The debrief's matplotlib charts, each as inline SVG, or ``None`` when there is nothing to draw."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

import numpy as np
from matplotlib import dates as mdates
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from game.report._analysis import CitizenResult, Flow, SeasonFigures
from game.report._colours import score_colour, tier_colour
from game.report._data import ReportData, TierBand
from game.report._svg import INK, MUTED, PAPER, chart_style, figure_to_svg, new_figure
from game.text import truncate

# Above this many citizens one line each is spaghetti: draw the spread instead.
MAX_LINES = 12
# Up to this many citizens each one's line is drawn (hidden in a crowd), so a reader can pick it; in a bigger
# crowd the hidden lines would add more drawing time and page weight than one picker is worth.
FOLLOW_LIMIT = 60
SPREAD = "#4a5a85"  # neutral, so the bands read over any tier colour
_TOP_BARS = 12


def _tier_bands(
    ax: Axes, tiers: Sequence[TierBand], data: ReportData, *, vertical: bool, visible: tuple[float, float]
) -> None:
    """Faint tier bands behind the data, each named where it can be read."""
    halo = [patheffects.withStroke(linewidth=3, foreground=PAPER)]
    for i, tier in enumerate(tiers):
        colour = tier_colour(tier, data.score_floor, data.score_ceiling)
        low, high = tier.min_score, tier.max_score + 1
        shown_low, shown_high = max(low, visible[0]), min(high, visible[1])
        if vertical:
            ax.axvspan(low, high, color=colour, alpha=0.10, lw=0, zorder=0)
            if shown_high <= shown_low:
                continue
            # Neighbouring narrow tiers would collide: alternate two rows of names.
            ax.text(
                (shown_low + shown_high) / 2,
                1.015 if i % 2 == 0 else 1.075,
                truncate(tier.name, 16),
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=8.5,
                color=colour,
                fontweight="bold",
            )
        else:
            ax.axhspan(low, high, color=colour, alpha=0.09, lw=0, zorder=0)
            if shown_high - shown_low < (visible[1] - visible[0]) * 0.06:
                continue
            ax.text(
                0.006,
                shown_high - (visible[1] - visible[0]) * 0.012,
                truncate(tier.name, 18),
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="top",
                fontsize=8,
                color=colour,
                fontweight="bold",
                path_effects=halo,
                zorder=5,
            )


def _spread_labels(wanted: list[float], gap: float, low: float, high: float) -> list[float]:
    """Label positions near ``wanted`` (sorted ascending) but at least ``gap`` apart."""
    placed: list[float] = []
    for y in wanted:
        placed.append(max(y, placed[-1] + gap) if placed else max(y, low))
    overflow = placed[-1] - high if placed else 0.0
    if overflow > 0:
        placed = [y - overflow for y in placed]
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    return placed


def followable(figures: SeasonFigures) -> bool:
    """Whether the score chart carries one line per citizen that a reader can pick out."""
    return len(figures.timeline.scores) <= FOLLOW_LIMIT


def _time_axis(ax: Axes, tz: tzinfo | None) -> None:
    # matplotlib.dates has no type hints.
    locator = mdates.AutoDateLocator(tz=tz, minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
    formatter = mdates.ConciseDateFormatter(locator, tz=tz, show_offset=True)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)


def scores_over_time(data: ReportData, figures: SeasonFigures) -> str | None:
    timeline = figures.timeline
    if figures.entry_count == 0 or not timeline.scores:
        return None
    end = data.ended_at or data.generated_at
    times: list[datetime] = [*timeline.times, max(end, timeline.times[-1])]
    x = mdates.date2num(times)  # type: ignore[no-untyped-call]
    tz = data.started_at.tzinfo
    results = {r.number: r for r in figures.citizens}
    all_scores = np.array([[*s, s[-1]] for s in timeline.scores.values()], dtype=float)
    lo, hi = float(all_scores.min()), float(all_scores.max())
    pad = max((hi - lo) * 0.1, 15.0)
    visible = (max(lo - pad, data.score_floor - 5), min(hi + pad, data.score_ceiling + 5))
    halo = [patheffects.Stroke(linewidth=3.6, foreground=PAPER), patheffects.Normal()]
    with chart_style():
        fig = new_figure(9.6, 4.8)
        ax = fig.subplots()
        ax.set_ylim(*visible)
        _tier_bands(ax, data.tiers, data, vertical=False, visible=visible)
        if len(timeline.scores) <= MAX_LINES:
            title = "Every citizen's score, audit by audit"
            finals: list[tuple[float, CitizenResult]] = []
            for number, series in timeline.scores.items():
                result = results[number]
                colour = score_colour(result.final_score, data.score_floor, data.score_ceiling)
                ax.plot(
                    x,
                    [*series, series[-1]],
                    drawstyle="steps-post",
                    color=colour,
                    lw=2.1,
                    path_effects=halo,
                    zorder=3,
                    gid=f"line-{number}",
                )
                finals.append((float(series[-1]), result))
            finals.sort(key=lambda item: item[0])
            span = visible[1] - visible[0]
            label_y = _spread_labels([y for y, _ in finals], span * 0.052, visible[0], visible[1])
            for (y, result), ly in zip(finals, label_y, strict=True):
                colour = score_colour(result.final_score, data.score_floor, data.score_ceiling)
                ax.annotate(
                    f"{truncate(result.name, 16)}  {result.final_score}",
                    xy=(1.0, y),
                    xycoords=("axes fraction", "data"),
                    xytext=(1.015, ly),
                    textcoords=("axes fraction", "data"),
                    annotation_clip=False,
                    fontsize=8.5,
                    color=INK,
                    va="center",
                    ha="left",
                    arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.8, "shrinkA": 0, "shrinkB": 2},
                )
        else:
            title = f"The spread of {len(timeline.scores)} citizens' scores, audit by audit"
            q = np.percentile(all_scores, [10, 25, 50, 75, 90], axis=0)
            ax.fill_between(x, q[0], q[4], step="post", color=SPREAD, alpha=0.22, lw=0, label="middle 80 %")
            ax.fill_between(x, q[1], q[3], step="post", color=SPREAD, alpha=0.42, lw=0, label="middle 50 %")
            ax.plot(x, q[2], drawstyle="steps-post", color=INK, lw=2.2, label="median")
            ax.plot(
                x,
                all_scores.max(axis=0),
                drawstyle="steps-post",
                color=MUTED,
                lw=1.0,
                ls=":",
                label="highest",
            )
            ax.plot(
                x,
                all_scores.min(axis=0),
                drawstyle="steps-post",
                color=MUTED,
                lw=1.0,
                ls="--",
                label="lowest",
            )
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
            if followable(figures):
                # Hidden until the reader picks the citizen (the page's CSS shows it).
                for number, series in timeline.scores.items():
                    ax.plot(
                        x,
                        [*series, series[-1]],
                        drawstyle="steps-post",
                        color=score_colour(results[number].final_score, data.score_floor, data.score_ceiling),
                        lw=2.4,
                        path_effects=halo,
                        zorder=4,
                        gid=f"follow-{number}",
                    )
        ax.axhline(data.start_score, color=MUTED, lw=0.8, ls=(0, (4, 3)), zorder=1)
        ax.set_xlim(x[0], x[-1] if x[-1] > x[0] else x[0] + 1)
        _time_axis(ax, tz)
        ax.set_ylabel("score")
        ax.set_title(title)
        return figure_to_svg(fig, prefix="timeline", label=title)


def distribution(data: ReportData, figures: SeasonFigures) -> str | None:
    if not figures.citizens:
        return None
    scores = np.array([r.final_score for r in figures.citizens], dtype=float)
    span = data.score_ceiling - data.score_floor
    width = max(5, round(span / 24 / 5) * 5)
    edges = np.arange(data.score_floor, data.score_ceiling + width, width, dtype=float)
    counts, _ = np.histogram(scores, bins=edges)
    with chart_style():
        fig = new_figure(9.6, 3.8)
        ax = fig.subplots()
        _tier_bands(ax, data.tiers, data, vertical=True, visible=(data.score_floor, data.score_ceiling + 1))
        centres = (edges[:-1] + edges[1:]) / 2
        colours = [score_colour(c, data.score_floor, data.score_ceiling) for c in centres]
        ax.bar(
            edges[:-1],
            counts,
            width=width,
            align="edge",
            color=colours,
            edgecolor="#fffdf8",
            lw=1.0,
            zorder=2,
        )
        ax.axvline(data.start_score, color=INK, lw=1.0, ls=(0, (4, 3)), zorder=3)
        ax.annotate(
            f"start {data.start_score}",
            xy=(data.start_score, 0.93),
            xycoords=("data", "axes fraction"),
            xytext=(4, 0),
            textcoords="offset points",
            fontsize=8.5,
            color=INK,
        )
        ax.set_xlim(data.score_floor, data.score_ceiling)
        ax.set_ylim(0, max(int(counts.max()), 1) * 1.15)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("final score")
        ax.set_ylabel("citizens")
        ax.grid(axis="x", visible=False)
        title = "Where the season left everyone"
        ax.set_title(title, pad=30)
        return figure_to_svg(fig, prefix="distribution", label=title)


def _bars(flows: Sequence[Flow], values: list[int], *, title: str, prefix: str, note: list[str]) -> str:
    labels = [truncate(f.key, 30) for f in flows]
    height = 0.9 + 0.38 * len(flows)
    with chart_style():
        fig = new_figure(9.6, max(height, 2.0))
        ax = fig.subplots()
        y = np.arange(len(flows))[::-1]
        colours = ["#b3312c" if v < 0 else "#3e8a4e" for v in values]
        ax.barh(y, values, color=colours, height=0.62, zorder=2)
        ax.set_yticks(y, labels)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="y", visible=False)
        ax.axvline(0, color=INK, lw=0.9)
        lo, hi = min(0, *values), max(0, *values)
        span = (hi - lo) or 10
        # Every label sits right of its bar's end (or of zero, for a loss), clear of the item names.
        ax.set_xlim(lo - (span * 0.03 if lo < 0 else 0), hi + span * 0.42)
        for yi, value, text in zip(y, values, note, strict=True):
            ax.annotate(
                f"{value:+,d}".replace("-", "−") + f"  ·  {text}",
                xy=(max(value, 0), yi),
                xytext=(6, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=8.5,
                color=INK,
            )
        ax.set_xlabel("points")
        ax.set_title(title)
        return figure_to_svg(fig, prefix=prefix, label=title)


def topic_costs(figures: SeasonFigures) -> str | None:
    costly = [f for f in figures.topics if f.lost < 0][:_TOP_BARS]
    if not costly:
        return None
    notes = [
        f"{f.count} message{'' if f.count == 1 else 's'}, "
        f"{f.citizens} citizen{'' if f.citizens == 1 else 's'}"
        for f in costly
    ]
    return _bars(
        costly, [f.lost for f in costly], title="What speaking cost, by topic", prefix="topics", note=notes
    )


def purchase_effects(figures: SeasonFigures) -> str | None:
    items = list(figures.items[:_TOP_BARS])
    if not items:
        return None
    notes = [f"{f.count} bought" for f in items]
    return _bars(
        items, [f.net for f in items], title="What the shop did to scores", prefix="items", note=notes
    )
