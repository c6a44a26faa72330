"""The HTML pages: readable without JavaScript; ``live.js`` refreshes the leaderboard after audits."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from game.db import reading
from game.report import render_html
from game.report.build import build_report_data
from game.services import public
from game.services.public import PublicBoard
from game.services.queries import LeaderboardOrder
from web.loading import Paging, answer, guild_of, made, number_of, paging, read_board, read_enabled, state_of
from web.render import render
from web.signing import verify_debrief
from web.state import Cached

__all__ = ["DEBRIEF_POLICY", "add_routes"]

log = logging.getLogger(__name__)
HTML = "text/html"
# The debrief is one self-contained document: inline styles and data: images, no script at all.
DEBRIEF_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def _not_found(request: web.Request) -> Cached:
    return made(404, render(state_of(request).templates, "not_found.html"), HTML)


def _missing(request: web.Request) -> web.Response:
    cached = _not_found(request)
    return web.Response(status=404, body=cached.body, content_type=HTML, charset="utf-8")


def _link(path: str, board: PublicBoard, name: str, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return f"{path}?{urlencode({'order': board.order.value, name: cursor})}"


async def leaderboard(request: web.Request) -> web.Response:
    guild_id = guild_of(request)
    season_number = number_of(request, "season")
    if guild_id is None or (season_number is None and "season" in request.match_info):
        return _missing(request)
    query = paging(request)
    if isinstance(query, str):
        raise web.HTTPBadRequest(text=query + "\n")
    return await answer(
        request, guild_id, ("board", season_number, *query), _board(request, guild_id, season_number, query)
    )


def _board(request: web.Request, guild_id: int, season_number: int | None, query: Paging) -> Any:
    state = state_of(request)
    order, after, before = query

    async def make() -> Cached:
        board = await read_board(state, guild_id, season_number, order=order, after=after, before=before)
        if board is None:
            return _not_found(request)
        path = request.path
        api = "/api" + path + ("?" + request.query_string if request.query_string else "")
        cards = f"/g/{guild_id}" + (f"/seasons/{season_number}" if season_number is not None else "")
        html = render(
            state.templates,
            "leaderboard.html",
            guild_id=guild_id,
            board=board,
            live=season_number is None,
            api=api,
            poll_ms=int(state.config.poll_seconds * 1000),
            cards=cards,
            path=path,
            other=LeaderboardOrder.BOTTOM if order is LeaderboardOrder.TOP else LeaderboardOrder.TOP,
            next_link=_link(path, board, "after", board.next_after),
            prev_link=_link(path, board, "before", board.prev_before),
        )
        return made(200, html, HTML)

    return make


async def card(request: web.Request) -> web.Response:
    guild_id = guild_of(request)
    number = number_of(request, "number")
    season_number = number_of(request, "season")
    if guild_id is None or number is None or (season_number is None and "season" in request.match_info):
        return _missing(request)
    state = state_of(request)

    async def make() -> Cached:
        found = await read_enabled(
            state,
            guild_id,
            lambda session: public.card(
                session, guild_id=guild_id, number=number, season_number=season_number, now=state.clock.now()
            ),
        )
        if found is None:
            return _not_found(request)
        base = f"/g/{guild_id}" + (f"/seasons/{season_number}" if season_number is not None else "")
        html = render(state.templates, "card.html", guild_id=guild_id, card=found, base=base)
        return made(200, html, HTML)

    return await answer(request, guild_id, ("card", season_number, number), make)


async def seasons(request: web.Request) -> web.Response:
    guild_id = guild_of(request)
    if guild_id is None:
        return _missing(request)
    state = state_of(request)

    async def make() -> Cached:
        listed = await read_enabled(
            state, guild_id, lambda session: public.season_list(session, guild_id=guild_id)
        )
        if listed is None:
            return _not_found(request)
        return made(200, render(state.templates, "seasons.html", guild_id=guild_id, seasons=listed), HTML)

    return await answer(request, guild_id, ("seasons",), make)


async def debrief(request: web.Request) -> web.Response:
    """The season's debrief, for whoever holds a link the bot signed that has not expired."""
    guild_id = guild_of(request)
    season_number = number_of(request, "season")
    state = state_of(request)
    if guild_id is None or season_number is None:
        return _missing(request)
    signed = verify_debrief(
        state.config.secret,
        guild_id=guild_id,
        season_number=season_number,
        expires=request.query.get("expires", ""),
        signature=request.query.get("sig", ""),
        now=state.clock.now(),
    )
    if not signed:
        return _missing(request)
    async with reading(state.engine) as session:
        if not await public.pages_enabled(session, guild_id=guild_id):
            return _missing(request)
        season_id = await public.season_id(session, guild_id=guild_id, number=season_number)
        if season_id is None:
            return _missing(request)
        data = await build_report_data(session, season_id)
    # Charts are drawn here: off the event loop, so other pages and the bot keep being served.
    html = await asyncio.to_thread(render_html, data)
    return web.Response(
        text=html,
        content_type=HTML,
        headers={"Content-Security-Policy": DEBRIEF_POLICY, "Cache-Control": "private, no-store"},
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/g/{guild}", leaderboard)
    router.add_get("/g/{guild}/c/{number}", card)
    router.add_get("/g/{guild}/seasons", seasons)
    router.add_get("/g/{guild}/seasons/{season}", leaderboard)
    router.add_get("/g/{guild}/seasons/{season}/c/{number}", card)
    router.add_get("/g/{guild}/seasons/{season}/debrief", debrief)
