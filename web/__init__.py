"""The public web pages: the leaderboard, citizen cards and past seasons, in a browser.

An aiohttp application over the game's read services (:mod:`game.services.public`); it imports the
game and nothing of the Discord adapter. :func:`create_app` builds it, :func:`start_site` serves it
from a running event loop (the bot's, or its own under ``citizen-score web``).
"""

from __future__ import annotations

from web.app import WEB_STATE, WebState, create_app, start_site
from web.config import WebConfig
from web.signing import debrief_path, sign_debrief, verify_debrief

__all__ = [
    "WEB_STATE",
    "WebConfig",
    "WebState",
    "create_app",
    "debrief_path",
    "sign_debrief",
    "start_site",
    "verify_debrief",
]
