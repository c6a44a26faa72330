"""The debrief as one self-contained HTML page: inline CSS, inline SVG charts, no external resources.

The page is drawn by the Jinja2 templates in ``templates/`` with autoescaping on, so every name and
reason a player typed arrives as text. This module only gathers what the templates show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import cached_property

from markupsafe import Markup

from game.report import _charts
from game.report._analysis import CitizenResult, Flow, SeasonFigures, analyse, citizen_label, ledger_order
from game.report._colours import score_colour, tier_colour
from game.report._data import ReportData, ReportEntry, SourceKind, TierBand
from game.report._network import NetworkPicture, network_svg
from game.report._templates import environment, plural
from game.report._timeline import decree_impacts
from game.text import signed

# The page shows at most this many ledger rows; the CSV and JSON exports always hold all of them.
LEDGER_ROWS_SHOWN = 1500
CASCADE_ROWS = 12
STANDINGS_OPEN = 25  # longer standings fold away behind a summary line
NAMED_AT_MOST = 3  # a tie of more names than this says "and N others"

SECTIONS: tuple[tuple[str, str], ...] = (
    ("totals", "The season in numbers"),
    ("scores", "Scores over time"),
    ("distribution", "Final standings"),
    ("network", "Friends and their penalties"),
    ("topics", "What speaking cost"),
    ("purchases", "What purchases did"),
    ("permits", "Permits"),
    ("appeals", "Appeals"),
    ("prompts", "For discussion"),
    ("ledger", "The ledger"),
)

SOURCE_WORDS: dict[str, str] = {
    SourceKind.MESSAGE.value: "messages",
    SourceKind.PURCHASE.value: "purchases",
    SourceKind.FINANCE.value: "living costs",
    SourceKind.FRIEND.value: "friends",
    SourceKind.MODERATOR.value: "the Bureau",
    SourceKind.APPEAL.value: "appeals",
    SourceKind.DECREE.value: "decrees",
}


def when(moment: datetime | None, tz: tzinfo | None) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(tz) if tz is not None else moment
    name = local.tzname() or ""
    return f"{local:%a %d %b %Y, %H:%M} {name}".strip()


def duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return plural(days, "day") + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"


@dataclass(frozen=True, slots=True)
class Card:
    """One headline number: ``value`` for machines (``data-value``), ``text`` for people."""

    key: str
    label: str
    text: str
    value: int
    tone: str = ""


@dataclass(frozen=True, slots=True)
class Followed:
    """A citizen the reader can pick on the score chart."""

    number: int
    name: str
    final_score: int
    colour: str


class Page:
    """What the templates read: the data, its figures, and the few choices of presentation."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.figures: SeasonFigures = analyse(data)
        self.names = {c.number: c.display_name for c in data.citizens}
        self.tz = data.started_at.tzinfo
        # The decrees' section, between the scores and the standings, only when a decree took effect.
        self.impacts = decree_impacts(data)
        self.sections = (*SECTIONS[:2], ("decrees", "Decrees"), *SECTIONS[2:]) if self.impacts else SECTIONS
        self.source_words = SOURCE_WORDS
        self.cascade_rows = CASCADE_ROWS
        self.standings_open = STANDINGS_OPEN
        self.named_at_most = NAMED_AT_MOST

    def label(self, number: int) -> str:
        return citizen_label(number, self.names)

    def when(self, moment: datetime | None) -> str:
        return when(moment, self.tz)

    def score_colour(self, score: float) -> str:
        return score_colour(score, self.data.score_floor, self.data.score_ceiling)

    def tier_colour(self, name: str) -> str:
        band = next((t for t in self.data.tiers if t.name == name), None)
        return tier_colour(band, self.data.score_floor, self.data.score_ceiling) if band else "#6b7080"

    @cached_property
    def state(self) -> str:
        d = self.data
        span = (d.ended_at or d.generated_at) - d.started_at
        if d.ended_at is not None:
            return f"{self.when(d.started_at)} — {self.when(d.ended_at)} ({duration(span)})"
        return f"began {self.when(d.started_at)}; still running ({duration(span)} so far)"

    @cached_property
    def cards(self) -> list[Card]:
        f, d = self.figures, self.data
        granted = sum(1 for a in d.appeals if a.status.casefold() == "granted")
        purchases = sum(flow.count for flow in f.items)

        def tone(value: int) -> str:
            return "pos" if value > 0 else "neg" if value < 0 else ""

        return [
            Card("citizens", "Citizens", f"{len(f.citizens):,}", len(f.citizens)),
            Card("audits", "Audits", f"{f.audit_count:,}", f.audit_count),
            Card("entries", "Ledger entries", f"{f.entry_count:,}", f.entry_count),
            Card("gained", "Points gained", signed(f.gained), f.gained, tone(f.gained)),
            Card("lost", "Points lost", signed(f.lost), f.lost, tone(f.lost)),
            Card("net", "Net change", signed(f.net), f.net, tone(f.net)),
            Card(
                "friend", "Lost to friends", signed(f.friend_points), f.friend_points, tone(f.friend_points)
            ),
            Card("purchases", "Purchases", f"{purchases:,}", purchases),
            Card("permits", "Permit requests", str(len(d.permits)), len(d.permits)),
            Card("appeals", "Appeals granted", f"{granted} / {len(d.appeals)}", granted),
        ]

    @cached_property
    def highest(self) -> list[CitizenResult]:
        """Everyone who shares the highest final score (standings order)."""
        top = self.figures.citizens[0].final_score if self.figures.citizens else None
        return [r for r in self.figures.citizens if r.final_score == top]

    @cached_property
    def lowest(self) -> list[CitizenResult]:
        bottom = self.figures.citizens[-1].final_score if self.figures.citizens else None
        return [r for r in self.figures.citizens if r.final_score == bottom]

    @cached_property
    def biggest_losers(self) -> list[CitizenResult]:
        """Everyone who shares the largest overall loss, or nobody when no one ended below the start."""
        worst = min((r.net for r in self.figures.citizens), default=0)
        if worst >= 0:
            return []
        return sorted((r for r in self.figures.citizens if r.net == worst), key=lambda r: r.number)

    @cached_property
    def costliest_topic(self) -> Flow | None:
        return next((t for t in self.figures.topics if t.lost < 0), None)

    @cached_property
    def most_bought(self) -> Flow | None:
        return max(self.figures.items, key=lambda i: (i.count, -abs(i.net), i.key), default=None)

    @cached_property
    def widest_flow(self) -> int:
        flows = [*self.figures.dimensions, *self.figures.sources]
        return max((max(fl.gained, -fl.lost) for fl in flows), default=1) or 1

    def tier_count(self, tier: TierBand) -> int:
        return sum(1 for r in self.figures.citizens if tier.min_score <= r.final_score <= tier.max_score)

    @cached_property
    def scores_svg(self) -> Markup | None:
        svg = _charts.scores_over_time(self.data, self.figures)
        return Markup(svg) if svg is not None else None  # noqa: S704 (matplotlib's own SVG)

    @cached_property
    def many_lines(self) -> bool:
        return len(self.figures.citizens) > _charts.MAX_LINES

    @cached_property
    def followed(self) -> list[Followed]:
        """The citizens the reader can pick on the score chart, by name."""
        if self.scores_svg is None or not _charts.followable(self.figures):
            return []
        people = sorted(self.figures.citizens, key=lambda r: (r.name.casefold(), r.number))
        return [Followed(r.number, r.name, r.final_score, self.score_colour(r.final_score)) for r in people]

    @cached_property
    def distribution_svg(self) -> Markup | None:
        svg = _charts.distribution(self.data, self.figures)
        return Markup(svg) if svg is not None else None  # noqa: S704

    @cached_property
    def topics_svg(self) -> Markup | None:
        svg = _charts.topic_costs(self.figures)
        return Markup(svg) if svg is not None else None  # noqa: S704

    @cached_property
    def purchases_svg(self) -> Markup | None:
        svg = _charts.purchase_effects(self.figures)
        return Markup(svg) if svg is not None else None  # noqa: S704

    @cached_property
    def network(self) -> NetworkPicture | None:
        return network_svg(self.data, self.figures)

    @cached_property
    def permit_counts(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for p in self.figures.permits:
            counts[p.status] = counts.get(p.status, 0) + 1
        return sorted(counts.items())

    @cached_property
    def ledger(self) -> list[ReportEntry]:
        return ledger_order(self.data.entries)

    @cached_property
    def ledger_shown(self) -> list[ReportEntry]:
        return self.ledger[:LEDGER_ROWS_SHOWN]

    def entry_time(self, entry: ReportEntry) -> str:
        return f"{entry.created_at.astimezone(self.tz):%d %b %H:%M}"

    @cached_property
    def title(self) -> str:
        return f"{self.data.season_title} · {self.data.guild_name} · Citizen Score debrief"


def render_html(data: ReportData) -> str:
    """The debrief report as one self-contained HTML document."""
    return environment().get_template("report.html").render(page=Page(data))
