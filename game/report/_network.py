"""The friend network as SVG: nodes coloured by final score, penalty cascades as arrows.

networkx finds the groups of friends and lays each one out (a Fruchterman-Reingold spring
embedding from a fixed seed, so the same season always draws the same picture); the groups are
then packed in rows, largest first, with the citizens who have no friends in a strip below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
from markupsafe import Markup

from game.report._analysis import Cascade, SeasonFigures
from game.report._colours import SCALE_STOPS, hex_colour, score_colour
from game.report._data import ReportData
from game.report._templates import environment
from game.text import signed, truncate

MAX_NODES = 250
_LABEL_ALL = 30  # above this many citizens only the most involved are named
_LABEL_SOME = 12
_POINTS_LIMIT = 24  # above this many cascades the arrows carry no numbers (the table has them)
_MAX_ARROWS = 150  # more arrows than this make a hairball; the table lists the heaviest anyway
_SEED = 2015  # the layout's fixed start: the same season, the same picture
_ITERATIONS = 120
_WIDTH = 960
_MARGIN = 56
_TOP = 24
_MAX_STRETCH = 1.6
_LEGEND = 70
_CASCADE = "#b3312c"
_FRIEND = "#cfc8b8"


@dataclass(frozen=True, slots=True)
class _Point:
    x: float
    y: float


def friend_graph(nodes: Sequence[int], edges: Sequence[tuple[int, int]]) -> nx.Graph[int]:
    """The citizens ``nodes`` (in this order) joined by ``edges`` between them."""
    graph: nx.Graph[int] = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((a, b) for a, b in edges if a != b and a in graph and b in graph)
    return graph


def spring_layout(graph: nx.Graph[int]) -> dict[int, _Point]:
    """Positions in the unit square for the graph's nodes; deterministic for the same graph."""
    if graph.number_of_nodes() == 0:
        return {}
    if graph.number_of_nodes() == 1:
        return {node: _Point(0.5, 0.5) for node in graph}
    pos = nx.spring_layout(graph, seed=_SEED, iterations=_ITERATIONS)
    xs = [float(p[0]) for p in pos.values()]
    ys = [float(p[1]) for p in pos.values()]
    low_x, high_x, low_y, high_y = min(xs), max(xs), min(ys), max(ys)
    # Fill the square, but never squash a layout by more than _MAX_STRETCH.
    longest = max(high_x - low_x, high_y - low_y, 1e-9)
    extent_x = max(high_x - low_x, longest / _MAX_STRETCH)
    extent_y = max(high_y - low_y, longest / _MAX_STRETCH)
    mid_x, mid_y = (low_x + high_x) / 2, (low_y + high_y) / 2
    return {
        node: _Point((float(p[0]) - mid_x) / extent_x + 0.5, (float(p[1]) - mid_y) / extent_y + 0.5)
        for node, p in pos.items()
    }


def _choose_nodes(data: ReportData, figures: SeasonFigures) -> list[int]:
    numbers = [r.number for r in figures.citizens]
    if len(numbers) <= MAX_NODES:
        return sorted(numbers)
    weight: dict[int, float] = dict.fromkeys(numbers, 0.0)
    for cascade in figures.cascades:
        for n in (cascade.source, cascade.target):
            if n in weight:
                weight[n] += abs(cascade.points) * 10
    for friendship in data.friendships:
        for n in (friendship.citizen_a, friendship.citizen_b):
            if n in weight:
                weight[n] += 1
    ranked = sorted(numbers, key=lambda n: (-weight[n], n))
    return sorted(ranked[:MAX_NODES])


