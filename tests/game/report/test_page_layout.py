"""The debrief laid out by a real browser (Chromium through Playwright), at a desktop and a phone width.

Skipped with one line without ``/usr/bin/chromium`` (``make browser`` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from game.report import render_html
from tests.game.report.test_report import small_season

CHROMIUM = Path("/usr/bin/chromium")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (/usr/bin/chromium): `make browser` installs it"
)


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("debrief") / "report.html"
    path.write_text(render_html(small_season()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_a_contents_link_leaves_its_heading_in_view(
    browser: object, page_file: Path, width: int, height: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page.goto(page_file.as_uri())
    for key in ("network", "appeals", "ledger"):
        page.click(f'.toc a[href="#{key}"]')
        bar = page.eval_on_selector(".toc", "e => e.getBoundingClientRect().bottom")
        heading = page.eval_on_selector(f"#{key} h2", "e => e.getBoundingClientRect().top")
        assert heading >= bar, f"#{key}: heading at {heading} px, under the bar ending at {bar} px"
    page.close()


def test_on_a_phone_the_bar_is_one_line_and_chart_text_stays_legible(
    browser: object, page_file: Path
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.goto(page_file.as_uri())
    bar = page.eval_on_selector(".toc", "e => e.getBoundingClientRect().height")
    assert bar <= 48, f"the contents bar takes {bar} px of an 844 px screen"
    smallest = page.eval_on_selector_all(
        "#scores svg text, #distribution svg text",
        "es => Math.min(...es.map(e => e.getBoundingClientRect().height).filter(h => h > 0))",
    )
    assert smallest >= 8, f"chart text drawn {smallest} px high"
    page.close()


def test_picking_a_citizen_brings_their_line_forward(browser: object, page_file: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(page_file.as_uri())

    def opacity(number: int) -> float:
        return float(page.eval_on_selector(f"#timeline-line-{number}", "e => getComputedStyle(e).opacity"))

    assert opacity(3) == opacity(5) == 1.0
    page.click("label:has(#follow-3)")
    assert opacity(3) == 1.0
    assert opacity(5) < 0.5
    page.click("label:has(#follow-all)")
    assert opacity(5) == 1.0
    page.close()
