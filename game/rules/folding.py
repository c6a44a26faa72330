"""Folding text before the censor matches it, so that a disguised phrase looks like the phrase.

Text and phrases are folded the same way. A message gives one or two *readings* (strings of words
separated by single spaces); the matcher looks for every phrase, as whole words, in each of them.

The words reading (:func:`fold_words`), used for every message and for its digest:
    1. Characters that change nothing visible are dropped: zero-width spaces and joiners, soft
       hyphens, direction marks, variation selectors (Unicode format characters), and, after NFKD
       decomposition, every combining mark, so accents go ("Tiánanmen" -> "tiananmen").
    2. Letters of other scripts that look like Latin letters or digits become them, from the Unicode
       confusables table (Cyrillic "Тiаnаnmеn" -> "tiananmen"); full-width and other compatibility
       forms were already folded by NFKD. Then the text is case-folded ("Straße" -> "strasse").
    3. Every run of characters that are not letters or digits is a word break; each Chinese
       character or kana is a word of its own (those scripts put no spaces between words).
    4. In a word that mixes letters and digits, the digits are read as the letters they stand for:
       0 o, 1 i, 2 z, 3 e, 4 a, 5 s, 6 g, 7 t, 8 b, 9 g ("T1ananmen", "4th" -> "ath"). A word of
       digits only stays a number ("8964", "1989").
    5. "l" is read as "i" everywhere (1, l, I and | are told apart by no reader).
    6. A letter or digit repeated is read once ("Tiiiananmen", "pooh" -> "poh").

The glued reading (:func:`fold_glued`), only when it differs from the words reading:
    Within a run of non-space characters, punctuation no longer breaks words: it is dropped
    ("t.i.a.n.a.n.m.e.n", "Tian-an_men" -> "tiananmen"), except the symbols written for letters,
    which become them (@ a and $ s anywhere in a word, | i at its start or inside it, ! i, ( c and
    + t only inside it: "h@rmony", "$tock", "politic$", "v0t!ng"); other punctuation around a word
    is dropped ("vote!").
    Then a run of single letters or digits is one word ("t i a n a n m e n" -> "tiananmen"), and
    steps 3 to 6 as above.

A phrase is folded into its words reading, its glued reading, the glued reading of the phrase with
its spaces removed (so "tankman" and "t a n k m a n" are "tank man"), and the readings in which a
word made only of letters that digits stand for is written in digits ("5ou7h ch1n4 534").

What folding deliberately does not do is told in docs/censor.md: it does
not translate or transliterate (no pinyin for Chinese characters, no Latin for a Cyrillic word),
does not guess at letters that look alike only in pairs ("rn" for "m", "vv" for "w"), and does not
match inside words, so "Tianjin", "harmonica" and "voters" are ordinary words.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import unicodedata
from typing import Any

__all__ = ["fold_glued", "fold_words", "phrase_keys", "readings"]

# Digits read as letters inside a word that has letters too (step 4): _DIGIT_LETTERS below.
_DIGIT_OF = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "b": "8", "g": "9", "z": "2"}
# Symbols written for letters, in the glued reading.
_LEET_SYMBOLS = {"@": "a", "$": "s", "|": "i", "!": "i", "(": "c", "+": "t"}


def _ascii_table(*, keep_punctuation: bool) -> bytes:
    """ASCII letters lower-cased ("l" as "i"), digits kept, punctuation kept or made a space, other
    ASCII bytes (spaces, controls) a space; bytes of non-ASCII characters (UTF-8) left alone."""
    table = bytearray(range(256))
    for byte in range(128):
        char = chr(byte)
        if char.isalpha():
            table[byte] = ord("i") if char in "lL" else ord(char.lower())
        elif not char.isdigit() and not (keep_punctuation and not char.isspace()):
            table[byte] = 0x20
    return bytes(table)


_WORD_TABLE = _ascii_table(keep_punctuation=False)
_GLUED_TABLE = _ascii_table(keep_punctuation=True)
_SYMBOL_TABLE = bytes.maketrans("".join(_LEET_SYMBOLS).encode(), "".join(_LEET_SYMBOLS.values()).encode())
_SYMBOL_TRANSLATION = str.maketrans(_LEET_SYMBOLS)
_PUNCTUATION = bytes(b for b in range(128) if not chr(b).isalnum() and not chr(b).isspace())
_PUNCTUATION_NOT_SYMBOLS = bytes(b for b in _PUNCTUATION if chr(b) not in _LEET_SYMBOLS)

# A word (between spaces) mixing letters and digits.
_DIGIT = re.compile(r"[0-9]")
_MIXED = re.compile(r"[a-z][0-9]|[0-9][a-z]")
_MIXED_WORD = re.compile(r"[a-z0-9]*(?:[a-z][0-9]|[0-9][a-z])[a-z0-9]*")
_DIGIT_LETTERS = str.maketrans("0123456789", "oizeasgtbg")
_DIGIT_BYTES = bytes.maketrans(b"0123456789", b"oizeasgtbg")
_REPEAT_BYTES = re.compile(rb"([a-z0-9])\1+")
_REPEAT = re.compile(r"(\w)\1+")
_FIRST_GROUP = operator.methodcaller("group", 1)  # a C-level replacement: no Python call per repeat
# The core of a run of non-space characters: from its first letter or digit (or a leading @ $ |)
# to its last letter or digit (or a trailing @ $).
_CORE = re.compile(r"[@$|]*[^\W_](?:\S*[^\W_])?[@$]*")
# Punctuation inside a word (what the glued reading reads differently), a leading @ $ |, a trailing @ $.
_INSIDE = re.compile(r"[^\W_](?:[^\w\s]|_)+[^\W_]|(?<!\S)[@$|]+[^\W_]|[^\W_][@$]+(?!\S)")
# Symbols that stand for letters only inside a word: ! ( + at the start of a core are punctuation.
_LEADING_PUNCTUATION = re.compile(r"(?<![^\W_])[!(+]+")
# Two or more single letters or digits in a row, as words (the padded form: in " words ").
_SINGLES = re.compile(r"(?<!\S)[a-z0-9](?: [a-z0-9](?!\S))+")
_SINGLES_INSIDE = re.compile(r" [a-z0-9] [a-z0-9](?= |$)")
_SINGLES_FIRST = re.compile(r"[a-z0-9] [a-z0-9](?= |$)")


def _has_singles(words: str) -> bool:
    """Two single letters or digits in a row in ``words`` (words separated by single spaces)."""
    return _SINGLES_FIRST.match(words) is not None or _SINGLES_INSIDE.search(words) is not None


# Han ideographs and kana: written without spaces, so each character is a word of its own.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_NON_WORD = re.compile(r"[\W_]+")
_NON_WORD_NOT_SPACE = re.compile(r"[^\w\s]|_")


def _confusable_of(char: str) -> str | None:
    """The ASCII letter or digit that ``char`` is listed as looking like, if any (a few steps away)."""
    from confusable_homoglyphs.confusables import confusables_data

    seen = {char}
    frontier = [char]
    for _ in range(3):
        found: list[str] = []
        for candidate in frontier:
            for glyph in confusables_data.get(candidate, ()):
                text: str = glyph["c"]
                if len(text) != 1 or text in seen:
                    continue
                if text.isascii() and text.isalnum():
                    return text
                seen.add(text)
                found.append(text)
        frontier = found
    return None


class _CharacterTable(dict[int, Any]):
    """What each non-ASCII character becomes (step 1 and 2), worked out the first time it is seen."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        dropped = unicodedata.category(char) in ("Mn", "Me", "Cf")
        result = None if dropped else _confusable_of(char) or char
        self[code] = result
        return result


