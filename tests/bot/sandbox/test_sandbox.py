"""The sandbox season: the real bot, played offline through SimCord, from /setup to the debrief."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import simcord

import bot.app
import bot.sandbox._run
from bot.__main__ import main
from bot.sandbox import SandboxConfig, SandboxResult, play_season
from bot.sandbox._preview import serve_preview
from bot.sandbox._progress import Progress

# Small seasons: a handful of citizens (the cast in turn: loyalist, dissident, shopper, gamer, ...).
SMALL = SandboxConfig(citizens=5, hours=1, audits=6, seed=11, quiet=True)


def play(config: SandboxConfig) -> SandboxResult:
    return asyncio.run(play_season(config, progress=Progress(quiet=True)))


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> SandboxResult:
    out = tmp_path_factory.mktemp("season")
    return play(SandboxConfig(**{**vars_of(SMALL), "out": out}))


def vars_of(config: SandboxConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


def ledger(result: SandboxResult) -> dict[str, Any]:
    return json.loads(result.files.json.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------------------- the CLI


def test_the_command_plays_a_season_prints_standings_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"

    code = main(["sandbox", "--citizens", "4", "--hours", "0.5", "--seed", "3", "--out", str(out)])

    printed = capsys.readouterr().out
    assert code == 0, printed
    audits = re.findall(r"audit\s+(\d+)/(\d+) ", printed)
    assert [int(number) for number, _ in audits] == list(range(1, len(audits) + 1)), printed
    assert {int(of) for _, of in audits} == {len(audits)}, printed
    assert len(audits) >= 20, printed
    standings = printed.split("Final standings", 1)[1]
    rows = [line.split() for line in standings.splitlines() if re.match(r"\s+\d+\s", line)]
    assert sorted(row[1] for row in rows) == ["Ana", "Bo", "Chen", "Dara"]
    assert {row[2] for row in rows} == {"loyalist", "dissident", "shopper", "gamer"}
    assert f"Report: {out / 'report.html'}" in printed
    for name in ("report.html", "ledger.csv", "ledger.json"):
        assert (out / name).stat().st_size > 0, name


def test_bad_arguments_are_refused_in_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--scenario", "no-such-pack"]) == 2
    assert "no-such-pack" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- what it played


def test_the_season_is_played_through_commands_and_buttons(season: SandboxResult) -> None:
    tally = season.tally
    assert tally.messages > 20
    for command in ("setup channels", "setup game-channel add", "season start", "join", "buy", "friend add"):
        assert tally.by_command.get(command, 0) >= 1, (command, tally.by_command)
    assert tally.by_command["join"] == SMALL.citizens
    assert tally.clicks >= 1  # friend requests answered, permits and appeals decided
    # The pack's timeline plays out by itself; the Warden issues one optional decree half-way.
    assert tally.by_command["decree issue"] == 1
    taken = [title for title in tally.decrees if title.startswith("Decree: ")]
    assert len(taken) >= 4, tally.decrees
    assert "Decree: Market amnesty" in taken
    assert season.bot_errors == []
    assert season.debrief_from_bot, "the report is the one the bot posted at the season's end"


def test_the_report_totals_equal_the_ledger(season: SandboxResult) -> None:
    document = ledger(season)
    start = document["season"]["start_score"]
    deltas = Counter[int]()
    for entry in document["entries"]:
        deltas[entry["citizen_number"]] += entry["delta"]
    html = season.files.html.read_text(encoding="utf-8")
    # The standings table carries each citizen's net change as data-value on a data-citizen cell.
    nets = {int(n): int(v) for v, n in re.findall(r'data-value="(-?\d+)" data-citizen="(\d+)"', html)}

    by_number = {standing.number: standing for standing in season.standings}
    assert set(by_number) == set(nets) == {c["number"] for c in document["citizens"]}
    assert len(by_number) == SMALL.citizens
    for number, standing in by_number.items():
        assert standing.score - start == deltas[number] == nets[number], standing
    assert {c["number"]: c["final_score"] for c in document["citizens"]} == {
        number: standing.score for number, standing in by_number.items()
    }
    assert "The ledger adds up" in html
    assert any(deltas.values()), "a season in which nobody's score moved tests nothing"


def test_the_same_seed_plays_the_same_season(season: SandboxResult, tmp_path: Path) -> None:
    again = play(SandboxConfig(**{**vars_of(SMALL), "out": tmp_path / "again"}))
    other = play(SandboxConfig(**{**vars_of(SMALL), "seed": SMALL.seed + 1, "out": tmp_path / "other"}))

    first = ledger(season)
    # Every date in the export is the game's (SimCord's fixed epoch): nothing to ignore.
    assert first["season"]["generated_at"] == first["season"]["ended_at"]
    assert ledger(again) == first
    assert again.files.csv.read_bytes() == season.files.csv.read_bytes()
    assert ledger(other)["entries"] != first["entries"]


# ----------------------------------------------------------------------------------- the same bot


async def test_the_sandbox_builds_the_bot_as_make_run_does(season: SandboxResult, sim: simcord.Env) -> None:
    # `citizen-score run` builds its bot with bot.app.create_bot; so does the sandbox.
    assert bot.sandbox._run.create_bot is bot.app.create_bot
    assert season.cogs == frozenset(sim.bot.cogs)
    assert season.extensions == frozenset(sim.bot.extensions)
    assert {"Setup", "Seasons", "Friends", "Shop", "Permits", "Appeals"} <= season.cogs


# ----------------------------------------------------------------------------------------- preview


async def test_the_preview_serves_the_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    urls: list[str] = []
    config = SandboxConfig(citizens=3, hours=1, audits=4, seed=5, out=tmp_path / "report", quiet=True)
    serving = asyncio.create_task(
        serve_preview(config, progress=Progress(quiet=True), pace=0.05, on_url=urls.append)
    )
    async with asyncio.timeout(30):
        while not urls:
            assert not serving.done(), serving.result()
            await asyncio.sleep(0.05)
    url = urlsplit(urls[0])
    assert url.hostname == "127.0.0.1"
    capability = url.fragment
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{url.port}/") as page:
            assert page.status == 200
            assert "SimCord Preview" in await page.text()
        headers = {"X-Simcord-Capability": capability}
        async with http.post(f"http://127.0.0.1:{url.port}/api/pages", json={}, headers=headers) as opened:
            assert opened.status == 200
            state = json.dumps(await opened.json())
    assert "town-square" in state

    # What Ctrl+C does; only once the preview holds SIGINT, or it would interrupt the test run itself.
    assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    os.kill(os.getpid(), signal.SIGINT)
    async with asyncio.timeout(30):
        assert await serving == 0
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", url.port), timeout=1):
        pass
