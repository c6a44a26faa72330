"""From the game's answers to the pictures: the score card and the history chart, rendered off the loop."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable, Sequence

import discord

from bot.images import HistoryPoint, ScoreCardData, render_history_chart, render_score_card
from game.report import TierBand
from game.scenario import Scenario
from game.services import queries
from game.services.citizens import CitizenCard

log = logging.getLogger(__name__)

CARD_FILE = "score-card.png"
HISTORY_FILE = "score-history.png"
# How many past scores the card's sparkline shows.
SPARKLINE_POINTS = 12


def recent_change(history: Sequence[queries.HistoryPoint]) -> int | None:
    """The last move of the score, or ``None`` before the first one."""
    if len(history) < 2:
        return None
    return history[-1].score - history[-2].score


def card_data(
    card: CitizenCard, scenario: Scenario, history: Sequence[queries.HistoryPoint]
) -> ScoreCardData:
    return ScoreCardData(
        display_name=card.citizen.display_name,
        citizen_number=card.citizen.number,
        score=card.citizen.score,
        tier_name=card.citizen.tier_name,
        recent_scores=tuple(point.score for point in history[-SPARKLINE_POINTS:]),
        change_since_last_audit=recent_change(history),
        season_name=f"Season {card.season_number}",
        scenario_name=scenario.name,
        score_floor=scenario.score.minimum,
        score_ceiling=scenario.score.maximum,
    )


def tier_bands(scenario: Scenario) -> tuple[TierBand, ...]:
    return tuple(
        TierBand(name=tier.name, min_score=tier.min_score, max_score=tier.max_score)
        for tier in scenario.tiers
    )


async def _render(what: str, render: Callable[..., bytes], *args: object, **kwargs: object) -> bytes | None:
    # A picture is a courtesy: if drawing fails the reply still goes out, without it.
    try:
        return await asyncio.to_thread(render, *args, **kwargs)
    except Exception:
        log.exception("could not draw the %s", what)
        return None


async def card_file(data: ScoreCardData) -> discord.File | None:
    png = await _render("score card", render_score_card, data)
    return None if png is None else discord.File(io.BytesIO(png), filename=CARD_FILE)


async def history_file(
    history: Sequence[queries.HistoryPoint], *, title: str, scenario: Scenario
) -> discord.File | None:
    points = [HistoryPoint(at=point.at, score=point.score) for point in history]
    png = await _render(
        "history chart",
        render_history_chart,
        points,
        title=title,
        tiers=tier_bands(scenario),
        score_floor=scenario.score.minimum,
        score_ceiling=scenario.score.maximum,
        start_score=scenario.score.start,
    )
    return None if png is None else discord.File(io.BytesIO(png), filename=HISTORY_FILE)