_CHARACTERS = _CharacterTable({code: chr(code) for code in range(128)})


@functools.lru_cache(maxsize=1024)
def _visible(text: str) -> str:
    """Steps 1 and 2 for text that is not plain ASCII."""
    decomposed = unicodedata.normalize("NFKD", text).translate(_CHARACTERS).casefold()
    return decomposed if decomposed.isascii() else decomposed.translate(_CHARACTERS)


def _squeeze_and_split(text: str) -> str:
    """Steps 4 and 6, then single spaces: ``text`` is words (any letters) separated by spaces."""
    if _DIGIT.search(text) is not None and _MIXED.search(text) is not None:
        text = _MIXED_WORD.sub(_read_digits, text)
    return " ".join(_REPEAT.sub(_FIRST_GROUP, text).split())


def _read_digits(match: re.Match[str]) -> str:
    return match.group().translate(_DIGIT_LETTERS)


class _AsciiWords(dict[bytes, bytes]):
    """Steps 4 and 6 for one ASCII word of letters and digits, remembered: chat repeats its words,
    so most words of a message are looked up, not folded again."""

    def __missing__(self, word: bytes) -> bytes:
        if len(self) >= 100_000:
            self.clear()
        folded = word
        if not (word.isalpha() or word.isdigit()):
            folded = word.translate(_DIGIT_BYTES)
        folded = _REPEAT_BYTES.sub(_FIRST_GROUP, folded)
        self[word] = folded
        return folded


_ASCII_WORDS = _AsciiWords()


def _ascii_words(data: bytes) -> str:
    """Steps 4 and 6 for ASCII letters, digits and spaces, then single spaces."""
    return b" ".join(map(_ASCII_WORDS.__getitem__, data.split())).decode("ascii")


