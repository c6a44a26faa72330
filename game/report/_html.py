"""The debrief as one self-contained HTML page: inline CSS, inline SVG charts, no external resources."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, tzinfo
from html import escape

from game.report import _charts
from game.report._analysis import Flow, SeasonFigures, analyse, citizen_label, ledger_order
from game.report._colours import score_colour, tier_colour, tier_for
from game.report._data import ReportData, ReportEntry, SourceKind
from game.report._network import network_svg

# The page shows at most this many ledger rows; the CSV and JSON exports always hold all of them.
LEDGER_ROWS_SHOWN = 1500
_CASCADE_ROWS = 12
_STANDINGS_OPEN = 25  # longer standings fold away behind a summary line

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

_SOURCE_WORDS: dict[str, str] = {
    SourceKind.MESSAGE.value: "messages",
    SourceKind.PURCHASE.value: "purchases",
    SourceKind.FINANCE.value: "living costs",
    SourceKind.FRIEND.value: "friends",
    SourceKind.MODERATOR.value: "the Bureau",
    SourceKind.APPEAL.value: "appeals",
    SourceKind.DECREE.value: "decrees",
}


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _signed(value: int) -> str:
    if value > 0:
        return f"+{value:,}"
    if value < 0:
        return f"−{-value:,}"
    return "0"


def _delta(value: int, *, attr: str = "") -> str:
    cls = "pos" if value > 0 else "neg" if value < 0 else "zero"
    return f'<span class="num {cls}" data-value="{value}"{attr}>{_signed(value)}</span>'


def _loss(value: int) -> str:
    """A negative delta said in words: "35 points", in the colour of a loss."""
    points = "point" if value == -1 else "points"
    return f'<span class="num neg" data-value="{value}">{-value:,} {points}</span>'


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _when(moment: datetime | None, tz: tzinfo | None) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(tz) if tz is not None else moment
    name = local.tzname() or ""
    return f"{local:%a %d %b %Y, %H:%M} {name}".strip()


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{_plural(days, 'day')}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"


def _table(
    head: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = (), cls: str = ""
) -> str:
    num = ' class="n"'
    heads = "".join(f'<th scope="col"{num if i in numeric else ""}>{h}</th>' for i, h in enumerate(head))
    body = []
    for row in rows:
        cells = "".join(f"<td{num if i in numeric else ''}>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="table-wrap"><table class="{cls}"><thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _empty(text: str) -> str:
    return f'<p class="empty">{_e(text)}</p>'


def _figure(svg: str | None, caption: str, empty_text: str) -> str:
    if svg is None:
        return _empty(empty_text)
    return f'<figure class="chart">{svg}<figcaption>{caption}</figcaption></figure>'


class _Page:
    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.figures: SeasonFigures = analyse(data)
        self.names = {c.number: c.display_name for c in data.citizens}
        self.tz = data.started_at.tzinfo

    def who(self, number: int | None) -> str:
        if number is None:
            return "—"
        return f'<span class="who">{_e(citizen_label(number, self.names))}</span>'

    def score_pill(self, score: int) -> str:
        colour = score_colour(score, self.data.score_floor, self.data.score_ceiling)
        return f'<span class="score" style="--c:{colour}">{score}</span>'

    def tier_pill(self, name: str) -> str:
        band = next((t for t in self.data.tiers if t.name == name), None)
        colour = tier_colour(band, self.data.score_floor, self.data.score_ceiling) if band else "#6b7080"
        return f'<span class="tier" style="--c:{colour}">{_e(name or "—")}</span>'

    # --- sections -------------------------------------------------------------------------------

    def masthead(self) -> str:
        d = self.data
        end = d.ended_at
        span = (end or d.generated_at) - d.started_at
        state = (
            f"{_e(_when(d.started_at, self.tz))} — {_e(_when(end, self.tz))} ({_duration(span)})"
            if end is not None
            else f"began {_e(_when(d.started_at, self.tz))}; still running ({_duration(span)} so far)"
        )
        f = self.figures
        return f"""
