"""Who plays: unique names at every size, and each run's report in a folder of its own."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.__main__ import build_parser
from bot.sandbox._personas import NAMES, SURNAMES, citizen_name
from bot.sandbox._run import MAX_CITIZENS, SandboxConfig, run_folder


def test_thirty_citizens_and_up_to_the_maximum_have_unique_names() -> None:
    names = [citizen_name(index) for index in range(MAX_CITIZENS)]
    assert len({user for user, _ in names}) == MAX_CITIZENS
    assert len({shown for _, shown in names}) == MAX_CITIZENS
    assert len(NAMES) * (1 + len(SURNAMES)) >= MAX_CITIZENS
    shown = [name for _, name in names[:30]]
    assert shown[:4] == ["Ana", "Bo", "Chen", "Dara"]
    assert not any(name[-1].isdigit() for name in shown), shown  # no "Chen2"
    assert shown[26] == "Ana Li"


def args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["sandbox", *argv])


def test_without_out_each_run_writes_a_folder_of_its_own(tmp_path: Path) -> None:
    now = datetime(2026, 12, 3, 17, 45, tzinfo=UTC)
    first = run_folder(tmp_path, args(), now)
    assert first == tmp_path / "2026-12-03-1745-classic-seed2015"
    first.mkdir()
    second = run_folder(tmp_path, args(), now)
    assert second != first
    assert second.name.startswith(first.name)
    assert SandboxConfig.from_args(args("--out", "here")).out == Path("here")
    assert SandboxConfig.from_args(args(), now=now).out.parent == Path("sandbox-report")


def test_the_preview_runs_at_real_speed_unless_told_otherwise() -> None:
    assert SandboxConfig.from_args(args()).hours == 2.0
    preview = SandboxConfig.from_args(args("--preview"))
    assert (preview.minutes, preview.hours) == (25.0, 25.0 / 60)
    faster = SandboxConfig.from_args(args("--preview", "--minutes", "20", "--hours", "2"))
    assert (faster.minutes, faster.hours) == (20.0, 2.0)


def test_minutes_without_the_preview_is_refused_in_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main

    assert main(["sandbox", "--minutes", "20"]) == 2
    assert "--minutes" in capsys.readouterr().err
