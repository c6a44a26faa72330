"""The Jinja2 environment that draws the debrief from the templates shipped in ``templates/``.

Autoescaping is on for every template: a player's name or a reason reaches the page as text, and
only markup the report itself drew (its SVG charts) is passed as ``Markup``.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from game.text import signed, truncate


def _tone(value: int) -> str:
    return "pos" if value > 0 else "neg" if value < 0 else "zero"


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 audit``, ``3 audits``; ``words`` for irregular plurals."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


@cache
def environment() -> Environment:
    """One shared environment: templates are compiled once per process, then only rendered."""
    env = Environment(
        loader=PackageLoader("game.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters["signed"] = signed
    env.filters["tone"] = _tone
    env.filters["truncate_text"] = truncate
    env.globals["plural"] = plural
    return env
