"""Every refusal the game can make has a sentence, and the sentences stay safe with hostile facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.refusals import SENTENCES, refusal_text
from game.errors import ErrorCode, GameError
from game.rules.economy import RefusalReason

HOSTILE = "<@123456789012345678> **bold** @everyone"
# Facts a refusal may carry, as the game fills them in (names hostile on purpose).
FACTS: dict[str, object] = {
    "number": 3,
    "action": "join",
    "what": "scores",
    "maximum": timedelta(weeks=52),
    "floor": timedelta(seconds=10),
    "scenario": HOSTILE,
    "interval": timedelta(hours=1),
    "duration": timedelta(minutes=30),
    "purpose": "appeal",
    "total_pages": 2,
    "limit": 200,
    "length": 2_000,
    "span": 600,
    "reasons": HOSTILE,
    "low": 1,
    "high": 1_000,
    "entry_id": 12,
    "status": "pending",
    "item": HOSTILE,
    "refusal": RefusalReason.TIER_TOO_LOW,
    "tier": "Ordinary",
    "needed_tier": "Visa",
    "left": 3,
    "balance": 40,
    "total": 60,
    "quantity": 2,
    "name": HOSTILE,
    "topic": HOSTILE,
    "decree": HOSTILE,
    "choices": ("politics", "economy"),
    "topic_name": HOSTILE,
    "until": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    "text": HOSTILE,
    "source": "upload.toml",
    "problems": (HOSTILE,),
    "key": HOSTILE,
    "available": ("classic",),
}


def test_every_code_has_a_sentence() -> None:
    assert set(SENTENCES) == set(ErrorCode)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_a_sentence_never_pings_or_formats_what_a_member_typed(code: ErrorCode) -> None:
    text = refusal_text(GameError(code, **FACTS))
    assert text
    assert len(text) < 2_000
    assert "<@123456789012345678>" not in text
    assert "@everyone" not in text.replace("@\u200beveryone", "")
    assert "**bold**" not in text
    assert not text.startswith(code.value)


@pytest.mark.parametrize("code", [c for c in ErrorCode if c.name.startswith("DURATION_")])
def test_every_duration_refusal_shows_an_example_to_copy(code: ErrorCode) -> None:
    assert "15m" in refusal_text(GameError(code, **{**FACTS, "number": "15"}))
