"""What the courier posts, and the problem only a moderator can fix."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import discord

from game.services.outbox import OutboxItem

if TYPE_CHECKING:
    from bot.courier.courier import Courier

__all__ = ["ChannelRole", "DeliveryProblem", "Post", "Renderer", "file_marker"]

# Which of the Bureau's channels (chosen in /setup channels) a post goes to.
ChannelRole = Literal["announcements", "moderators"]


def file_marker(item_id: int, part: str = "") -> str:
    """The footer that identifies a post of outbox row ``item_id`` (and which part of it)."""
    return f"Bureau file {item_id}{part}"


class DeliveryProblem(Exception):
    """Delivery cannot succeed until a moderator acts (a channel not set, a permission missing).

    ``key`` identifies the problem, so the moderators are told once, not at every retry.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class Post:
    """One message to post; ``marker`` goes in the (last) embed's footer."""

    marker: str
    embeds: Sequence[discord.Embed] = ()
    content: str | None = None
    files: Callable[[], Sequence[discord.File]] | None = None
    view: discord.ui.View | None = None


# Turns a claimed outbox row into the posts it makes, each with the channel it goes to.
Renderer = Callable[["Courier", OutboxItem], Awaitable[Sequence[tuple[ChannelRole, Post]]]]
