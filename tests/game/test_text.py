"""How numbers and names are written: one ``signed`` and one ``truncate`` for the bot and the debrief."""

from __future__ import annotations

import pytest

from game import text


@pytest.mark.parametrize(
    ("delta", "shown"), [(5, "+5"), (1200, "+1,200"), (-12, "\N{MINUS SIGN}12"), (0, "\N{PLUS-MINUS SIGN}0")]
)
def test_signed_always_shows_the_sign(delta: int, shown: str) -> None:
    assert text.signed(delta) == shown


@pytest.mark.parametrize(
    ("value", "limit", "shown"),
    [
        ("Ana", 5, "Ana"),
        ("Esperanza", 9, "Esperanza"),
        ("Esperanza", 5, "Espe…"),
        ("Bo and co", 7, "Bo and…"),
        ("ab", 0, "…"),
    ],
)
def test_truncate_cuts_with_an_ellipsis(value: str, limit: int, shown: str) -> None:
    assert text.truncate(value, limit) == shown
