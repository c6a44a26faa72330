"""What people type, made safe before it reaches the game's rules and tables.

Every text a member or a moderator types (a reason, a display name, an item's name) passes through
here: characters no database should hold are removed (NUL, which PostgreSQL refuses, the other
control characters, lone surrogates, Unicode's noncharacters, and the direction overrides that would
turn the rest of a line around), and runs of white space become one space. Too long or empty is
refused with a code, never cut silently.

Numbers and ids are checked here too: every integer a member types has a range the game states
(Discord enforces the same range on its side, and the tables' columns can hold it), and an id typed
as text must be a Discord snowflake before it is looked up.
"""

from __future__ import annotations

import re
import unicodedata

from game.errors import ErrorCode, InvalidInput

__all__ = [
    "INT32_MAX",
    "MAX_NAME",
    "MAX_REASON",
    "MAX_TYPED_INTEGER",
    "SNOWFLAKE_MAX",
    "check_number",
    "check_snowflake",
    "clean_label",
    "clean_name",
    "clean_reason",
    "clean_text",
    "read_snowflake",
    "storable_text",
]

MAX_REASON = 200
MAX_NAME = 100
# A plain integer column on PostgreSQL (stock, counts) holds at most this.
INT32_MAX = 2**31 - 1
# The largest integer a Discord integer option can carry (what JavaScript numbers hold exactly).
MAX_TYPED_INTEGER = 2**53 - 1
# Discord ids are unsigned 64-bit on Discord's side, and the tables store them as signed BIGINT;
# every real id is far below this.
SNOWFLAKE_MAX = 2**63 - 1

# Bidirectional embeddings, overrides and isolates: in a name they reverse the rest of the line
# (a leaderboard row, a bulletin), so they are dropped. Joiners and variation selectors stay, since
# emoji are built from them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_SNOWFLAKE_TEXT = re.compile(r"[0-9]{1,20}")


def _noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def _kept(char: str) -> bool:
    """Whether a character may be stored: not a control, surrogate, noncharacter or direction override."""
    if char in _BIDI_CONTROLS:
        return False
    category = unicodedata.category(char)
    if category in ("Cc", "Cs"):
        return False
    return not _noncharacter(ord(char))


def _replacement(char: str) -> str:
    if char.isspace() or unicodedata.category(char) == "Cc":
        return " "
    return char if _kept(char) else ""


def clean_text(text: str) -> str:
    """``text`` with the characters no table should hold removed and white space folded to single spaces.

    A control character (NUL, a tab, a line break) counts as a space, so ``"a\\x00b"`` reads ``a b``.
    """
    kept = "".join(_replacement(char) for char in text)
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


def clean_name(display_name: str | None, *, limit: int = MAX_NAME) -> str:
    """A display name as Discord gives it, cleaned and cut to ``limit``; empty when nothing is left.

    Names come from Discord, not from a form the member fills in, so a long one is cut, not refused.
    """
    return clean_text(display_name or "")[:limit].rstrip()


def clean_label(text: str, *, what: str, limit: int = MAX_NAME) -> str:
    """A name or phrase a moderator types (a topic, an item, its description), cleaned.

    ``InvalidInput`` (``TEXT_EMPTY``, ``TEXT_TOO_LONG``, with ``what`` it was) when nothing is left
    or it is longer than ``limit``.
    """
    cleaned = clean_text(text)
    if not cleaned:
        raise InvalidInput(ErrorCode.TEXT_EMPTY, what=what)
    if len(cleaned) > limit:
        raise InvalidInput(ErrorCode.TEXT_TOO_LONG, what=what, limit=limit, length=len(cleaned))
    return cleaned


def check_number(value: int, *, what: str, low: int, high: int) -> int:
    """``value`` when ``low <= value <= high``, else ``InvalidInput(NUMBER_OUT_OF_RANGE)``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(ErrorCode.NUMBER_OUT_OF_RANGE, what=what, low=low, high=high)
    return value


def check_snowflake(value: int) -> int:
    """``value`` when it can be a Discord id (1 to 2**63 - 1), else ``InvalidInput(NOT_A_MEMBER_ID)``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= SNOWFLAKE_MAX:
        raise InvalidInput(ErrorCode.NOT_A_MEMBER_ID, text=str(value))
    return value


def read_snowflake(text: str) -> int | None:
    """The id in ``text`` when it is all digits (``None`` when it is not a number at all).

    ``InvalidInput(NOT_A_MEMBER_ID)`` for digits that no Discord id can be (0, 20 digits above 2**63).
    """
    stripped = text.strip()
    if not _SNOWFLAKE_TEXT.fullmatch(stripped):
        return None
    value = int(stripped)
    if not 0 < value <= SNOWFLAKE_MAX:
        raise InvalidInput(ErrorCode.NOT_A_MEMBER_ID, text=stripped)
    return value


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
