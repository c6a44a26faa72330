"""Templates (Jinja2, autoescaped: a name is always text) and the small pictures the pages draw
themselves: a citizen's monogram and the score-history chart, as inline SVG with no styles, so the
content security policy needs no exception for them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import jinja2
from markupsafe import Markup, escape

__all__ = ["avatar_svg", "environment", "history_svg", "when"]

# Fills for the monograms: each has a contrast of at least 4.5:1 with white text.
AVATAR_FILLS = ("#8b1a1a", "#1d4e89", "#2f5d1e", "#6b2d82", "#7a4b00", "#005f60", "#4a4a4a", "#a01a5c")


def _fill(number: int) -> str:
    return AVATAR_FILLS[number % len(AVATAR_FILLS)]


def avatar_svg(name: str, number: int, size: int = 32) -> Markup:
    """A round monogram: the name's first letter (escaped) on a colour picked by the citizen's
    number, as ``live.js`` picks it."""
    letter = next((ch for ch in name if ch.isalnum()), "?").upper()
    # Every value in the markup is a number, a constant or escaped here.
    return Markup(  # noqa: S704
        f'<svg class="avatar" width="{size}" height="{size}" viewBox="0 0 32 32" aria-hidden="true" '
        f'focusable="false"><circle cx="16" cy="16" r="16" fill="{_fill(number)}"/>'
        f'<text x="16" y="21.5" text-anchor="middle" font-size="15" font-family="sans-serif" '
        f'font-weight="700" fill="#ffffff">{escape(letter)}</text></svg>'
    )


def history_svg(points: Sequence[tuple[datetime, int]], *, width: int = 640, height: int = 180) -> Markup:
    """The score over time as a line; described for screen readers by its label."""
    if not points:
        return Markup("")
    scores = [score for _, score in points]
    low, high = min(scores), max(scores)
    if high - low < 20:
        low, high = low - 10, high + 10
    start = points[0][0].timestamp()
    span = max(points[-1][0].timestamp() - start, 1.0)
    left, right, top, bottom = 44, width - 10, 10, height - 24

    def xy(at: datetime, score: int) -> tuple[float, float]:
        x = left + (at.timestamp() - start) / span * (right - left) if len(points) > 1 else (left + right) / 2
        y = bottom - (score - low) / (high - low) * (bottom - top)
        return round(x, 1), round(y, 1)

    coordinates = [xy(at, score) for at, score in points]
    # A step line: the score holds until the next change.
    path = [f"M{coordinates[0][0]},{coordinates[0][1]}"]
    for (x, y), (_, previous_y) in zip(coordinates[1:], coordinates, strict=False):
        path.append(f"L{x},{previous_y}L{x},{y}")
    label = (
        f"Score over the season: {scores[0]} at the start, {scores[-1]} now; "
        f"lowest {min(scores)}, highest {max(scores)}, {len(points) - 1} changes."
    )
    last_x, last_y = coordinates[-1]
    # Every value in the markup is a number, a formatted time or escaped here.
    return Markup(  # noqa: S704
        f'<svg class="history" viewBox="0 0 {width} {height}" role="img" aria-labelledby="history-title">'
        f'<title id="history-title">{escape(label)}</title>'
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#767676" stroke-width="1"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#767676" stroke-width="1"/>'
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="12" fill="currentColor">'
        f"{high}</text>"
        f'<text x="{left - 6}" y="{bottom}" text-anchor="end" font-size="12" fill="currentColor">{low}</text>'
        f'<text x="{left}" y="{height - 6}" font-size="12" fill="currentColor">{when(points[0][0])}</text>'
        f'<text x="{right}" y="{height - 6}" text-anchor="end" font-size="12" fill="currentColor">'
        f"{when(points[-1][0])}</text>"
        f'<path d="{"".join(path)}" fill="none" stroke="#b3261e" stroke-width="2.5"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="4" fill="#b3261e"/></svg>'
    )


def when(moment: datetime | None) -> str:
    """``2026-03-01 12:15 UTC``."""
    if moment is None:
        return "\N{EM DASH}"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat()


def signed(value: int | None) -> str:
    if value is None:
        return "\N{EM DASH}"
    if value == 0:
        return "0"
    return f"+{value}" if value > 0 else f"\N{MINUS SIGN}{-value}"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        enable_async=False,
    )
    env.filters["when"] = when
    env.filters["iso"] = iso
    env.filters["signed"] = signed
    env.globals["avatar"] = avatar_svg
    env.globals["history_svg"] = history_svg
    return env


def render(env: jinja2.Environment, template: str, **context: Any) -> str:
    return env.get_template(template).render(**context)