def readings(text: str) -> tuple[str, str | None]:
    """The words reading of ``text`` and, if it differs, its glued reading (the module docstring
    says what each is). The one entry point for messages: each is folded once."""
    if not text.isascii():
        text = _visible(text)
        if not text.isascii():
            words = _words_unicode(text)
            glued = _glued_unicode(text) if _may_glue(text, words) else words
            return words, None if glued == words else glued
    data = text.encode("ascii")
    words = _ascii_words(data.translate(_WORD_TABLE))
    # Only punctuation inside a word or single letters in a row can give another reading.
    if len(data.translate(None, _PUNCTUATION)) == len(data):
        if not _has_singles(words):
            return words, None
    elif not _may_glue(text, words):
        return words, None
    glued = _glued_ascii(data)
    return words, None if glued == words else glued


def _may_glue(text: str, words: str) -> bool:
    return _INSIDE.search(text) is not None or _has_singles(words)


def fold_words(text: str) -> str:
    """The words reading of ``text`` (see the module docstring): ``"T1ananmen!"`` -> ``"tiananmen"``."""
    if not text.isascii():
        text = _visible(text)
        if not text.isascii():
            return _words_unicode(text)
    return _ascii_words(text.encode("ascii").translate(_WORD_TABLE))


def fold_glued(text: str) -> str:
    """The glued reading of ``text`` (see the module docstring): ``"t.i.a.n"`` -> ``"tian"``."""
    if not text.isascii():
        text = _visible(text)
        if not text.isascii():
            return _glued_unicode(text)
    return _glued_ascii(text.encode("ascii"))


def _glued_ascii(data: bytes) -> str:
    text = data.translate(_GLUED_TABLE).decode("ascii")
    cores = " ".join(_CORE.findall(_LEADING_PUNCTUATION.sub(" ", text))).encode("ascii")
    glued = cores.translate(_SYMBOL_TABLE, _PUNCTUATION_NOT_SYMBOLS).decode("ascii")
    return _ascii_words(_join_singles(glued).encode("ascii"))


def _words_unicode(text: str) -> str:
    """The words reading of case-folded text (the general path; for ASCII it agrees with the fast one)."""
    return _finish_unicode(_NON_WORD.sub(" ", text))


def _glued_unicode(text: str) -> str:
    """The glued reading of case-folded text (the general path)."""
    cores = " ".join(_CORE.findall(_LEADING_PUNCTUATION.sub(" ", text)))
    return _finish_unicode(_join_singles(_NON_WORD_NOT_SPACE.sub("", cores.translate(_SYMBOL_TRANSLATION))))


def _join_singles(text: str) -> str:
    """Single letters or digits in a row, as words, made one word."""
    text = " ".join(text.split())
    if not _has_singles(text):
        return text
    return _SINGLES.sub(lambda match: match.group().replace(" ", ""), text)


def _finish_unicode(text: str) -> str:
    """Steps 3 (for Chinese characters and kana) to 6 for words that are not all ASCII."""
    words: list[str] = []
    for word in text.split():
        if word.isascii():
            words.append(word.encode("ascii").translate(_WORD_TABLE).decode("ascii"))
        elif _UNSPACED_CHAR.search(word):
            # A character repeated is read once here too, before each becomes a word of its own.
            words += _UNSPACED_CHAR.sub(r" \g<0> ", _REPEAT.sub(_FIRST_GROUP, word)).split()
        else:
            words.append(word.replace("l", "i"))
    return _squeeze_and_split(" ".join(words))


def _digit_spellings(words: list[str]) -> list[str]:
    """The phrase with each word made only of letters that digits stand for, also in digits."""
    choices: list[tuple[str, ...]] = []
    for word in words:
        if len(word) <= 6 and all(letter in _DIGIT_OF for letter in word):
            choices.append((word, "".join(_DIGIT_OF[letter] for letter in word)))
        else:
            choices.append((word,))
    return [
        " ".join(spelling)
        for spelling in itertools.islice(itertools.product(*choices), 1, 16)
        if any(word.isalpha() for word in spelling)  # never a phrase of numbers only
    ]


def phrase_keys(phrase: str) -> list[str]:
    """Every folded form of ``phrase`` the matcher looks for (see the module docstring), first the
    words reading; without duplicates."""
    words = fold_words(phrase)
    parts = words.split()
    # A repeat across two words is read once when they are glued ("positive energy" is
    # "positivenergy"), but a phrase glued must not become a part of itself: "a a" is not "a".
    parts_of_it = {
        form
        for start in range(len(parts))
        for end in range(start + 1, len(parts) + 1)
        if end - start < len(parts)
        for form in (" ".join(parts[start:end]), fold_glued("".join(parts[start:end])))
    }
    glued = (fold_glued(phrase), fold_glued("".join(phrase.split())))
    keys = [words, *(key for key in glued if key not in parts_of_it)]
    keys += _digit_spellings(parts)
    return [key for key in dict.fromkeys(keys) if key]
