"""One colour scale for scores, shared by the debrief and the bot's images.

Low scores are a warning red, the middle amber, high scores the Bureau's approving green and,
at the very top, a calm official blue. Stops are close enough that no step turns muddy.
The scale is defined on the fraction of the season's score range, so any scenario's range fits.
"""

from __future__ import annotations

import itertools

from game.report._data import TierBand

# (fraction of the range, colour): a red-amber-green ramp that stays legible on white and on dark.
SCALE_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.00, (0x9E, 0x1B, 0x22)),
    (0.20, (0xC9, 0x38, 0x2A)),
    (0.33, (0xE0, 0x70, 0x2E)),
    (0.45, (0xE6, 0xA1, 0x3A)),
    (0.55, (0xA9, 0xB8, 0x43)),
    (0.65, (0x4F, 0xAE, 0x5B)),
    (0.80, (0x1F, 0x9A, 0x8A)),
    (1.00, (0x2B, 0x6C, 0xB0)),
)


def score_rgb(score: float, floor: int, ceiling: int) -> tuple[int, int, int]:
    """The scale's colour for ``score`` as an RGB triple, on the season's range ``floor..ceiling``."""
    span = max(ceiling - floor, 1)
    t = min(max((score - floor) / span, 0.0), 1.0)
    for (t0, c0), (t1, c1) in itertools.pairwise(SCALE_STOPS):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            r, g, b = (round(a + (b_ - a) * f) for a, b_ in zip(c0, c1, strict=True))
            return (r, g, b)
    return SCALE_STOPS[-1][1]


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def parse_hex(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` (or ``rrggbb``) to an RGB triple; raises ``ValueError`` on anything else."""
    text = colour.removeprefix("#")
    if len(text) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    value = int(text, 16)
    return ((value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF)


def score_colour(score: float, floor: int, ceiling: int) -> str:
    """The scale's colour for ``score`` as ``#rrggbb``."""
    return hex_colour(score_rgb(score, floor, ceiling))


def tier_colour(tier: TierBand, floor: int, ceiling: int) -> str:
    """The tier's own colour, or the scale's colour at the middle of the tier."""
    if tier.colour is not None:
        return hex_colour(parse_hex(tier.colour))
    return score_colour((tier.min_score + tier.max_score) / 2, floor, ceiling)
