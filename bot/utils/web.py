"""The bot's side of the public pages: serving them from this process, and the links it hands out.

With ``WEB_PORT`` set the bot serves the pages itself and empties their cache whenever the game
changes in a guild (a citizen left, the pages were switched). Links go out only where the guild has
turned its pages on and the bot knows where they are (``PUBLIC_URL``, else this process's server).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from game.db import reading
from game.services import public
from web import WEB_STATE, WebConfig, create_app, debrief_path, start_site

if TYPE_CHECKING:
    from bot.client import CitizenBot
    from bot.settings import Settings

__all__ = ["debrief_link", "link_button", "page_link", "serve_pages", "web_config"]

log = logging.getLogger(__name__)


def web_config(settings: Settings) -> WebConfig:
    return WebConfig(
        host=settings.web_host,
        port=settings.web_port or 8080,
        public_url=settings.public_url,
        secret=settings.web_secret.get_secret_value() if settings.web_secret else None,
    )


def _has_pages(settings: Settings) -> bool:
    return settings.web_port is not None or settings.public_url is not None


async def serve_pages(bot: CitizenBot) -> None:
    """Start the web server in this process when ``WEB_PORT`` is set (stopped when the bot closes)."""
    if bot.settings.web_port is None:
        return
    config = web_config(bot.settings)
    app = create_app(bot.engine, config, clock=bot.clock)
    bot.on_game_state_change(app[WEB_STATE].forget)
    runner = await start_site(app, config)
    bot.on_close(runner.cleanup)


async def page_link(bot: CitizenBot, guild_id: int, path: str = "") -> str | None:
    """``PUBLIC_URL/g/<guild><path>`` when the guild's pages are on, else ``None``."""
    if not _has_pages(bot.settings):
        return None
    async with reading(bot.engine) as session:
        if not await public.pages_enabled(session, guild_id=guild_id):
            return None
    return web_config(bot.settings).url(f"/g/{guild_id}{path}")


def debrief_link(bot: CitizenBot, *, guild_id: int, season_number: int, expires_at: datetime) -> str | None:
    """The signed link to a season's debrief, valid until ``expires_at`` (``None`` without a secret)."""
    config = web_config(bot.settings)
    if not _has_pages(bot.settings) or not config.secret:
        return None
    return config.url(
        debrief_path(config.secret, guild_id=guild_id, season_number=season_number, expires_at=expires_at)
    )


def link_button(url: str, label: str = "Open in a browser") -> discord.ui.Button[discord.ui.View]:
    return discord.ui.Button(
        style=discord.ButtonStyle.link, label=label, url=url, emoji="\N{GLOBE WITH MERIDIANS}"
    )
