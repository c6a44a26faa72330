"""Figures for the debrief, all derived from the ledger entries.

The rule is "every number comes from the ledger": scores over time, final scores, totals per
dimension, topic costs, purchase effects and friend cascades are sums of ``ReportEntry.delta``.
The citizens' recorded final scores are only checked against the ledger, never shown instead of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from game.report._data import ReportAppeal, ReportData, ReportEntry, ReportPermit, SourceKind, TierBand
from game.rules.tiers import tier_for
from game.vocabulary import Dimension

# Dimensions are listed in the game's order; any other dimension a ledger holds comes after, alphabetically.
DIMENSION_ORDER: tuple[str, ...] = tuple(d.value for d in Dimension)

_MAX_ISSUES = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """Points gained, lost and their net over some group of entries."""

    key: str
    count: int
    gained: int
    lost: int
    citizens: int

    @property
    def net(self) -> int:
        return self.gained + self.lost


@dataclass(frozen=True, slots=True, kw_only=True)
class CitizenResult:
    number: int
    name: str
    final_score: int
    tier: str
    gained: int
    lost: int
    friend_cost: int
    entries: int

    @property
    def net(self) -> int:
        return self.gained + self.lost


@dataclass(frozen=True, slots=True, kw_only=True)
class Cascade:
    """Friend penalties that flowed from ``source`` (the friend who misbehaved) to ``target``."""

    source: int
    target: int
    points: int  # sum of the target's FRIEND deltas attributed to source (negative)
    audits: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    """Scores after each audit. ``times[0]`` is the season start, where everyone has the start score."""

    times: tuple[datetime, ...]
    audit_numbers: tuple[int | None, ...]
    scores: dict[int, tuple[int, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class AppealOutcome:
    appeal: ReportAppeal
    entry: ReportEntry | None
    reversal: ReportEntry | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SeasonFigures:
    entry_count: int
    audit_count: int
    gained: int
    lost: int
    citizens: tuple[CitizenResult, ...]  # standings: best score first
    timeline: Timeline
    dimensions: tuple[Flow, ...]
    sources: tuple[Flow, ...]
    topics: tuple[Flow, ...]  # MESSAGE entries by rule key, costliest first
    items: tuple[Flow, ...]  # PURCHASE entries by item, by size of effect
    cascades: tuple[Cascade, ...]  # heaviest first
    friend_points: int
    permits: tuple[ReportPermit, ...]
    appeals: tuple[AppealOutcome, ...]
    issues: tuple[str, ...]

    @property
    def net(self) -> int:
        return self.gained + self.lost


def citizen_label(number: int, names: dict[int, str]) -> str:
    name = names.get(number)
    return name if name is not None else f"Citizen No. {number}"


def tier_of(score: int, tiers: tuple[TierBand, ...]) -> TierBand | None:
    """The band holding ``score``, or ``None`` when the scenario's tiers do not cover it."""
    try:
        return tier_for(score, tiers)
    except ValueError:
        return None


def ledger_order(entries: Iterable[ReportEntry]) -> list[ReportEntry]:
    """Entries in the order they were written (entry ids increase as the ledger grows)."""
    return sorted(entries, key=lambda e: e.entry_id)


def _flows(groups: dict[str, list[ReportEntry]]) -> list[Flow]:
    return [
        Flow(
            key=key,
            count=len(group),
            gained=sum(e.delta for e in group if e.delta > 0),
            lost=sum(e.delta for e in group if e.delta < 0),
            citizens=len({e.citizen_number for e in group}),
        )
        for key, group in groups.items()
    ]


def _group(entries: Iterable[ReportEntry], key: str | None = None) -> dict[str, list[ReportEntry]]:
    groups: dict[str, list[ReportEntry]] = defaultdict(list)
    for entry in entries:
        if key == "dimension":
            groups[entry.dimension].append(entry)
        elif key == "source":
            groups[entry.source.value].append(entry)
        else:
            groups[entry.rule_key or "(no rule)"].append(entry)
    return groups


def _timeline(data: ReportData, ordered: list[ReportEntry], numbers: list[int]) -> Timeline:
    audits = sorted({e.audit_number for e in ordered})
    audit_time: dict[int, datetime] = {}
    for entry in ordered:
        current = audit_time.get(entry.audit_number)
        if current is None or entry.created_at > current:
            audit_time[entry.audit_number] = entry.created_at
    times: list[datetime] = [data.started_at]
    for audit in audits:
        # Late entries filed under an old audit number must not make time run backwards.
        times.append(max(audit_time[audit], times[-1]))
    running = dict.fromkeys(numbers, data.start_score)
    series: dict[int, list[int]] = {n: [data.start_score] for n in numbers}
    by_audit: dict[int, list[ReportEntry]] = defaultdict(list)
    for entry in ordered:
        by_audit[entry.audit_number].append(entry)
    for audit in audits:
        for entry in by_audit[audit]:
            running[entry.citizen_number] = running.get(entry.citizen_number, data.start_score) + entry.delta
        for n in numbers:
            series[n].append(running[n])
    audit_numbers: tuple[int | None, ...] = (None, *audits)
    return Timeline(
        times=tuple(times), audit_numbers=audit_numbers, scores={n: tuple(s) for n, s in series.items()}
    )


