"""Domain failures, named for what went wrong.

Each carries a sentence meant for the player; the bot shows it as it is. Nothing here knows about
Discord.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class GameError(Exception):
    """A rule of the game refused an action. ``str(error)`` is a sentence for the player."""


class NotFound(GameError):
    """Something the player named does not exist."""


class NoActiveSeason(GameError):
    def __init__(
        self, message: str = "No season is running here. A moderator can start one with /season start."
    ) -> None:
        super().__init__(message)


class NotEnrolled(GameError):
    def __init__(
        self, message: str = "You are not a citizen of this season yet. Use /join to enrol."
    ) -> None:
        super().__init__(message)


class AlreadyEnrolled(GameError):
    def __init__(self, message: str = "You are already a citizen of this season.") -> None:
        super().__init__(message)


class InsufficientFunds(GameError):
    pass


class NotAllowed(GameError):
    """The rules forbid this action to this citizen (tier, permit, role)."""


class InvalidInput(GameError):
    """A value the player typed is out of range or malformed."""


class Conflict(GameError):
    """The action collides with the current state (already friends, already decided, ...)."""


class OutOfStock(Conflict):
    """The shop has fewer of an item left than the citizen asked for."""


class DurationError(InvalidInput):
    """A duration the player typed cannot be read, or is zero, negative or too long."""


@dataclass(frozen=True, slots=True)
class ScenarioProblem:
    """One thing wrong with a scenario: where (``tiers[2].min_score``, or ``line 3, column 5``) and why."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class ScenarioError(GameError):
    """A scenario pack (a file, or a season's stored copy) was refused.

    ``str(error)`` has one line per problem: ``data/classic.toml: tiers[2].min_score: must be ...``.
    """

    def __init__(self, source: str, problems: Sequence[ScenarioProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


class UnknownScenario(ScenarioError, NotFound):
    """No shipped scenario has that key."""

    def __init__(self, key: str, available: Sequence[str]) -> None:
        self.key = key
        listing = ", ".join(available) or "none"
        super().__init__(
            f"scenario {key!r}", [ScenarioProblem("", f"there is no such scenario; available: {listing}")]
        )
