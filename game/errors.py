"""Domain failures, named for what went wrong.

Each carries a sentence meant for the player; the bot shows it as it is. Nothing here knows about
Discord.
"""

from __future__ import annotations


class GameError(Exception):
    """A rule of the game refused an action. ``str(error)`` is a sentence for the player."""


class NotFound(GameError):
    """Something the player named does not exist."""


class NoActiveSeason(GameError):
    def __init__(self, message: str = "No season is running here. A moderator can start one with /season start.") -> None:
        super().__init__(message)


class NotEnrolled(GameError):
    def __init__(self, message: str = "You are not a citizen of this season yet. Use /join to enrol.") -> None:
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
