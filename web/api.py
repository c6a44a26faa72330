"""The pages' data as JSON, under ``/api`` (the README documents the shapes).

Times are ISO 8601 UTC, enumerations their lower-case names. A guild whose pages are off, and
anything that does not exist, answers 404 ``{"error": "not found"}``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from game.services import public
from game.services.public import PublicBoard, PublicCard, PublicSeason
from web.loading import Paging, answer, guild_of, made, number_of, paging, read_board, read_enabled, state_of

__all__ = ["add_routes", "board_json", "card_json", "dumps"]

JSON = "application/json"
NOT_FOUND = made(404, '{"error": "not found"}', JSON)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


def season_json(season: PublicSeason) -> dict[str, Any]:
    data: dict[str, Any] = _plain(season)
    return data


def board_link(base: str, board: PublicBoard, name: str, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return f"{base}?{urlencode({'order': board.order.value, name: cursor})}"


def board_json(board: PublicBoard, base: str) -> dict[str, Any]:
    """``base``: the path of the board (``/api/g/1`` or ``/api/g/1/seasons/2``)."""
    return {
        "season": season_json(board.season),
        "order": board.order.value,
        "page": board.page,
        "total_pages": board.total_pages,
        "rows": [
            {
                "position": row.position,
                "rank": row.rank,
                "number": row.number,
                "name": row.name,
                "score": row.score,
                "tier": row.tier_key,
                "tier_name": row.tier_name,
                "change": row.change,
            }
            for row in board.rows
        ],
        "next": board_link(base, board, "after", board.next_after),
        "previous": board_link(base, board, "before", board.prev_before),
    }


def card_json(card: PublicCard) -> dict[str, Any]:
    return {
        "season": season_json(card.season),
        "number": card.number,
        "name": card.name,
        "score": card.score,
        "tier": card.tier_key,
        "tier_name": card.tier_name,
        "rank": card.rank,
        "start_score": card.start_score,
        "breakdown": {dimension.value: total for dimension, total in card.breakdown},
        "permits": _plain(card.permits),
        "friends": _plain(card.friends),
        "history": [{"at": at.isoformat(), "score": score} for at, score in card.history],
        "recent": _plain(card.recent),
    }


def _bad(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


async def board_api(request: web.Request) -> web.Response:
    guild_id = guild_of(request)
    season_number = number_of(request, "season")
    if guild_id is None or (season_number is None and "season" in request.match_info):
        return web.json_response({"error": "not found"}, status=404)
    query = paging(request)
    if isinstance(query, str):
        return _bad(query)
    return await answer(
        request,
        guild_id,
        ("api-board", season_number, *query),
        _board(request, guild_id, season_number, query),
    )


def _board(request: web.Request, guild_id: int, season_number: int | None, query: Paging) -> Any:
    state = state_of(request)
    order, after, before = query

    async def make() -> Any:
        board = await read_board(state, guild_id, season_number, order=order, after=after, before=before)
        if board is None:
            return NOT_FOUND
        return made(200, dumps(board_json(board, request.path)), JSON)

    return make


async def card_api(request: web.Request) -> web.Response:
    guild_id = guild_of(request)
    number = number_of(request, "number")
    season_number = number_of(request, "season")
    if guild_id is None or number is None or (season_number is None and "season" in request.match_info):
        return web.json_response({"error": "not found"}, status=404)
    state = state_of(request)

    async def make() -> Any:
        card = await read_enabled(
            state,
            guild_id,
            lambda session: public.card(
                session, guild_id=guild_id, number=number, season_number=season_number, now=state.clock.now()
            ),
        )
        return NOT_FOUND if card is None else made(200, dumps(card_json(card)), JSON)

    return await answer(request, guild_id, ("api-card", season_number, number), make)


async def seasons_api(request: web.Request) -> web.Response:
    guild_id = guild_of(request)
    if guild_id is None:
        return web.json_response({"error": "not found"}, status=404)
    state = state_of(request)

    async def make() -> Any:
        listed = await read_enabled(
            state, guild_id, lambda session: public.season_list(session, guild_id=guild_id)
        )
        if listed is None:
            return NOT_FOUND
        return made(200, dumps({"seasons": [season_json(season) for season in listed]}), JSON)

    return await answer(request, guild_id, ("api-seasons",), make)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/g/{guild}", board_api)
    router.add_get("/api/g/{guild}/c/{number}", card_api)
    router.add_get("/api/g/{guild}/seasons", seasons_api)
    router.add_get("/api/g/{guild}/seasons/{season}", board_api)
    router.add_get("/api/g/{guild}/seasons/{season}/c/{number}", card_api)
