"""Images the bot posts: the score card (``/brag``, ``/score``) and the history chart (``/history``).

Plain values in, PNG bytes out; nothing here imports Discord. Rendering is CPU work: call it from
a worker thread (``asyncio.to_thread``) so the event loop keeps answering.
"""

from bot.images._card import CARD_SIZE, ScoreCardData, render_score_card
from bot.images._history import HISTORY_CHART_SIZE, HistoryPoint, render_history_chart

__all__ = [
    "CARD_SIZE",
    "HISTORY_CHART_SIZE",
    "HistoryPoint",
    "ScoreCardData",
    "render_history_chart",
    "render_score_card",
]
