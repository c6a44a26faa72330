"""The game's words for the parts of a score and the causes of a change, shared by every layer.

A scenario pack names dimensions (a catalogue item's ``dimension``), the tables store them, the
report and the bot show them: one enum each, defined here, so the three can never disagree.
"""

from __future__ import annotations

import enum

__all__ = ["Dimension", "SourceKind", "message_ref", "parse_message_ref"]


class Dimension(enum.StrEnum):
    """The parts of a score, as Sesame Credit showed its five."""

    SPEECH = "speech"
    CONSUMPTION = "consumption"
    FINANCE = "finance"
    SOCIAL = "social"
    BUREAU = "bureau"


class SourceKind(enum.StrEnum):
    """What caused a ledger entry."""

    MESSAGE = "message"
    PURCHASE = "purchase"
    FINANCE = "finance"
    FRIEND = "friend"
    MODERATOR = "moderator"
    APPEAL = "appeal"
    DECREE = "decree"


def message_ref(channel_id: int, message_id: int) -> str:
    """How a ledger entry names the message it came from (``source_ref``): ``"<channel>/<message>"``.

    The bot turns it into a link; the game stores only the ids.
    """
    return f"{channel_id}/{message_id}"


def parse_message_ref(source_ref: str) -> tuple[int, int] | None:
    """``(channel_id, message_id)`` of a message ``source_ref`` (also the full links older entries hold)."""
    parts = source_ref.rstrip("/").split("/")
    if len(parts) < 2 or not parts[-1].isdigit() or not parts[-2].isdigit():
        return None
    return int(parts[-2]), int(parts[-1])
