"""Reading scenario packs: TOML files and the shipped packs in ``data/``, and a season's stored copy.

A pack that breaks a rule is refused with :class:`~game.errors.ScenarioError`, one line per problem.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from game.errors import ScenarioError, ScenarioProblem, UnknownScenario
from game.scenario.fields import Problems
from game.scenario.model import Scenario, ScenarioSummary
from game.scenario.timeline import timeline_problems

PACKAGE = "citizen_score_data"

# ---------------------------------------------------------------------------------------------------
# Loading


def _field_path(location: Iterable[str | int]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


_REWORDINGS = (
    ("Input should be", "must be"),
    ("String should", "must"),
    ("Tuple should", "must"),
    ("List should", "must"),
    ("Value should", "must"),
)


def _reason(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field the Bureau recognises (check the spelling)"
    message = str(error["msg"])
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    for old, new in _REWORDINGS:
        if message.startswith(old):
            message = new + message[len(old) :]
            break
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= 40:
        message += f" (got {value!r})"
    return message


def _problems(error: ValidationError) -> list[ScenarioProblem]:
    problems: list[ScenarioProblem] = []
    for item in error.errors(include_url=False):
        location = list(item["loc"])
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, Problems):
            problems += [
                ScenarioProblem(_field_path([*location, *path]), reason) for path, reason in cause.problems
            ]
        else:
            problems.append(ScenarioProblem(_field_path(location), _reason(item)))
    return problems


def restore_scenario(data: Mapping[str, Any], *, source: str = "stored scenario") -> Scenario:
    """Validate a scenario from plain data (a season's stored JSON copy, or a parsed TOML file)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(source, _problems(error)) from None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_scenario(text: str, *, source: str) -> Scenario:
    """A scenario from TOML text; ``source`` names it in error messages (a path, an attachment name)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        where = f"line {position.group(1)}, column {position.group(2)}" if position else ""
        reason = _TOML_POSITION.sub("", message)
        raise ScenarioError(source, [ScenarioProblem(where, f"TOML syntax: {reason}")]) from None
    scenario = restore_scenario(data, source=source)
    # A pack's timeline must fit the pack (a season's stored copy is not held to it: moderators may
    # remove a topic a decree names, and the decree then leaves it alone).
    problems = timeline_problems(scenario)
    if problems:
        raise ScenarioError(source, [ScenarioProblem(_field_path(path), reason) for path, reason in problems])
    return scenario


def load_scenario_file(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario pack from any TOML file."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(
            source, [ScenarioProblem("", f"cannot be read: {error.strerror or error}")]
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError(source, [ScenarioProblem("", "is not UTF-8 text")]) from None
    return parse_scenario(text, source=source)


def _shipped_files() -> dict[str, resources.abc.Traversable]:
    return {
        entry.name.removesuffix(".toml"): entry
        for entry in resources.files(PACKAGE).iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    }


@functools.cache
def _load_shipped(key: str) -> Scenario:
    files = _shipped_files()
    if key not in files:
        raise UnknownScenario(key, sorted(files))
    source = f"data/{key}.toml"
    scenario = parse_scenario(files[key].read_text(encoding="utf-8"), source=source)
    if scenario.key != key:
        raise ScenarioError(source, [ScenarioProblem("key", f"must be {key!r}, the name of the file")])
    return scenario


def load_scenario(key: str) -> Scenario:
    """A shipped pack by key (``classic``, ``debate-club``, ``game-night``). Raises ``UnknownScenario``
    (a ``ScenarioError`` and a ``NotFound``) for an unknown key, ``ScenarioError`` for a broken pack."""
    return _load_shipped(key)


def available_scenarios() -> list[ScenarioSummary]:
    """Every shipped pack, by key. A broken pack raises ``ScenarioError``: shipping one is a bug."""
    return [load_scenario(key).summary() for key in sorted(_shipped_files())]
