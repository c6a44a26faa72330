"""How numbers and names are written for people, the same in chat and in the debrief.

Presentation only: the game decides the values, these say them (a true minus sign, a sign on every
change, an ellipsis where a text is cut to fit).
"""

from __future__ import annotations

__all__ = ["MINUS", "signed", "truncate"]

# A true minus sign: on a phone a hyphen before a number is easy to miss.
MINUS = "\N{MINUS SIGN}"


def signed(delta: int) -> str:
    """A change with its sign always shown: ``+5``, ``−1,200``, ``±0``."""
    if delta > 0:
        return f"+{delta:,}"
    if delta < 0:
        return f"{MINUS}{-delta:,}"
    return "\N{PLUS-MINUS SIGN}0"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` (at least 1) characters, ending in an ellipsis when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "\N{HORIZONTAL ELLIPSIS}"
