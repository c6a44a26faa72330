"""How long the moderators' debrief takes for a season of a few hundred citizens.

The season is built in memory (no database): ``--citizens`` citizens (300 by default), ``--audits``
audits, about three friends each, speech and purchases scored as an audit would (clamped to the
scenario's range), friends' penalties flowing along friendships, a few permits and appeals.

Timed, best of ``--runs``, wall time and CPU time of this process (steadier on a shared machine):

* the whole page: ``render_html``, every chart, the network and the tables;
* the charts alone: the four matplotlib charts (analysis done beforehand);
* the network alone: the friend network's layout and SVG (analysis done beforehand);
* baseline: ``ledger_json``, the JSON export of the same season, measured in the same run.

Each is printed in seconds, and its CPU time as a ratio to the baseline's, so that two runs on a busy
machine compare.

    python -m bench.report_bench [--citizens 300] [--audits 24] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from game.report import (
    Friendship,
    ReportAppeal,
    ReportCitizen,
    ReportData,
    ReportEntry,
    ReportPermit,
    SourceKind,
    TierBand,
    _charts,
    ledger_json,
    render_html,
)
from game.report._analysis import analyse
from game.report._network import network_svg

START = datetime(2026, 11, 14, 19, 0, tzinfo=UTC)
FLOOR, CEILING, START_SCORE = 350, 950, 600
TIERS = (
    TierBand(name="Untrustworthy", min_score=350, max_score=549),
    TierBand(name="Ordinary", min_score=550, max_score=649),
    TierBand(name="Trustworthy", min_score=650, max_score=699),
    TierBand(name="Travel Permit", min_score=700, max_score=749),
    TierBand(name="Visa", min_score=750, max_score=849),
    TierBand(name="Model Citizen", min_score=850, max_score=950),
)
SPEECH = {"the 1989 Tiananmen protests": -50, "politics": -25, "positive energy": 5, "praise": 10}
SHOP = {"diapers": 10, "work boots": 5, "imported liquor": -10, "video game": -20, "VPN subscription": -40}


def season(citizens: int, audits: int, seed: int = 2015) -> ReportData:
    rng = random.Random(seed)
    numbers = range(1, citizens + 1)
    pairs = sorted({tuple(sorted(rng.sample(numbers, 2))) for _ in range(citizens * 3 // 2)})
    friends: dict[int, list[int]] = {n: [] for n in numbers}
    for a, b in pairs:
        friends[a].append(b)
        friends[b].append(a)
    scores = dict.fromkeys(numbers, START_SCORE)
    entries: list[ReportEntry] = []

    def add(n: int, audit: int, dimension: str, delta: int, source: SourceKind, **extra: object) -> int:
        before = scores[n]
        after = min(max(before + delta, FLOOR), CEILING)
        entries.append(
            ReportEntry(
                entry_id=len(entries) + 1,
                citizen_number=n,
                audit_number=audit,
                dimension=dimension,
                delta=after - before,
                score_before=before,
                score_after=after,
                reason=f"{source.value} at audit {audit}",
                source=source,
                created_at=START + timedelta(minutes=15 * audit, milliseconds=len(entries)),
                **extra,  # type: ignore[arg-type]
            )
        )
        scores[n] = after
        return after - before

    for audit in range(1, audits + 1):
        penalties: dict[int, int] = {}
        for n in rng.sample(numbers, citizens // 2):
            topic = rng.choice(list(SPEECH))
            delta = add(n, audit, "speech", SPEECH[topic], SourceKind.MESSAGE, rule_key=topic)
            if delta < 0:
                penalties[n] = penalties.get(n, 0) + delta
        for n in rng.sample(numbers, citizens // 5):
            item = rng.choice(list(SHOP))
            delta = add(n, audit, "consumption", SHOP[item], SourceKind.PURCHASE, rule_key=item)
            if delta < 0:
                penalties[n] = penalties.get(n, 0) + delta
        for n in numbers:
            budget = -50
            for friend in friends[n]:
                if friend in penalties and budget < 0:
                    share = max(int(0.2 * penalties[friend]), budget)
                    if share:
                        add(
                            n,
                            audit,
                            "social",
                            share,
                            SourceKind.FRIEND,
                            rule_key=None,
                            related_citizen_number=friend,
                        )
                        budget -= share
    appealed = next(e for e in entries if e.rule_key == "politics")
    return ReportData(
        guild_name="Bench Guild",
        season_title="Season 1",
        scenario_name="classic",
        started_at=START,
        ended_at=START + timedelta(minutes=15 * audits + 5),
        generated_at=START + timedelta(minutes=15 * audits + 6),
        start_score=START_SCORE,
        score_floor=FLOOR,
        score_ceiling=CEILING,
        tiers=TIERS,
        discussion_prompts=("Who changed how they spoke?",),
        citizens=tuple(
            ReportCitizen(number=n, display_name=f"Citizen {n:03d}", final_score=scores[n], tier="")
            for n in numbers
        ),
        entries=tuple(entries),
        friendships=tuple(Friendship(citizen_a=a, citizen_b=b) for a, b in pairs),
        permits=tuple(
            ReportPermit(citizen_number=n, topic="politics", status="pending") for n in numbers[:20]
        ),
        appeals=(
            ReportAppeal(citizen_number=appealed.citizen_number, entry_id=appealed.entry_id, status="denied"),
        ),
    )


def best(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """The best wall time and the best CPU time of this process over ``runs`` runs."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return min(wall), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--audits", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = season(args.citizens, args.audits)
    figures = analyse(data)
    render_html(data)  # warm up: imports, fonts, templates

    def charts() -> None:
        _charts.scores_over_time(data, figures)
        _charts.distribution(data, figures)
        _charts.topic_costs(figures)
        _charts.purchase_effects(figures)

    baseline = best(args.runs, lambda: ledger_json(data))
    timed = {
        "whole page": best(args.runs, lambda: render_html(data)),
        "charts": best(args.runs, charts),
        "network": best(args.runs, lambda: network_svg(data, figures)),
    }
    print(
        f"{len(data.citizens)} citizens, {len(data.entries):,} ledger entries, "
        f"{len(data.friendships)} friendships, best of {args.runs}"
    )
    print(f"{'':<24}{'wall':>9}  {'cpu':>8}  {'cpu / baseline':>14}")
    print(f"{'JSON export (baseline)':<24}{baseline[0]:8.3f}s {baseline[1]:8.3f}s  {1.0:13.1f}x")
    for name, (wall, cpu) in timed.items():
        print(f"{name:<24}{wall:8.3f}s {cpu:8.3f}s  {cpu / baseline[1]:13.1f}x")


if __name__ == "__main__":
    main()
