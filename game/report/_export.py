"""The ledger as CSV and JSON, and the readers that bring the entries back.

Both exports list entries in the order they were applied. Timestamps are ISO 8601 with their UTC
offset. In CSV an absent value is an empty cell, and text cells that a spreadsheet would run as a
formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) are written with a leading apostrophe,
which the reader removes again, so the round trip is exact.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from game.report._analysis import analyse, ledger_order
from game.report._data import ReportData, ReportEntry, SourceKind

LEDGER_FORMAT = "citizen-score-ledger/1"

CSV_COLUMNS: tuple[str, ...] = (
    "entry_id",
    "audit_number",
    "created_at",
    "citizen_number",
    "citizen_name",
    "dimension",
    "delta",
    "score_before",
    "score_after",
    "source",
    "rule_key",
    "related_citizen_number",
    "reverses_entry_id",
    "reason",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def _protect(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _unprotect(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def _optional_int(text: str) -> int | None:
    return int(text) if text else None


def _entry_fields(entry: ReportEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "audit_number": entry.audit_number,
        "created_at": entry.created_at.isoformat(),
        "citizen_number": entry.citizen_number,
        "dimension": entry.dimension,
        "delta": entry.delta,
        "score_before": entry.score_before,
        "score_after": entry.score_after,
        "source": entry.source.value,
        "rule_key": entry.rule_key,
        "related_citizen_number": entry.related_citizen_number,
        "reverses_entry_id": entry.reverses_entry_id,
        "reason": entry.reason,
    }


def ledger_csv(data: ReportData) -> str:
    """Every ledger entry of the season as CSV with a header row (``CSV_COLUMNS``)."""
    names = {c.number: c.display_name for c in data.citizens}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in ledger_order(data.entries):
        fields = _entry_fields(entry)
        fields["citizen_name"] = names.get(entry.citizen_number, "")
        row = []
        for column in CSV_COLUMNS:
            value = fields[column]
            if value is None:
                row.append("")
            elif isinstance(value, str):
                row.append(_protect(value))
            else:
                row.append(str(value))
        writer.writerow(row)
    return buffer.getvalue()


def read_ledger_csv(text: str) -> tuple[ReportEntry, ...]:
    """The entries of a ``ledger_csv`` export, in file order."""
    entries = []
    for row in csv.DictReader(io.StringIO(text, newline="")):
        cell = {key: _unprotect(value) for key, value in row.items()}
        entries.append(
            ReportEntry(
                entry_id=int(cell["entry_id"]),
                citizen_number=int(cell["citizen_number"]),
                audit_number=int(cell["audit_number"]),
                dimension=cell["dimension"],
                delta=int(cell["delta"]),
                score_before=int(cell["score_before"]),
                score_after=int(cell["score_after"]),
                reason=cell["reason"],
                source=SourceKind(cell["source"]),
                rule_key=cell["rule_key"] or None,
                created_at=datetime.fromisoformat(cell["created_at"]),
                related_citizen_number=_optional_int(cell["related_citizen_number"]),
                reverses_entry_id=_optional_int(cell["reverses_entry_id"]),
            )
        )
    return tuple(entries)


def ledger_json(data: ReportData) -> str:
    """The season, its citizens (final scores from the ledger) and every entry, as JSON."""
    figures = analyse(data)
    document = {
        "format": LEDGER_FORMAT,
        "season": {
            "guild_name": data.guild_name,
            "season_title": data.season_title,
            "scenario_name": data.scenario_name,
            "started_at": data.started_at.isoformat(),
            "ended_at": data.ended_at.isoformat() if data.ended_at is not None else None,
            "generated_at": data.generated_at.isoformat(),
            "start_score": data.start_score,
            "score_floor": data.score_floor,
            "score_ceiling": data.score_ceiling,
        },
        "citizens": [
            {"number": r.number, "display_name": r.name, "final_score": r.final_score, "tier": r.tier}
            for r in sorted(figures.citizens, key=lambda r: r.number)
        ],
        "entries": [_entry_fields(e) for e in ledger_order(data.entries)],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def read_ledger_json(text: str) -> tuple[ReportEntry, ...]:
    """The entries of a ``ledger_json`` export, in file order."""
    document = json.loads(text)
    if document.get("format") != LEDGER_FORMAT:
        raise ValueError(f"not a {LEDGER_FORMAT} document: format is {document.get('format')!r}")
    return tuple(
        ReportEntry(
            entry_id=item["entry_id"],
            citizen_number=item["citizen_number"],
            audit_number=item["audit_number"],
            dimension=item["dimension"],
            delta=item["delta"],
            score_before=item["score_before"],
            score_after=item["score_after"],
            reason=item["reason"],
            source=SourceKind(item["source"]),
            rule_key=item["rule_key"],
            created_at=datetime.fromisoformat(item["created_at"]),
            related_citizen_number=item["related_citizen_number"],
            reverses_entry_id=item["reverses_entry_id"],
        )
        for item in document["entries"]
    )
