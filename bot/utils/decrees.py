"""The season's decrees in one line each: what /decree list, /season status and /help show."""

from __future__ import annotations

from datetime import datetime

from discord.utils import format_dt

from bot.utils import formatting as fmt
from bot.utils.embeds import FIELD_LIMIT
from game.services.decrees import DecreeBoard, DecreeLine

__all__ = ["TIMELINE_FIELD", "line_text", "timeline_lines"]

TIMELINE_FIELD = "\N{SCROLL} Decrees"


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


def timeline_lines(board: DecreeBoard | None, now: datetime) -> str | None:
    """What players see of the timeline (in force, the next few to come), or ``None`` if it is secret
    or empty."""
    del now  # relative times are drawn by Discord
    if board is None or not board.public or not (board.in_force or board.coming):
        return None
    lines = [f"\N{SCROLL} {line_text(line)}" for line in board.in_force]
    lines += [f"\N{HOURGLASS WITH FLOWING SAND} {line_text(line)}" for line in board.coming[:3]]
    return fmt.truncate("\n".join(lines), FIELD_LIMIT)