def _fmt(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _arrow(start: _Point, end: _Point, *, r_end: float, bend: float, width: float) -> tuple[str, str, _Point]:
    """A curved path from ``start`` to the rim of the node at ``end``, its head, and its midpoint."""
    dx, dy = end.x - start.x, end.y - start.y
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    control = _Point((start.x + end.x) / 2 - uy * length * bend, (start.y + end.y) / 2 + ux * length * bend)
    cx, cy = end.x - control.x, end.y - control.y
    c_len = math.hypot(cx, cy) or 1.0
    tx, ty = cx / c_len, cy / c_len
    head = 7 + width * 1.3
    tip = _Point(end.x - tx * (r_end + 2), end.y - ty * (r_end + 2))
    base = _Point(tip.x - tx * head, tip.y - ty * head)
    path = (
        f"M{_fmt(start.x)} {_fmt(start.y)} Q{_fmt(control.x)} {_fmt(control.y)} {_fmt(base.x)} {_fmt(base.y)}"
    )
    half = head * 0.55
    points = [
        (tip.x, tip.y),
        (base.x - ty * half, base.y + tx * half),
        (base.x + ty * half, base.y - tx * half),
    ]
    head_points = " ".join(f"{_fmt(px)},{_fmt(py)}" for px, py in points)
    mid = _Point(
        0.25 * start.x + 0.5 * control.x + 0.25 * end.x, 0.25 * start.y + 0.5 * control.y + 0.25 * end.y
    )
    return path, head_points, mid


def _shelves(sides: Sequence[float], target: float) -> tuple[list[list[int]], float, float]:
    rows: list[list[int]] = []
    width = 0.0
    for i, side in enumerate(sides):
        if rows and width + side <= target + 1e-9:
            rows[-1].append(i)
            width += side
        else:
            rows.append([i])
            width = side
    total_w = max((sum(sides[i] for i in row) for row in rows), default=1.0)
    total_h = sum(max(sides[i] for i in row) for row in rows) or 1.0
    return rows, total_w, total_h


def _best_shelves(
    sides: Sequence[float], width: float, height: float
) -> tuple[list[list[int]], float, float]:
    """Rows of cells (largest first) whose packing fills ``width`` x ``height`` best."""
    if not sides:
        return [], 1.0, 1.0
    best: tuple[float, tuple[list[list[int]], float, float]] | None = None
    candidates = sorted({sum(sides[: i + 1]) for i in range(len(sides))} | {max(sides)})
    for target in candidates:
        packed = _shelves(sides, target)
        scale = min(width / packed[1], height / packed[2])
        if best is None or scale > best[0] + 1e-9:
            best = (scale, packed)
    assert best is not None
    return best[1]


@dataclass(frozen=True, slots=True)
class _Placement:
    at: dict[int, _Point]
    height: float
    loner_top: float | None


def _place(
    nodes: Sequence[int], edges: Sequence[tuple[int, int]], *, labelled: bool, height: float
) -> _Placement:
    """Lay out each group of friends on its own, pack the groups in rows, loners in a strip below.

    One spring layout over everything would push separate groups to the far corners.
    """
    graph = friend_graph(nodes, edges)
    components = sorted(
        (sorted(c) for c in nx.connected_components(graph)), key=lambda group: (-len(group), group[0])
    )
    groups = [c for c in components if len(c) > 1]
    loners = [c[0] for c in components if len(c) == 1]
    inner_w = _WIDTH - 2 * _MARGIN
    at: dict[int, _Point] = {}

    # Shelf packing: each group a square cell with side growing as the square root of its size.
    sides = [math.sqrt(len(g)) + 0.8 for g in groups]
    groups_h = height - 2 * _TOP if groups else 0.0
    rows, total_w, total_h = _best_shelves(sides, inner_w, groups_h)
    scale = min(inner_w / total_w, groups_h / total_h) if groups else 0.0
    y = float(_TOP)
    for row in rows:
        row_w = sum(sides[i] for i in row) * scale
        row_h = max(sides[i] for i in row) * scale
        # Names are wide and the page is wider than tall: let a row stretch sideways a little.
        stretch = min(inner_w / row_w, 1.5)
        x = _MARGIN + (inner_w - row_w * stretch) / 2
        for i in row:
            cell = sides[i] * scale
            cell_w = cell * stretch
            pad_x, pad_y = cell_w * 0.05 + 36, cell * 0.04 + 14
            unit = spring_layout(graph.subgraph(groups[i]))
            top = y + (row_h - cell) / 2
            for n, p in unit.items():
                at[n] = _Point(x + pad_x + p.x * (cell_w - 2 * pad_x), top + pad_y + p.y * (cell - 2 * pad_y))
            x += cell_w
        y += row_h
    height = y + _TOP if groups else float(_TOP)

    loner_top: float | None = None
    if loners:
        step_x, step_y = (110.0, 64.0) if labelled else (26.0, 26.0)
        columns = max(1, int(inner_w // step_x))
        loner_top = height
        start_y = height + 30
        for i, n in enumerate(loners):
            line, col = divmod(i, columns)
            at[n] = _Point(_MARGIN + step_x / 2 + col * step_x, start_y + line * step_y)
        height = start_y + (math.ceil(len(loners) / columns) - 1) * step_y + (40 if labelled else 20)
    return _Placement(at=at, height=height, loner_top=loner_top)


@dataclass(frozen=True, slots=True)
class _Arrow:
    """A cascade drawn: its path, head, width and (when there is room) its points at the midpoint."""

    points: int
    tip: str
    path: str
    head: str
    width: str
    mid: _Point
    label: str | None


@dataclass(frozen=True, slots=True)
class _Node:
    number: int
    at: _Point
    colour: str
    tip: str
    name: str | None
    score: int


@dataclass(frozen=True, slots=True)
class NetworkPicture:
    svg: Markup
    citizens: int  # how many citizens are drawn
    cascades: int  # how many cascades are drawn


def network_svg(data: ReportData, figures: SeasonFigures) -> NetworkPicture | None:
    """The network as an ``<svg>`` element, or ``None`` if nobody is connected."""
    if not data.friendships and not figures.cascades:
        return None
    nodes = _choose_nodes(data, figures)
    shown = set(nodes)
    pairs = sorted(
        {
            (min(f.citizen_a, f.citizen_b), max(f.citizen_a, f.citizen_b))
            for f in data.friendships
            if f.citizen_a in shown and f.citizen_b in shown and f.citizen_a != f.citizen_b
        }
    )
    # figures.cascades is heaviest first: past _MAX_ARROWS only the heaviest are drawn.
    cascades: list[Cascade] = [c for c in figures.cascades if c.source in shown and c.target in shown][
        :_MAX_ARROWS
    ]
    layout_edges = [*pairs, *((c.source, c.target) for c in cascades)]
    results = {r.number: r for r in figures.citizens}
    count = len(nodes)
    r = max(5.0, min(15.0, 17.0 - count / 8))
    involvement: dict[int, int] = {}
    for c in cascades:
        involvement[c.source] = involvement.get(c.source, 0) - c.points
        involvement[c.target] = involvement.get(c.target, 0) - c.points
    if count <= _LABEL_ALL:
        named = set(nodes)
    else:
        named = set(sorted(involvement, key=lambda n: (-involvement[n], n))[:_LABEL_SOME])
    placement = _place(
        nodes, layout_edges, labelled=count <= _LABEL_ALL, height=min(max(360 + 10 * count, 420), 860)
    )
    at = placement.at

    def name(number: int) -> str:
        return results[number].name if number in results else f"No. {number}"

    heaviest = max((abs(c.points) for c in cascades), default=1) or 1
    arrows = []
    # Lightest first, so the heaviest cascades are drawn on top.
    for cascade in sorted(cascades, key=lambda c: (abs(c.points), c.source, c.target)):
        width = 1.2 + 6.8 * abs(cascade.points) / heaviest
        path, head, mid = _arrow(at[cascade.source], at[cascade.target], r_end=r, bend=0.14, width=width)
        arrows.append(
            _Arrow(
                points=cascade.points,
                tip=f"{name(cascade.target)} lost {-cascade.points} because of {name(cascade.source)}",
                path=path,
                head=head,
                width=_fmt(width),
                mid=mid,
                label=signed(cascade.points) if len(cascades) <= _POINTS_LIMIT else None,
            )
        )
    citizens = [
        _Node(
            number=n,
            at=at[n],
            colour=score_colour(results[n].final_score, data.score_floor, data.score_ceiling),
            tip=f"{results[n].name} (No. {n}): {results[n].final_score}, {results[n].tier}",
            name=truncate(results[n].name, 18) if n in named else None,
            score=results[n].final_score,
        )
        for n in nodes
    ]
    svg = (
        environment()
        .get_template("network.svg")
        .render(
            width=_WIDTH,
            height=placement.height + _LEGEND,
            margin=_MARGIN,
            top=placement.height,
            loner_top=placement.loner_top,
            friendships=[(at[a], at[b]) for a, b in pairs],
            arrows=arrows,
            arrow_opacity="0.72" if len(cascades) <= 60 else "0.45",
            citizens=citizens,
            r=_fmt(r),
            ring=_fmt(min(2.0, r / 5)),
            stops=[(f"{t:.2f}", hex_colour(rgb)) for t, rgb in SCALE_STOPS],
            floor=data.score_floor,
            ceiling=data.score_ceiling,
            friend=_FRIEND,
            cascade=_CASCADE,
            fmt=_fmt,
        )
    )
    return NetworkPicture(svg=Markup(svg.strip()), citizens=count, cascades=len(cascades))  # noqa: S704
