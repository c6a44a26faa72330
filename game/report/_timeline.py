"""The debrief's timeline of decrees: which decree came when, and what it did around it.

Pure, like the rest of the renderer: from ``ReportData.decrees`` and the ledger, for each decree, the
same measures over the audits just before it took effect and the first audits it governed: points
lost and gained to speech, how many messages were penalised, purchases scored, and the citizens'
average score change per audit. Per-audit averages, so a short window compares with a long one.

For a template: :func:`decree_impacts` gives one :class:`DecreeImpact` per decree, in the order they
took effect; :meth:`DecreeImpact.rows` gives the before/during rows ready to print.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from game.report._data import ReportData, ReportEntry, SourceKind

__all__ = ["DecreeImpact", "ReportDecree", "WindowStats", "decree_impacts"]

WINDOW = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportDecree:
    """A decree that took effect in the season. ``from_audit`` is the first audit it governed,
    ``until_audit`` the last (``None``: to the end); ``source`` is ``timeline`` or ``moderator``."""

    key: str
    name: str
    source: str
    took_effect_at: datetime
    from_audit: int
    until_audit: int | None = None
    revoked_at: datetime | None = None
    reversed_entries: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowStats:
    """A run of audits ``first..last`` (``audits`` of them with any entry), per audit on average."""

    first: int
    last: int
    audits: int
    speech_lost: float
    speech_gained: float
    messages_penalised: float
    purchases: float
    score_change: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DecreeImpact:
    decree: ReportDecree
    before: WindowStats | None
    during: WindowStats | None
    # Points an amnesty gave back (its reversing entries).
    amnesty_points: int

    def rows(self) -> list[tuple[str, str, str]]:
        """``(measure, before, during)`` as text, for a table."""

        def show(stats: WindowStats | None, value: str) -> str:
            return "–" if stats is None else f"{getattr(stats, value):,.1f}"

        measures = (
            ("Speech points lost per audit", "speech_lost"),
            ("Speech points gained per audit", "speech_gained"),
            ("Messages penalised per audit", "messages_penalised"),
            ("Purchases scored per audit", "purchases"),
            ("Average score change per citizen and audit", "score_change"),
        )
        return [(label, show(self.before, key), show(self.during, key)) for label, key in measures]


def _stats(entries: Sequence[ReportEntry], first: int, last: int, citizens: int) -> WindowStats | None:
    if last < first:
        return None
    inside = [e for e in entries if first <= e.audit_number <= last]
    audits = len({e.audit_number for e in inside}) or 0
    span = last - first + 1
    speech = [e for e in inside if e.source is SourceKind.MESSAGE]
    messages = {(e.citizen_number, e.created_at) for e in speech if e.delta < 0}
    return WindowStats(
        first=first,
        last=last,
        audits=audits,
        speech_lost=round(-sum(e.delta for e in speech if e.delta < 0) / span, 2),
        speech_gained=round(sum(e.delta for e in speech if e.delta > 0) / span, 2),
        messages_penalised=round(len(messages) / span, 2),
        purchases=round(sum(1 for e in inside if e.source is SourceKind.PURCHASE) / span, 2),
        score_change=round(sum(e.delta for e in inside) / span / max(citizens, 1), 2),
    )


def decree_impacts(
    data: ReportData, decrees: Iterable[ReportDecree] | None = None, *, window: int = WINDOW
) -> tuple[DecreeImpact, ...]:
    """For each decree (``data.decrees`` by default): the ``window`` audits before it took effect and
    the first ``window`` audits it governed (fewer if it ended sooner or the season did)."""
    entries = data.entries
    last_audit = max((e.audit_number for e in entries), default=0)
    impacts: list[DecreeImpact] = []
    for decree in decrees if decrees is not None else data.decrees:
        end = decree.until_audit if decree.until_audit is not None else last_audit
        during_last = min(end, decree.from_audit + window - 1, last_audit)
        before_first = max(1, decree.from_audit - window)
        amnesty = sum(
            e.delta
            for e in entries
            if e.source is SourceKind.DECREE
            and e.reverses_entry_id is not None
            and e.created_at == decree.took_effect_at
        )
        impacts.append(
            DecreeImpact(
                decree=decree,
                before=_stats(entries, before_first, decree.from_audit - 1, len(data.citizens)),
                during=_stats(entries, decree.from_audit, during_last, len(data.citizens)),
                amnesty_points=amnesty,
            )
        )
    return tuple(impacts)
