"""No import cycle between the project's modules (imports only for type checking aside).

The graph is drawn from the sources: an edge from a module to each project module it imports, at the
top or inside a function (a deferred import hides a cycle, it does not remove it). ``from a import b``
points at ``a.b`` when that is a module, else at ``a``. Only ``if TYPE_CHECKING:`` blocks are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("game", "bot", "web")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from a import b``: ``a.b`` when that is a module (the caller keeps only modules),
            # else ``a``. The package ``a`` itself is initialised either way, but a package's
            # ``__init__`` re-exporting its modules is not a cycle with them.
            found.extend(f"{base}.{alias.name}" for alias in node.names)
            found.append(f"{base}:from")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> nx.DiGraph:
    sources = {
        _module_name(path): path
        for package in PACKAGES
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(sources)
    for module, path in sources.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = _imports(tree, module, path.name == "__init__.py")
        named_modules = {target for target in targets if target in sources}
        for target in targets:
            if target.endswith(":from"):
                base = target.removesuffix(":from")
                # ``a`` counts only when something imported from it is not a module of its own.
                names = [t for t in targets if t.rpartition(".")[0] == base and not t.endswith(":from")]
                if base in sources and any(name not in named_modules for name in names):
                    graph.add_edge(module, base)
            elif target in sources and target != module:
                graph.add_edge(module, target)
    return graph


def _cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def test_the_graph_sees_the_imports_it_must() -> None:
    graph = import_graph()
    assert graph.has_edge("game.services.queries", "game.services.ranks")
    assert graph.has_edge("bot.exts.leaderboard._cog", "game.services.queries")


def test_a_planted_cycle_is_found() -> None:
    graph = import_graph()
    graph.add_edge("game.services.ranks", "game.services.queries")
    assert any("game.services.ranks" in cycle for cycle in _cycles(graph))


def test_no_module_imports_itself_round_a_cycle() -> None:
    cycles = _cycles(import_graph())
    assert cycles == [], "import cycles (strongly connected modules): " + "; ".join(
        " <-> ".join(cycle) for cycle in cycles
    )
