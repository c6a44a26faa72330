"""The application: its routes and its server (its state is in :mod:`web.state`).

Routes (``<g>`` a Discord server id, ``<n>`` a number):

* ``/g/<g>``: the season's leaderboard; ``?order=top|bottom``, ``&after=`` / ``&before=`` a cursor;
* ``/g/<g>/c/<n>``: citizen ``n``'s card; ``/g/<g>/seasons`` and ``/g/<g>/seasons/<n>`` (its final
  standings, paged the same way), ``/g/<g>/seasons/<n>/c/<n>`` (a card in that season);
* ``/g/<g>/seasons/<n>/debrief?expires=&sig=``: the moderators' debrief, by signed link only;
* the same data as JSON under ``/api/g/<g>...``; ``/static/...``; ``/healthz``.

A server that has not turned its pages on answers every one of these with the same 404 as a
server that does not exist.
"""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from game.clock import Clock, SystemClock
from web import api, pages
from web.config import WebConfig
from web.render import environment
from web.security import RateLimits, security_headers
from web.state import WEB_STATE, Cached, WebState

__all__ = ["WEB_STATE", "Cached", "WebState", "create_app", "start_site"]

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def create_app(
    engine: AsyncEngine, config: WebConfig | None = None, *, clock: Clock | None = None
) -> web.Application:
    config = config or WebConfig()
    limits = RateLimits(config.rate, config.rate_period, trusted_proxy=config.trusted_proxy)
    app = web.Application(middlewares=[security_headers, limits.middleware])
    app[WEB_STATE] = WebState(
        engine=engine, config=config, clock=clock or SystemClock(), templates=environment()
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static/", STATIC, append_version=False)
    pages.add_routes(app.router)
    api.add_routes(app.router)
    return app


async def start_site(app: web.Application, config: WebConfig) -> web.AppRunner:
    """Serve ``app`` on ``config.host:config.port`` from the running event loop; ``cleanup()`` the
    runner to stop."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    log.info("Public pages on http://%s:%s (links: %s)", config.host, config.port, config.base_url)
    return runner
