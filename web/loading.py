"""What the handlers share: reading the path and the query, reading the game, caching, answering.

Every read is one read transaction (:func:`game.db.reading`) that first checks the guild has turned
its pages on; when it has not, the answer is ``None`` and the handler says "not found", exactly as
for a guild, season or citizen that does not exist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from game.db import reading
from game.errors import InvalidInput
from game.services import public
from game.services.public import pages_enabled
from game.services.queries import LeaderboardCursor, LeaderboardOrder
from web.state import WEB_STATE, Cached, WebState

__all__ = ["Paging", "answer", "guild_of", "number_of", "paging", "read_enabled", "state_of"]

T = TypeVar("T")
MAX_ID = 2**63 - 1
Paging = tuple[LeaderboardOrder, LeaderboardCursor | None, LeaderboardCursor | None]


def state_of(request: web.Request) -> WebState:
    return request.app[WEB_STATE]


def _whole(text: str) -> int | None:
    if not text.isdigit() or len(text) > 20:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def guild_of(request: web.Request) -> int | None:
    return _whole(request.match_info["guild"])


def number_of(request: web.Request, name: str) -> int | None:
    text = request.match_info.get(name)
    return None if text is None else _whole(text)


def paging(request: web.Request) -> Paging | str:
    """``(order, after, before)`` from the query, or the sentence saying what is wrong with it."""
    query = request.query
    try:
        order = LeaderboardOrder(query.get("order", "top"))
    except ValueError:
        return "order must be top or bottom."
    cursors: list[LeaderboardCursor | None] = []
    for name in ("after", "before"):
        text = query.get(name)
        if text is None:
            cursors.append(None)
            continue
        try:
            cursors.append(LeaderboardCursor.parse(text))
        except InvalidInput:
            return f"{name} must be a cursor from a page's links, like 600:42."
    after, before = cursors
    if after is not None and before is not None:
        return "give after or before, not both."
    return order, after, before


async def read_enabled(
    state: WebState, guild_id: int, work: Callable[[AsyncSession], Awaitable[T | None]]
) -> T | None:
    async with reading(state.engine) as session:
        if not await pages_enabled(session, guild_id=guild_id):
            return None
        return await work(session)


def made(status: int, body: str | bytes, content_type: str) -> Cached:
    data = body.encode() if isinstance(body, str) else body
    etag = f'"{hashlib.blake2b(data, digest_size=12).hexdigest()}"' if status == 200 else None
    return Cached(status=status, body=data, content_type=content_type, etag=etag)


def respond(request: web.Request, cached: Cached) -> web.Response:
    headers = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if cached.etag is not None:
        headers["ETag"] = cached.etag
        if cached.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
    return web.Response(
        status=cached.status,
        body=cached.body,
        headers=headers,
        content_type=cached.content_type,
        charset="utf-8",
    )


async def answer(
    request: web.Request, guild_id: int, key: Hashable, make: Callable[[], Awaitable[Cached]]
) -> web.Response:
    """The cached response for ``key`` in the guild's pages (made by ``make`` when there is none)."""
    return respond(request, await state_of(request).cache.get(guild_id, key, make))


async def read_board(
    state: WebState,
    guild_id: int,
    season_number: int | None,
    *,
    order: LeaderboardOrder,
    after: LeaderboardCursor | None,
    before: LeaderboardCursor | None,
) -> Any:
    """A leaderboard page for the HTML and the JSON alike, or ``None`` when the pages are off."""
    return await read_enabled(
        state,
        guild_id,
        lambda session: public.board(
            session, guild_id=guild_id, season_number=season_number, order=order, after=after, before=before
        ),
    )
