"""The transformations players use to hide a phrase from the censor, each a plain function.

Every evasion test takes every phrase of every pack through every transformation below (and a few
combinations), and puts the result in an ordinary sentence.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

LEET = str.maketrans("aeiostAEIOST", "431057431057")
SYMBOLS = str.maketrans("asAS", "@$@$")
CYRILLIC = str.maketrans("aeopcxyiTHMKBAEOPCX", "аеорсхуіТНМКВАЕОРСХ")
GREEK = str.maketrans("oiavpuOIA", "οιανρυΟΙΑ")
ACCENTS = str.maketrans("aeiounc", "áéíöüñç")


def _letters(phrase: str, join: str) -> str:
    """Each word's letters joined by ``join``; words still apart."""
    return " ".join(join.join(word) for word in phrase.split())


def _first(table: dict[int, str]) -> Callable[[str], str]:
    """Only the first letter of the phrase that ``table`` changes is changed ("T1ananmen")."""

    def change(phrase: str) -> str:
        for index, char in enumerate(phrase):
            if ord(char) in table:
                return phrase[:index] + char.translate(table) + phrase[index + 1 :]
        return phrase

    return change


def _between_letters(mark: str) -> Callable[[str], str]:
    return lambda phrase: " ".join(mark.join(word) for word in phrase.split())


def _alternate_case(phrase: str) -> str:
    return "".join(c.upper() if n % 2 else c.lower() for n, c in enumerate(phrase))


def _fullwidth(phrase: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in phrase)


def _split_word(phrase: str) -> str:
    """A separator in the middle of each longer word: "Tian_anmen"."""
    return " ".join(w[: len(w) // 2] + "_" + w[len(w) // 2 :] if len(w) > 3 else w for w in phrase.split())


TRANSFORMATIONS: dict[str, Callable[[str], str]] = {
    "as written": lambda p: p,
    "upper case": str.upper,
    "alternating case": _alternate_case,
    "leet, every letter (a4 e3 i1 o0 s5 t7)": lambda p: p.translate(LEET),
    "leet, one letter": _first(LEET),
    "symbols for letters (@ $)": lambda p: p.translate(SYMBOLS),
    "Cyrillic look-alikes, every letter": lambda p: p.translate(CYRILLIC),
    "Cyrillic look-alike, one letter": _first(CYRILLIC),
    "Greek look-alikes": lambda p: p.translate(GREEK),
    "accents, composed": lambda p: p.translate(ACCENTS),
    "accents, combining marks": lambda p: unicodedata.normalize("NFD", p.translate(ACCENTS)),
    "combining mark after every letter": _between_letters("\u0301"),
    "zero-width space between letters": _between_letters("\u200b"),
    "zero-width joiner between letters": _between_letters("\u200d"),
    "soft hyphen between letters": _between_letters("\u00ad"),
    "word joiner between letters": _between_letters("\u2060"),
    "doubled letters": lambda p: "".join(c * 2 if c.isalpha() else c for c in p),
    "tripled vowels": lambda p: "".join(c * 3 if c in "aeiouAEIOU" else c for c in p),
    "dots between letters": lambda p: _letters(p, "."),
    "hyphens between letters": lambda p: _letters(p, "-"),
    "spaces between letters": lambda p: _letters(p, " "),
    "separator inside a word": _split_word,
    "full-width letters": _fullwidth,
    "words glued together": lambda p: "".join(p.split()),
    "leet and zero-width": lambda p: _between_letters("\u200b")(_first(LEET)(p)),
    "Cyrillic and doubled": lambda p: "".join(c * 2 if c.isalpha() else c for c in p.translate(CYRILLIC)),
    "spaced-out leet": lambda p: _letters(p.translate(LEET), " "),
    "dotted accents": lambda p: _letters(p.translate(ACCENTS), "."),
    "symbols and doubled vowels": lambda p: "".join(
        c * 2 if c in "eiou" else c for c in p.translate(SYMBOLS)
    ),
}

CARRIERS = (
    "{}",
    "did you hear about {} yesterday",
    "lol {}!!",
    "ok so... {}, anyway",
    "my cousin keeps saying {} at dinner",
)


def evasions(phrase: str) -> list[tuple[str, str]]:
    """(transformation, message) for every transformation of ``phrase``."""
    return [
        (name, CARRIERS[n % len(CARRIERS)].format(change(phrase)))
        for n, (name, change) in enumerate(TRANSFORMATIONS.items())
    ]
