"""What every handler reads: the engine, the settings, the clock, the cache and the templates."""

from __future__ import annotations

from dataclasses import dataclass, field

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from game.clock import Clock
from web.cache import PageCache
from web.config import WebConfig

__all__ = ["WEB_STATE", "Cached", "WebState"]


@dataclass(frozen=True, slots=True)
class Cached:
    """A response as the cache keeps it."""

    status: int
    body: bytes
    content_type: str
    etag: str | None = None


@dataclass(slots=True, kw_only=True)
class WebState:
    engine: AsyncEngine
    config: WebConfig
    clock: Clock
    templates: jinja2.Environment
    cache: PageCache[Cached] = field(init=False)

    def __post_init__(self) -> None:
        self.cache = PageCache(self.config.cache_seconds)

    def forget(self, guild_id: int) -> None:
        """Drop the guild's cached pages (a citizen left, the pages were switched)."""
        self.cache.invalidate(guild_id)


WEB_STATE = web.AppKey("citizen_score_web", WebState)
