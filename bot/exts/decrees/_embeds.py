"""How the season's decrees look: the moderators' list, and the lines players see of a public timeline."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.utils import formatting as fmt
from bot.utils.decrees import line_text
from bot.utils.embeds import FIELD_LIMIT, bureau_embed
from game.services.decrees import DecreeBoard, DecreeLine

__all__ = ["board_embed", "issued_embed"]


def _field(lines: Sequence[DecreeLine]) -> str:
    return fmt.truncate("\n".join(line_text(line) for line in lines), FIELD_LIMIT) or "*none*"


def board_embed(board: DecreeBoard, scenario_name: str) -> discord.Embed:
    visibility = (
        "Players see what is in force and what comes next."
        if board.public
        else ("The timeline is secret: players learn of each decree when it is announced.")
    )
    embed = bureau_embed(f"Decrees: {scenario_name}", visibility)
    embed.add_field(name="In force", value=_field(board.in_force), inline=False)
    embed.add_field(name="Coming", value=_field(board.coming), inline=False)
    embed.add_field(name="Optional (/decree issue)", value=_field(board.optional), inline=False)
    if board.past:
        embed.add_field(name="Past", value=_field(board.past[-10:]), inline=False)
    return embed


def issued_embed(title: str, line: DecreeLine, extra: str = "") -> discord.Embed:
    text = f"{line_text(line)}\nIt is announced in the announcements channel." + (
        f"\n{extra}" if extra else ""
    )
    return bureau_embed(title, text)
