"""A short-lived cache of rendered pages, per guild, with one computation per key at a time.

Many readers of one page within ``ttl`` seconds share one database read and one rendering; a
reader that arrives while it is being made waits for it instead of making another. ``invalidate``
drops a guild's pages at once (a citizen left, the pages were turned off), and a computation that
began before it is not stored after it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["PageCache"]

T = TypeVar("T")


class PageCache(Generic[T]):
    def __init__(self, ttl: float, *, max_entries: int = 4096) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, Hashable], tuple[float, T]] = OrderedDict()
        self._making: dict[tuple[int, Hashable], asyncio.Future[T]] = {}
        self._generation: dict[int, int] = {}

    async def get(self, guild_id: int, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        slot = (guild_id, key)
        hit = self._entries.get(slot)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        if self.ttl <= 0:
            return await make()
        pending = self._making.get(slot)
        if pending is not None:
            return await asyncio.shield(pending)
        generation = self._generation.get(guild_id, 0)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._making[slot] = future
        try:
            value = await make()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        finally:
            if self._making.get(slot) is future:
                del self._making[slot]
        future.set_result(value)
        if self._generation.get(guild_id, 0) == generation:
            self._entries[slot] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(slot)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def invalidate(self, guild_id: int) -> None:
        self._generation[guild_id] = self._generation.get(guild_id, 0) + 1
        for slot in [slot for slot in self._entries if slot[0] == guild_id]:
            del self._entries[slot]
        for slot in [slot for slot in self._making if slot[0] == guild_id]:
            del self._making[slot]