def _check(data: ReportData, ordered: list[ReportEntry], finals: dict[int, int]) -> list[str]:
    issues: list[str] = []
    running: dict[int, int] = {}
    seen_ids: set[int] = set()
    for entry in ordered:
        if entry.entry_id in seen_ids:
            issues.append(f"entry {entry.entry_id} appears twice")
        seen_ids.add(entry.entry_id)
        before = running.get(entry.citizen_number, data.start_score)
        if entry.score_after - entry.score_before != entry.delta:
            issues.append(
                f"entry {entry.entry_id}: {entry.score_before} {entry.delta:+d} is not {entry.score_after}"
            )
        if entry.score_before != before:
            issues.append(
                f"entry {entry.entry_id}: score before is {entry.score_before}, "
                f"the ledger so far says {before}"
            )
        if not data.score_floor <= entry.score_after <= data.score_ceiling:
            issues.append(f"entry {entry.entry_id}: score {entry.score_after} outside the allowed range")
        running[entry.citizen_number] = before + entry.delta
    for citizen in data.citizens:
        derived = finals[citizen.number]
        if citizen.final_score != derived:
            issues.append(
                f"citizen No. {citizen.number}: recorded score {citizen.final_score}, ledger says {derived}"
            )
    if len(issues) > _MAX_ISSUES:
        extra = len(issues) - _MAX_ISSUES
        issues = [*issues[:_MAX_ISSUES], f"... and {extra} more"]
    return issues


def _dimension_rank(flow: Flow) -> tuple[int, str]:
    try:
        return (DIMENSION_ORDER.index(flow.key), flow.key)
    except ValueError:
        return (len(DIMENSION_ORDER), flow.key)


def analyse(data: ReportData) -> SeasonFigures:
    """Derive every figure of the debrief from ``data``."""
    ordered = ledger_order(data.entries)
    names = {c.number: c.display_name for c in data.citizens}
    numbers = sorted({*names, *(e.citizen_number for e in ordered)})

    finals = dict.fromkeys(numbers, data.start_score)
    gained = dict.fromkeys(numbers, 0)
    lost = dict.fromkeys(numbers, 0)
    friend_cost = dict.fromkeys(numbers, 0)
    counts = dict.fromkeys(numbers, 0)
    for entry in ordered:
        n = entry.citizen_number
        finals[n] += entry.delta
        counts[n] += 1
        if entry.delta > 0:
            gained[n] += entry.delta
        else:
            lost[n] += entry.delta
        if entry.source is SourceKind.FRIEND:
            friend_cost[n] += entry.delta

    recorded_tier = {c.number: c.tier for c in data.citizens}
    results = []
    for n in numbers:
        band = tier_of(finals[n], data.tiers)
        tier = band.name if band is not None else recorded_tier.get(n, "")
        results.append(
            CitizenResult(
                number=n,
                name=citizen_label(n, names),
                final_score=finals[n],
                tier=tier,
                gained=gained[n],
                lost=lost[n],
                friend_cost=friend_cost[n],
                entries=counts[n],
            )
        )
    results.sort(key=lambda r: (-r.final_score, r.name.casefold(), r.number))

    messages = [e for e in ordered if e.source is SourceKind.MESSAGE]
    topics = sorted(_flows(_group(messages)), key=lambda f: (f.lost, -f.gained, f.key))
    purchases = [e for e in ordered if e.source is SourceKind.PURCHASE]
    items = sorted(_flows(_group(purchases)), key=lambda f: (-abs(f.net), -f.count, f.key))

    cascade_points: dict[tuple[int, int], int] = defaultdict(int)
    cascade_audits: dict[tuple[int, int], set[int]] = defaultdict(set)
    friend_points = 0
    for entry in ordered:
        if entry.source is SourceKind.FRIEND:
            friend_points += entry.delta
            if entry.related_citizen_number is not None:
                pair = (entry.related_citizen_number, entry.citizen_number)
                cascade_points[pair] += entry.delta
                cascade_audits[pair].add(entry.audit_number)
    cascades = sorted(
        (
            Cascade(source=s, target=t, points=p, audits=len(cascade_audits[(s, t)]))
            for (s, t), p in cascade_points.items()
            if p != 0
        ),
        key=lambda c: (c.points, c.source, c.target),
    )

    by_id = {e.entry_id: e for e in ordered}
    reversal_of = {e.reverses_entry_id: e for e in ordered if e.reverses_entry_id is not None}
    appeals = tuple(
        AppealOutcome(appeal=a, entry=by_id.get(a.entry_id), reversal=reversal_of.get(a.entry_id))
        for a in data.appeals
    )

    return SeasonFigures(
        entry_count=len(ordered),
        audit_count=len({e.audit_number for e in ordered}),
        gained=sum(e.delta for e in ordered if e.delta > 0),
        lost=sum(e.delta for e in ordered if e.delta < 0),
        citizens=tuple(results),
        timeline=_timeline(data, ordered, numbers),
        dimensions=tuple(sorted(_flows(_group(ordered, "dimension")), key=_dimension_rank)),
        sources=tuple(
            sorted(
                _flows(_group(ordered, "source")),
                key=lambda f: [k.value for k in SourceKind].index(f.key),
            )
        ),
        topics=tuple(topics),
        items=tuple(items),
        cascades=tuple(cascades),
        friend_points=friend_points,
        permits=tuple(sorted(data.permits, key=lambda p: (p.topic.casefold(), p.citizen_number, p.status))),
        appeals=appeals,
        issues=tuple(_check(data, ordered, finals)),
    )
