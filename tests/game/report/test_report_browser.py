"""The sandbox's debrief in a real browser: Debian's Chromium, headless, draws every chart.

The screenshot is kept in ``test-artifacts/`` for a person to look at. Without ``/usr/bin/chromium``
(``make browser`` installs it) the test is skipped with one line.
"""

from __future__ import annotations

import asyncio
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from bot.sandbox import SandboxConfig, play_season
from bot.sandbox._progress import Progress

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
SCREENSHOT = ARTIFACTS / "sandbox-report.png"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (/usr/bin/chromium): `make browser` installs it"
)

# What the debrief shows (docs/game.md): scores over time, the final distribution, the friend network, the
# topics that cost most, what purchases did.
CHARTS = 5
# Marks a chart draws: an empty or failed chart has none or a handful.
DRAWN = ("path", "line", "polyline", "polygon", "rect", "circle", "ellipse", "use", "text")


def chromium(*arguments: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--window-size=1280,4000",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )


class Charts(HTMLParser):
    """Counts, for each ``<figure class="chart">``, the SVG marks and images inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, int]] = []
        self._depth = 0  # nesting inside the current chart figure

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "figure" and "chart" in classes and not self._depth:
            self.charts.append({"svg": 0, "img": 0, "marks": 0})
            self._depth = 1
            return
        if not self._depth:
            return
        if tag == "figure":
            self._depth += 1
        chart = self.charts[-1]
        if tag in ("svg", "img"):
            chart[tag] += 1
        elif tag in DRAWN:
            chart["marks"] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag == "figure":
            self._depth -= 1


def test_the_report_draws_every_chart_in_chromium(tmp_path: Path) -> None:
    config = SandboxConfig(citizens=6, hours=1, audits=8, seed=2015, out=tmp_path / "report", quiet=True)
    result = asyncio.run(play_season(config, progress=Progress(quiet=True)))
    page = result.files.html.resolve().as_uri()

    dom = chromium("--dump-dom", page, profile=tmp_path / "profile-dom").stdout
    ARTIFACTS.mkdir(exist_ok=True)
    chromium(f"--screenshot={SCREENSHOT}", page, profile=tmp_path / "profile-shot")

    parser = Charts()
    parser.feed(dom)
    assert len(parser.charts) >= CHARTS, parser.charts
    for number, chart in enumerate(parser.charts, start=1):
        assert chart["svg"] + chart["img"] >= 1, f"chart {number} has no picture: {chart}"
        assert chart["marks"] >= 10, f"chart {number} is (nearly) empty: {chart}"
    with Image.open(SCREENSHOT) as shot:
        assert shot.size == (1280, 4000)
        colours = shot.convert("RGB").resize((320, 1000)).getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert len(colours) > 200, "the screenshot is (nearly) blank"
