"""How the season's decrees look: the moderators' list, and the lines players see of a public timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord
from discord.utils import format_dt

from bot.utils import formatting as fmt
from bot.utils.embeds import FIELD_LIMIT, bureau_embed
from game.services.decrees import DecreeBoard, DecreeLine

__all__ = ["board_embed", "issued_embed", "line_text", "timeline_lines"]


def _until(line: DecreeLine) -> str:
    if line.until_audit is None:
        return "until the end of the season"
    when = f", about {format_dt(line.until_at, 't')}" if line.until_at else ""
    return f"through audit {line.until_audit}{when}"


def line_text(line: DecreeLine) -> str:
    """One decree in one line: in force (since when, until when), to come (when), or to issue."""
    name = f"**{fmt.escape(line.name)}** `{line.key}`"
    if line.record_id is None:
        if line.expected_at is not None:
            return f"{name}: {format_dt(line.expected_at, 'R')}"
        return f"{name}: optional"
    who = f" by <@{line.issued_by}>" if line.issued_by else ""
    revoked = f" · revoked {format_dt(line.revoked_at, 'R')}" if line.revoked_at else ""
    return f"{name}: from audit {line.from_audit}{who}, {_until(line)}{revoked}"


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


def timeline_lines(board: DecreeBoard | None, now: datetime) -> str | None:
    """What players see of the timeline (in force, the next few to come), or ``None`` if it is secret
    or empty."""
    del now  # relative times are drawn by Discord
    if board is None or not board.public or not (board.in_force or board.coming):
        return None
    lines = [f"\N{SCROLL} {line_text(line)}" for line in board.in_force]
    lines += [f"\N{HOURGLASS WITH FLOWING SAND} {line_text(line)}" for line in board.coming[:3]]
    return fmt.truncate("\n".join(lines), FIELD_LIMIT)
