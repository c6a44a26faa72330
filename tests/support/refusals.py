"""Asserting what the game refused: the error's kind, its code and the facts it carries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from game.errors import ErrorCode, GameError


@contextmanager
def refused(
    kind: type[GameError], code: ErrorCode, **params: Any
) -> Iterator[pytest.ExceptionInfo[GameError]]:
    """Expect the block to raise ``kind`` with ``code`` and at least these ``params``."""
    with pytest.raises(kind) as caught:
        yield caught
    error = caught.value
    assert error.code is code, f"expected {code}, got {error.code} {error.params}"
    for name, value in params.items():
        assert error.params.get(name) == value, f"{name}: expected {value!r}, got {error.params.get(name)!r}"
