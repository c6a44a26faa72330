"""The season's debrief as Discord files: the HTML report, the ledger as CSV and JSON (zipped if big).

The report is built from the database by :mod:`game.report`; the charts are drawn in a worker thread,
so the event loop keeps answering while it renders.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.courier.post import Post, file_marker
from bot.utils.embeds import BUREAU_COLOUR, FIELD_LIMIT
from bot.utils.formatting import truncate
from game.models import Season
from game.report import ReportData, ledger_csv, ledger_json, render_html
from game.report.build import build_report_data
from game.services.outbox import OutboxItem

if TYPE_CHECKING:
    from bot.client import CitizenBot

__all__ = ["UPLOAD_LIMIT", "build_debrief", "debrief_files", "debrief_post"]

# Discord refuses uploads over 10 MiB a message (more only on boosted servers); leave room.
UPLOAD_LIMIT = 8 * 1024 * 1024


def _render(data: ReportData) -> list[tuple[str, bytes]]:
    return [
        ("report.html", render_html(data).encode("utf-8")),
        ("ledger.csv", ledger_csv(data).encode("utf-8")),
        ("ledger.json", ledger_json(data).encode("utf-8")),
    ]


def _zipped(files: list[tuple[str, bytes]], name: str) -> list[tuple[str, bytes]]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename, data in files:
            archive.writestr(filename, data)
    return [(name, buffer.getvalue())]


async def build_debrief(
    bot: CitizenBot, *, season_id: int, guild_name: str | None
) -> tuple[discord.Embed, list[tuple[str, bytes]]]:
    """The season's debrief as files (``report.html``, ``ledger.csv``, ``ledger.json``) and an embed."""
    async with bot.reading() as session:
        season = await session.get(Season, season_id)
        data = await build_report_data(session, season_id, guild_name=guild_name)
    number = season.number if season else "?"
    files = await asyncio.to_thread(_render, data)
    prefix = f"season-{number}-"
    files = [(prefix + name, content) for name, content in files]
    if sum(len(content) for _, content in files) > UPLOAD_LIMIT:
        files = await asyncio.to_thread(_zipped, files, f"{prefix}debrief.zip")
    embed = discord.Embed(
        title=f"\N{BAR CHART} Season {number} debrief",
        description=(
            f"{len(data.citizens):,} citizens · {len(data.entries):,} ledger entries.\n"
            "Open the HTML file in a browser: scores over time, the final distribution, the friend "
            "network and its penalty cascades, the topics that cost most, what purchases did. "
            "The CSV and JSON hold every ledger entry."
        ),
        colour=BUREAU_COLOUR,
    )
    if data.discussion_prompts:
        embed.add_field(
            name="To talk about",
            value=truncate("\n".join(f"• {prompt}" for prompt in data.discussion_prompts[:4]), FIELD_LIMIT),
            inline=False,
        )
    return embed, files


def debrief_files(files: Sequence[tuple[str, bytes]]) -> list[discord.File]:
    return [discord.File(io.BytesIO(content), filename=name) for name, content in files]


async def debrief_post(bot: CitizenBot, item: OutboxItem) -> Post | None:
    """The debrief of the season an outbox row is about, for the moderators' channel."""
    if item.season_id is None:
        return None
    guild = bot.get_guild(item.guild_id)
    embed, files = await build_debrief(
        bot, season_id=item.season_id, guild_name=guild.name if guild else None
    )
    return Post(marker=file_marker(item.id, "/debrief"), embeds=[embed], files=lambda: debrief_files(files))