<header class="masthead">
  <div class="masthead-inner">
    {_SEAL}
    <div>
      <p class="kicker">Bureau of Social Credit · Season debrief</p>
      <h1>{_e(d.season_title)}</h1>
      <p class="meta"><span>{_e(d.guild_name)}</span><span>scenario <b>{_e(d.scenario_name)}</b></span>
      <span>{_plural(f.audit_count, "audit")}</span></p>
      <p class="meta"><span>{state}</span></p>
    </div>
  </div>
</header>"""

    def toc(self) -> str:
        links = "".join(f'<a href="#{key}">{_e(title)}</a>' for key, title in SECTIONS)
        return f'<nav class="toc" aria-label="Sections">{links}</nav>'

    def totals(self) -> str:
        f = self.figures
        d = self.data
        granted = sum(1 for a in d.appeals if a.status.casefold() == "granted")
        purchases = sum(flow.count for flow in f.items)
        cards = [
            ("citizens", "Citizens", f"{len(f.citizens):,}", len(f.citizens), ""),
            ("audits", "Audits", f"{f.audit_count:,}", f.audit_count, ""),
            ("entries", "Ledger entries", f"{f.entry_count:,}", f.entry_count, ""),
            ("gained", "Points gained", _signed(f.gained), f.gained, "pos" if f.gained else ""),
            ("lost", "Points lost", _signed(f.lost), f.lost, "neg" if f.lost else ""),
            ("net", "Net change", _signed(f.net), f.net, "pos" if f.net > 0 else "neg" if f.net < 0 else ""),
            (
                "friend",
                "Lost to friends",
                _signed(f.friend_points),
                f.friend_points,
                "neg" if f.friend_points else "",
            ),
            ("purchases", "Purchases", f"{purchases:,}", purchases, ""),
            ("permits", "Permit requests", str(len(d.permits)), len(d.permits), ""),
            ("appeals", "Appeals granted", f"{granted} / {len(d.appeals)}", granted, ""),
        ]
        card_html = "".join(
            f'<div class="stat"><span class="label">{label}</span>'
            f'<strong class="{cls}" data-total="{key}" data-value="{value}">{text}</strong></div>'
            for key, label, text, value, cls in cards
        )
        parts = [f'<div class="stats">{card_html}</div>']
        parts.append(self.highlights())
        if f.entry_count:
            parts.append('<div class="two">')
            parts.append(self.flow_table("By dimension", f.dimensions, "dimension", {}))
            parts.append(self.flow_table("By cause", f.sources, "source", _SOURCE_WORDS))
            parts.append("</div>")
        parts.append(self.check())
        return "".join(parts)

    def highlights(self) -> str:
        f = self.figures
        items: list[str] = []
        if f.citizens and f.entry_count:
            best, worst = f.citizens[0], f.citizens[-1]
            items.append(
                f"Highest score: {self.who(best.number)} with {self.score_pill(best.final_score)}; "
                f"lowest: {self.who(worst.number)} with {self.score_pill(worst.final_score)}."
            )
            biggest_loser = min(f.citizens, key=lambda r: (r.net, r.number))
            if biggest_loser.net < 0:
                items.append(
                    f"{self.who(biggest_loser.number)} lost the most overall: {_delta(biggest_loser.net)} "
                    f"over {_plural(biggest_loser.entries, 'entry', 'entries')}."
                )
        costly = [t for t in f.topics if t.lost < 0]
        if costly:
            t = costly[0]
            items.append(
                f"The costliest topic was <b>{_e(t.key)}</b>: {_loss(t.lost)} over "
                f"{_plural(t.count, 'message')} by {_plural(t.citizens, 'citizen')}."
            )
        if f.cascades:
            c = f.cascades[0]
            items.append(
                f"The heaviest cascade: {self.who(c.target)} lost {_loss(c.points)} because of their friend "
                f"{self.who(c.source)}."
            )
        if f.items:
            top = max(f.items, key=lambda i: (i.count, -abs(i.net), i.key))
            items.append(
                f"Most bought: <b>{_e(top.key)}</b> "
                f"({_plural(top.count, 'purchase')}, {_delta(top.net)} in all)."
            )
        if not items:
            return ""
        return '<ul class="highlights">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"

    def flow_table(self, title: str, flows: Sequence[Flow], kind: str, words: dict[str, str]) -> str:
        widest = max((max(fl.gained, -fl.lost) for fl in flows), default=1) or 1
        rows = []
        for fl in flows:
            label = _e(words.get(fl.key, fl.key))
            bar = (
                f'<span class="bar"><span class="bar-neg" style="width:{50 * -fl.lost / widest:.1f}%"></span>'
                f'<span class="bar-pos" style="width:{50 * fl.gained / widest:.1f}%"></span></span>'
            )
            rows.append(
                [
                    label,
                    str(fl.count),
                    _delta(fl.gained),
                    _delta(fl.lost),
                    _delta(fl.net, attr=f' data-{kind}="{_e(fl.key)}"'),
                    bar,
                ]
            )
        head = ["Cause" if kind == "source" else kind.title(), "Entries", "Gained", "Lost", "Net", ""]
        return f"<div><h3>{title}</h3>{_table(head, rows, numeric=(1, 2, 3, 4), cls='flows')}</div>"

    def check(self) -> str:
        f = self.figures
        if not f.issues and not f.entry_count:
            return '<p class="check ok">The ledger is empty: no score ever moved from the start.</p>'
        if not f.issues:
            return (
                f'<p class="check ok">✓ The ledger adds up: {_plural(f.entry_count, "entry", "entries")}, '
                "each "
                f"score before plus its change equals the score after, and every citizen's final score is "
                f"{self.data.start_score} plus the sum of their entries.</p>"
            )
        issues = "".join(f"<li>{_e(i)}</li>" for i in f.issues)
        return (
            '<div class="check bad"><p><b>The ledger does not add up.</b> The figures below follow the '
            f"ledger entries; these disagreements were found:</p><ul>{issues}</ul></div>"
        )

    def scores(self) -> str:
        svg = _charts.scores_over_time(self.data, self.figures)
        many = len(self.figures.citizens) > _charts.MAX_LINES
        caption = (
            "Median score with the middle half and middle 80 % of citizens shaded, after each audit."
            if many
            else "One line per citizen, coloured by final score; the dashed line is the start score."
        )
        return _figure(svg, caption, "No audits changed anyone's score this season.")

    def distribution(self) -> str:
        f = self.figures
        svg = _charts.distribution(self.data, f)
        parts = [_figure(svg, "Final scores, with the scenario's tiers behind them.", "Nobody took part.")]
        if f.citizens:
            tier_counts = []
            for tier in self.data.tiers:
                count = sum(1 for r in f.citizens if tier_for(r.final_score, (tier,)) is not None)
                tier_counts.append(
                    f"<li>{self.tier_pill(tier.name)} "
                    f'<span class="dim">{tier.min_score}–{tier.max_score}</span> '
                    f'<b data-tier="{_e(tier.name)}">{count}</b></li>'
                )
            if tier_counts:
                parts.append(f'<ul class="tiers">{"".join(tier_counts)}</ul>')
            rows = [
                [
                    str(rank),
                    self.who(r.number),
                    f'<span class="dim">No. {r.number}</span>',
                    self.score_pill(r.final_score),
                    self.tier_pill(r.tier),
                    _delta(r.gained),
                    _delta(r.lost),
                    _delta(r.friend_cost),
                    _delta(r.net, attr=f' data-citizen="{r.number}"'),
                ]
                for rank, r in enumerate(f.citizens, start=1)
            ]
            table = _table(
                ["#", "Citizen", "Number", "Score", "Tier", "Gained", "Lost", "From friends", "Net"],
                rows,
                numeric=(0, 3, 5, 6, 7, 8),
                cls="standings",
            )
            if len(rows) > _STANDINGS_OPEN:
                summary = f"<summary><b>All {len(rows):,} citizens</b>, best first</summary>"
                table = f"<details>{summary}{table}</details>"
            parts.append(table)
        return "".join(parts)

    def network(self) -> str:
        f = self.figures
        picture = network_svg(self.data, f)
        if picture is None:
            return _empty("Nobody made friends this season, so no penalties could flow between them.")
        total = len(f.citizens)
        notes = []
        if picture.citizens < total:
            notes.append(f"Showing the {picture.citizens} most connected of {total} citizens.")
        if picture.cascades < len(f.cascades):
            notes.append(f"Only the {picture.cascades} heaviest of {len(f.cascades)} cascades are drawn.")
        note = "".join(f" {n}" for n in notes)
        parts = [
            (
                f'<figure class="chart">{picture.svg}<figcaption>'
                "Each dot is a citizen, coloured by final score. "
                "Grey lines are friendships; red arrows run from a citizen who was penalised to the friend "
                f"who paid for it, thicker for more points.{note}</figcaption></figure>"
            )
        ]
        if f.cascades:
            rows = [
                [self.who(c.source), "→", self.who(c.target), _delta(c.points), str(c.audits)]
                for c in f.cascades[:_CASCADE_ROWS]
            ]
            moved = _delta(f.friend_points, attr=' data-total="friend-flow"')
            parts.append(
                f"<p>In all, friends' penalties moved {moved} points, "
                f"along {_plural(len(f.cascades), 'friendship')}.</p>"
            )
            if len(f.cascades) > _CASCADE_ROWS:
                parts.append(f'<p class="dim">The {_CASCADE_ROWS} heaviest of {len(f.cascades)}:</p>')
            parts.append(
                _table(["Penalised citizen", "", "Friend who paid", "Points", "Audits"], rows, numeric=(3, 4))
            )
        return "".join(parts)

    def topics(self) -> str:
        f = self.figures
        svg = _charts.topic_costs(f)
        parts = [
            _figure(
                svg,
                "Points taken for messages, by the topic or phrase group that matched.",
                "No message cost anyone a point.",
            )
        ]
        if f.topics:
            rows = [
                [_e(t.key), str(t.count), str(t.citizens), _delta(t.gained), _delta(t.lost), _delta(t.net)]
                for t in f.topics
            ]
            parts.append(
                _table(
                    ["Rule", "Messages", "Citizens", "Gained", "Lost", "Net"], rows, numeric=(1, 2, 3, 4, 5)
                )
            )
        return "".join(parts)

    def purchases(self) -> str:
        f = self.figures
        svg = _charts.purchase_effects(f)
        parts = [_figure(svg, "Net score effect of each item over the season.", "Nobody bought anything.")]
        if f.items:
            rows = [
                [
                    _e(i.key),
                    str(i.count),
                    str(i.citizens),
                    _delta(i.gained),
                    _delta(i.lost),
                    _delta(i.net, attr=f' data-item="{_e(i.key)}"'),
                ]
                for i in f.items
            ]
            parts.append(
                _table(
                    ["Item", "Bought", "Buyers", "Gained", "Lost", "Total effect"],
                    rows,
                    numeric=(1, 2, 3, 4, 5),
                )
            )
        return "".join(parts)

    def permits(self) -> str:
        permits = self.figures.permits
        if not permits:
            return _empty("No permits were requested.")
        counts: dict[str, int] = {}
        for p in permits:
            counts[p.status] = counts.get(p.status, 0) + 1
        summary = ", ".join(f"{n} {_e(s)}" for s, n in sorted(counts.items()))
        rows = [
            [
                _e(p.topic),
                self.who(p.citizen_number),
                f'<span class="status s-{_e(p.status.casefold())}">{_e(p.status)}</span>',
                _e(_when(p.requested_at, self.tz)) if p.requested_at else "—",
                _e(_when(p.expires_at, self.tz)) if p.expires_at else "—",
            ]
            for p in permits
        ]
        return f"<p>{_plural(len(permits), 'request')}: {summary}.</p>" + _table(
            ["Topic", "Citizen", "Status", "Requested", "Expires"], rows
        )

    def appeals(self) -> str:
        outcomes = self.figures.appeals
        if not outcomes:
            return _empty("Nobody appealed.")
        rows = []
        for o in outcomes:
            entry = o.entry
            if entry is None:
                what = f'<span class="dim">entry #{o.appeal.entry_id} (not in the ledger)</span>'
                points = "—"
            else:
                where = f"#{entry.entry_id}, audit {entry.audit_number}:"
                what = f'<span class="dim">{where}</span> {_e(entry.reason)}'
                points = _delta(entry.delta)
            reversal = (
                f'{_delta(o.reversal.delta)} <span class="dim">(#{o.reversal.entry_id})</span>'
                if o.reversal is not None
                else "—"
            )
            rows.append(
                [
                    self.who(o.appeal.citizen_number),
                    what,
                    points,
                    _e(o.appeal.reason) or '<span class="dim">—</span>',
                    f'<span class="status s-{_e(o.appeal.status.casefold())}">{_e(o.appeal.status)}</span>',
                    reversal,
                ]
            )
        return (
            "<p>A granted appeal never edits history: it adds an entry that reverses the one appealed.</p>"
            + _table(
                ["Citizen", "Entry appealed", "Points", "Grounds", "Decision", "Reversed by"],
                rows,
                numeric=(2,),
            )
        )

    def prompts(self) -> str:
        if not self.data.discussion_prompts:
            return _empty("This scenario has no discussion prompts.")
        items = "".join(f"<li>{_e(p)}</li>" for p in self.data.discussion_prompts)
        return f'<ol class="prompts">{items}</ol>'

    def ledger(self) -> str:
        entries = ledger_order(self.data.entries)
        if not entries:
            return _empty("The ledger is empty.")
        shown = entries[:LEDGER_ROWS_SHOWN]
        rows = [self.ledger_row(e) for e in shown]
        more = (
            f" The first {len(shown)} are listed here; ledger.csv and ledger.json hold them all."
            if len(shown) < len(entries)
            else " ledger.csv and ledger.json beside this page hold the same entries."
        )
        table = _table(
            ["#", "Audit", "Time", "Citizen", "Dimension", "Cause", "Change", "Score", "Reason"],
            rows,
            numeric=(0, 1, 6, 7),
            cls="ledger",
        )
        return (
            f"<details><summary><b>Show all {_plural(len(entries), 'entry', 'entries')}</b> "
            f'<span class="dim">in the order they were written.{more}</span></summary>{table}</details>'
        )

    def ledger_row(self, e: ReportEntry) -> list[str]:
        cause = _e(e.source.value)
        if e.rule_key:
            cause += f' <span class="dim">{_e(e.rule_key)}</span>'
        if e.related_citizen_number is not None:
            cause += f" ← {self.who(e.related_citizen_number)}"
        return [
            str(e.entry_id),
            str(e.audit_number),
            _e(f"{e.created_at.astimezone(self.tz):%d %b %H:%M}"),
            self.who(e.citizen_number),
            _e(e.dimension),
            cause,
            _delta(e.delta),
            f'<span class="dim">{e.score_before}→</span>{e.score_after}',
            _e(e.reason),
        ]

    def render(self) -> str:
        d = self.data
        body = []
        for key, title in SECTIONS:
            content = getattr(self, key)()
            body.append(f'<section id="{key}"><h2>{_e(title)}</h2>{content}</section>')
        title = f"{d.season_title} · {d.guild_name} · Citizen Score debrief"
        footer = (
            f"Generated {_e(_when(d.generated_at, self.tz))}. Every number on this page is a sum of ledger "
            f"entries; the start score is {d.start_score} and scores stay within "
            f"{d.score_floor}–{d.score_ceiling}."
        )
        return (
            "<!doctype html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"{self.masthead()}\n{self.toc()}\n<main>\n" + "\n".join(body) + "\n</main>\n"
            f'<footer><p>{footer}</p><p class="dim">Citizen Score is a role-play about a surveillance '
            "system. Only participants were recorded.</p></footer>\n</body>\n</html>\n"
        )


def render_html(data: ReportData) -> str:
    """The debrief report as one self-contained HTML document."""
    return _Page(data).render()


_SEAL = """<svg class="seal" viewBox="0 0 120 120" aria-hidden="true">
<defs><path id="seal-ring" d="M60 60 m-44 0 a44 44 0 1 1 88 0 a44 44 0 1 1 -88 0"/></defs>
<circle cx="60" cy="60" r="57" fill="none" stroke="currentColor" stroke-width="3"/>
<circle cx="60" cy="60" r="50" fill="none" stroke="currentColor" stroke-width="1"/>
<circle cx="60" cy="60" r="34" fill="none" stroke="currentColor" stroke-width="1.5"/>
<text font-size="9.5" fill="currentColor" font-weight="700">
<textPath href="#seal-ring" textLength="270" lengthAdjust="spacing">
BUREAU OF SOCIAL CREDIT ★ AUDITED ★</textPath></text>
<polygon fill="currentColor"
 points="60,32 66.5,51 86.6,51.4 70.6,63.6 76.5,82.9 60,71.4 43.5,82.9 49.4,63.6 33.4,51.4 53.5,51"/>
