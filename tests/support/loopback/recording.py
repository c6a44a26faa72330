"""What the loopback server saw, and the small HTTP helpers its routes share."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the /api/v10 prefix, e.g. "/users/@me"
    query: Mapping[str, str]
    body: Any  # the JSON body (or a multipart request's payload_json), None when empty
    files: tuple[Upload, ...] = ()  # the files of a multipart upload
    known: bool = True  # False when the catch-all answered 404
    status: int = 0  # the status answered; 0 while the handler is still running


class Waiters:
    """Futures resolved by the first item matching their predicate, past or future."""

    def __init__(self) -> None:
        self._waiting: list[tuple[Callable[[Any], bool], asyncio.Future[Any]]] = []

    def notify(self, item: Any) -> None:
        still_waiting = []
        for predicate, future in self._waiting:
            if future.done():
                continue
            if predicate(item):
                future.set_result(item)
            else:
                still_waiting.append((predicate, future))
        self._waiting = still_waiting

    async def wait(self, history: Iterable[Any], predicate: Callable[[Any], bool]) -> Any:
        for item in history:
            if predicate(item):
                return item
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((predicate, future))
        return await future


def json_response(data: Any, *, status: int = 200) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py compares the header verbatim
    # and would take a body labelled "application/json; charset=utf-8" for text.
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json")


def error(status: int, message: str, *, code: int) -> web.Response:
    return json_response({"message": message, "code": code}, status=status)


async def read_body(request: web.Request) -> tuple[Any, tuple[Upload, ...]]:
    """The JSON body, or for a multipart upload its ``payload_json`` part and the files."""
    if request.content_type.startswith("multipart/"):
        body, files = None, []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue  # Discord's uploads are flat: no multipart inside a part
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                name = part.filename or part.name or "file"
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files.append(Upload(name, content_type, bytes(await part.read())))
        return body, tuple(files)
    if not request.can_read_body:
        return None, ()
    text = await request.text()
    return (json.loads(text) if text else None), ()
