"""What people type, made safe before it reaches the game's rules and tables.

Every text a member or a moderator types (a reason, a display name) passes through here: runs of
white space become one space, and characters no database should hold are removed (NUL, which
PostgreSQL refuses, and the other control characters). Too long or empty is refused with a code,
never cut silently.
"""

from __future__ import annotations

from game.errors import ErrorCode, InvalidInput

__all__ = ["MAX_REASON", "clean_reason", "clean_text"]

MAX_REASON = 200


def clean_text(text: str) -> str:
    """``text`` with control characters removed and white space folded to single spaces."""
    kept = "".join(char if char.isprintable() or char.isspace() else " " for char in text)
    return " ".join(kept.split())


def clean_reason(reason: str, *, purpose: str, limit: int = MAX_REASON) -> str:
    """A reason as typed, cleaned; ``InvalidInput`` when empty or longer than ``limit``.

    ``purpose`` (``adjustment``, ``appeal``, ``permit``) tells the player what the reason was for.
    """
    text = clean_text(reason)
    if not text:
        raise InvalidInput(ErrorCode.REASON_EMPTY, purpose=purpose)
    if len(text) > limit:
        raise InvalidInput(ErrorCode.REASON_TOO_LONG, limit=limit, length=len(text))
    return text


def storable_text(text: str) -> str:
    """``text`` as both databases can hold it, otherwise untouched (a chat message keeps its lines):
    without NUL, which PostgreSQL refuses, and without lone surrogates, which are not Unicode text
    and which neither driver can encode. Cheap for the usual message (one scan when it is ASCII)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = "".join(char for char in text if not "\ud800" <= char <= "\udfff")
    return text.replace("\x00", "") if "\x00" in text else text