</svg>"""

_CSS = """
:root{--paper:#f4f0e6;--sheet:#fffdf8;--ink:#1f2430;--muted:#6b7080;--line:#e3ddcf;--red:#8c1c13;
--pos:#2f7d45;--neg:#b3312c;--chart-font:"Inter","Segoe UI",system-ui,-apple-system,Roboto,"Helvetica Neue",
"DejaVu Sans","Noto Sans",Arial,sans-serif;--serif:Georgia,"Iowan Old Style","Times New Roman",
"DejaVu Serif",serif}
*{box-sizing:border-box}
html{background:var(--paper)}
body{margin:0;color:var(--ink);font:16px/1.55 var(--chart-font);-webkit-font-smoothing:antialiased}
.masthead{background:var(--red);color:#fbeee0;border-bottom:6px double #e8c9a0}
.masthead-inner{max-width:1080px;margin:0 auto;padding:34px 28px 30px;display:flex;gap:26px;
align-items:center}
.seal{width:104px;height:104px;flex:none;color:#f1d9b5;opacity:.92}
.kicker{margin:0;text-transform:uppercase;letter-spacing:.18em;font-size:12.5px;color:#f1d9b5}
h1{font-family:var(--serif);font-size:40px;line-height:1.1;margin:6px 0 10px;font-weight:700}
.meta{margin:0 0 2px;display:flex;flex-wrap:wrap;gap:6px 18px;font-size:14.5px;color:#f7e6cf}
.meta span+span:before{content:"·";margin-right:18px;color:#d9a98c}
.toc{position:sticky;top:0;z-index:5;background:rgba(244,240,230,.95);backdrop-filter:blur(4px);
border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:2px 4px;justify-content:center;
padding:8px 12px}
.toc a{color:var(--ink);text-decoration:none;font-size:13.5px;padding:3px 9px;border-radius:999px}
.toc a:hover{background:#e9e2d2}
main{max-width:1080px;margin:0 auto;padding:8px 20px 24px}
section{background:var(--sheet);border:1px solid var(--line);border-radius:10px;margin:22px 0;
padding:24px 28px;
box-shadow:0 1px 2px rgba(60,40,20,.05)}
h2{font-family:var(--serif);font-size:26px;margin:0 0 14px;color:var(--red);font-weight:700;
border-bottom:2px solid var(--line);padding-bottom:8px}
h3{font-size:14px;text-transform:uppercase;letter-spacing:.09em;color:var(--muted);margin:20px 0 8px}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px}
.stat{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#fbf8f1}
.stat .label{display:block;font-size:12.5px;text-transform:uppercase;letter-spacing:.08em;
color:var(--muted)}
.stat strong{display:block;font-size:30px;line-height:1.2;font-variant-numeric:tabular-nums;margin-top:2px}
.stat strong.pos{color:var(--pos)}.stat strong.neg{color:var(--neg)}
.highlights{margin:18px 0 6px;padding-left:20px}.highlights li{margin:4px 0}
.two{display:grid;grid-template-columns:1fr 1fr;gap:24px}
@media (max-width:820px){.two{grid-template-columns:1fr}.masthead-inner{flex-direction:column;
align-items:flex-start}}
.table-wrap{overflow-x:auto;margin:8px 0}
table{border-collapse:collapse;width:100%;font-size:14.5px}
th{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);text-align:left;
font-weight:600;
border-bottom:2px solid var(--line);padding:6px 8px;white-space:nowrap}
td{padding:6px 8px;border-bottom:1px solid #efe9dc;vertical-align:top}
tbody tr:nth-child(even){background:#fbf8f1}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.num.pos{color:var(--pos);font-weight:600}.num.neg{color:var(--neg);font-weight:600}
.num.zero{color:var(--muted)}
.dim{color:var(--muted)}
.who{font-weight:600}
.score{display:inline-block;min-width:3.2em;text-align:center;font-weight:700;color:#fff;
background:var(--c);
border-radius:5px;padding:0 6px;font-variant-numeric:tabular-nums}
.tier{display:inline-block;border:1.5px solid var(--c);color:var(--c);border-radius:999px;padding:0 9px;
font-size:13px;font-weight:600;white-space:nowrap;filter:brightness(.8)}
.tiers{list-style:none;padding:0;margin:6px 0 14px;display:flex;flex-wrap:wrap;gap:8px 22px;font-size:14px}
.tiers b{font-size:17px;margin-left:4px}
.status{display:inline-block;border-radius:4px;padding:0 7px;font-size:13px;font-weight:600;
background:#ece6d8}
.s-active,.s-granted,.s-approved{background:#dcefdc;color:#21602f}
.s-denied,.s-rejected{background:#f6dcd8;color:#8c1c13}
.s-pending{background:#f7ecd0;color:#7a5a10}
.s-expired,.s-revoked{background:#e6e3dd;color:#5b5b5b}
.bar{display:flex;width:84px;height:10px;background:#f0ebe0;border-radius:3px;overflow:hidden;direction:ltr}
.bar-neg,.bar-pos{display:block;height:100%}
.bar-neg{background:var(--neg);margin-left:auto}.bar-pos{background:var(--pos);margin-right:auto}
.bar{justify-content:center}
.flows td:last-child{width:92px;vertical-align:middle;padding-left:2px;padding-right:0}
.flows{font-size:14px}.flows td,.flows th{padding-left:6px;padding-right:6px}
.check{margin:18px 0 0;font-size:14px;padding:10px 14px;border-radius:8px}
.check.ok{background:#edf5ec;color:#21602f}.check.bad{background:#fbe9e6;color:#8c1c13}
.check.bad p{margin:0 0 6px}
figure.chart{margin:6px 0 14px}
figure.chart svg{display:block;width:100%;height:auto}
figcaption{font-size:13.5px;color:var(--muted);margin-top:6px}
.network text{font-family:var(--chart-font)}
.net-name{font-size:12px;fill:var(--ink);paint-order:stroke;stroke:#fffdf8;stroke-width:3.5px;
font-weight:600}
.net-score{font-weight:400;fill:var(--muted)}
.net-points{font-size:11px;fill:#8c1c13;font-weight:700;paint-order:stroke;stroke:#fffdf8;stroke-width:3px}
.net-legend{font-size:12.5px;fill:var(--muted)}
.empty{color:var(--muted);font-style:italic;background:#fbf8f1;border:1px dashed var(--line);
border-radius:8px;
padding:14px 16px;margin:6px 0}
.prompts{font-family:var(--serif);font-size:19px;line-height:1.5;padding-left:28px}
.prompts li{margin:10px 0;padding-left:6px}
details summary{cursor:pointer;color:var(--ink);padding:4px 0}
.ledger{font-size:13px}.ledger td{white-space:nowrap}.ledger td:nth-child(6),
.ledger td:last-child{white-space:normal}
.ledger td:last-child{min-width:15em}
footer{max-width:1080px;margin:0 auto;padding:4px 28px 40px;font-size:13.5px;color:var(--muted)}
@media print{html{background:#fff}.toc{display:none}section{break-inside:avoid;box-shadow:none}
details{display:block}details>summary{list-style:none}}
"""
