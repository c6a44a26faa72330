"""How the courier posts permit and appeal requests: a card with Approve/Deny buttons, moderators' channel."""

from __future__ import annotations

from collections.abc import Sequence

from bot.courier import ChannelRole, Courier, Post, file_marker
from bot.exts.bureau._views import appeal_card, decision_view, permit_card
from game.models import OutboxKind
from game.payloads import AppealRequest, PermitRequest
from game.services.outbox import OutboxItem


async def _permit_request(courier: Courier, item: OutboxItem) -> Sequence[tuple[ChannelRole, Post]]:
    assert isinstance(item.payload, PermitRequest)
    request = item.payload
    return [
        (
            "moderators",
            Post(
                marker=file_marker(item.id),
                embeds=[permit_card(request)],
                view=decision_view("permit", request.permit_id),
            ),
        )
    ]


async def _appeal_request(courier: Courier, item: OutboxItem) -> Sequence[tuple[ChannelRole, Post]]:
    assert isinstance(item.payload, AppealRequest)
    request = item.payload
    return [
        (
            "moderators",
            Post(
                marker=file_marker(item.id),
                embeds=[appeal_card(request)],
                view=decision_view("appeal", request.appeal_id),
            ),
        )
    ]


def register_cards(courier: Courier) -> None:
    courier.renderers[OutboxKind.PERMIT_REQUEST] = _permit_request
    courier.renderers[OutboxKind.APPEAL_REQUEST] = _appeal_request
