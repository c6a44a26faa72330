"""The season debrief: an HTML report with charts, and the ledger as CSV and JSON.

Build a ``ReportData`` from plain values (the storage layer does this from the database), then
``render_html``, ``ledger_csv``, ``ledger_json``, or ``write_report`` for all three files at once.
Rendering is pure and deterministic: the same ``ReportData`` gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from game.report._colours import parse_hex, score_colour, score_rgb, tier_colour
from game.report._data import (
    Friendship,
    ReportAppeal,
    ReportCitizen,
    ReportData,
    ReportEntry,
    ReportPermit,
    SourceKind,
    TierBand,
)
from game.report._export import CSV_COLUMNS, ledger_csv, ledger_json, read_ledger_csv, read_ledger_json
from game.report._html import render_html

__all__ = [
    "CSV_COLUMNS",
    "Friendship",
    "ReportAppeal",
    "ReportCitizen",
    "ReportData",
    "ReportEntry",
    "ReportFiles",
    "ReportPermit",
    "SourceKind",
    "TierBand",
    "ledger_csv",
    "ledger_json",
    "parse_hex",
    "read_ledger_csv",
    "read_ledger_json",
    "render_html",
    "score_colour",
    "score_rgb",
    "tier_colour",
    "write_report",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFiles:
    """Where ``write_report`` put the three files."""

    html: Path
    csv: Path
    json: Path


def write_report(data: ReportData, out_dir: Path | str) -> ReportFiles:
    """Write ``report.html``, ``ledger.csv`` and ``ledger.json`` into ``out_dir`` (created if missing).

    Blocking file I/O and chart rendering: from the bot, run it in a worker thread.
    """
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(
        html=directory / "report.html", csv=directory / "ledger.csv", json=directory / "ledger.json"
    )
    # newline="" keeps the CSV's own CRLF row endings on every platform.
    files.html.write_text(render_html(data), encoding="utf-8", newline="")
    files.csv.write_text(ledger_csv(data), encoding="utf-8", newline="")
    files.json.write_text(ledger_json(data), encoding="utf-8", newline="")
    return files
