"""The look of the bot's replies: the game's colours, the Bureau's embeds, fields that fit.

Embeds put what matters first and keep within Discord's limits: 25 fields, 1,024 characters a field,
4,096 in a description, 6,000 in all.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

from bot.utils.formatting import truncate

__all__ = [
    "BUREAU_COLOUR",
    "DESCRIPTION_LIMIT",
    "FIELD_LIMIT",
    "GAME_COLOUR",
    "TITLE_LIMIT",
    "WARNING_COLOUR",
    "bureau_embed",
    "lines_field",
    "warning_embed",
]

FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256

# The Bureau's own colour, for its replies and announcements.
BUREAU_COLOUR = discord.Colour.from_rgb(178, 34, 34)
# The game's colour, for what citizens look up about themselves and each other.
GAME_COLOUR = discord.Colour.from_rgb(0xB0, 0x1E, 0x23)
WARNING_COLOUR = discord.Colour.from_rgb(230, 160, 20)


def bureau_embed(title: str, description: str | None = None) -> discord.Embed:
    """A reply from the Bureau: short title, the details underneath."""
    text = truncate(description, DESCRIPTION_LIMIT) if description else None
    return discord.Embed(title=truncate(title, TITLE_LIMIT), description=text, colour=BUREAU_COLOUR)


def warning_embed(title: str, description: str) -> discord.Embed:
    return discord.Embed(
        title=f"\N{WARNING SIGN} {truncate(title, TITLE_LIMIT - 6)}",
        description=truncate(description, DESCRIPTION_LIMIT),
        colour=WARNING_COLOUR,
    )


def lines_field(lines: Iterable[str], *, limit: int = FIELD_LIMIT, empty: str = "*none*") -> str:
    """Lines joined for one embed field, cut at a whole line (with a count of the rest) to fit."""
    kept: list[str] = []
    items = list(lines)
    used = 0
    for index, line in enumerate(items):
        rest = len(items) - index
        more = f"\N{HORIZONTAL ELLIPSIS} and {rest} more"
        cost = len(line) + (1 if kept else 0)
        # Leave room for the "and N more" line unless this is the last line.
        reserve = 0 if rest == 1 else len(more) + 1
        if used + cost + reserve > limit:
            kept.append(more)
            break
        kept.append(line)
        used += cost
    return "\n".join(kept) or empty
