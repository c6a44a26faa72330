"""What the game asks the bot to tell Discord: one typed payload per outbox kind.

A service writes an outbox row in the same transaction as what caused it (an audit, a purchase that
changed a tier, a permit request); the bot's courier reads the row back as the same type and decides
how it looks. Payloads hold facts only (who, what, how much), never sentences or Discord markup.

Rows are stored as JSON (:func:`dump_payload`) and read with :func:`load_payload`, which validates
them; fields added later are optional, so rows written by an older version still read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import TypeAdapter

from game.models import OutboxKind

__all__ = [
    "AppealRequest",
    "Bulletin",
    "Cascade",
    "DecreeChange",
    "DecreeNews",
    "Movement",
    "Notice",
    "Payload",
    "PermitRequest",
    "Person",
    "RoleSync",
    "SeasonEnd",
    "SeasonStart",
    "Standing",
    "TierMove",
    "dump_payload",
    "load_payload",
    "payload_kind",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """A citizen as a post names them. ``citizen_id`` is ``None`` in rows about someone who left."""

    user_id: int
    display_name: str = ""
    citizen_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Movement(Person):
    """A citizen whose score moved in an audit: ``delta`` overall, to ``score``."""

    delta: int
    score: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TierMove(Person):
    """A citizen who changed tier in an audit (``old_tier`` ``None``: they had none)."""

    old_tier: str | None
    new_tier: str
    score: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Cascade(Person):
    """A friend's penalty that cost this citizen ``delta`` (< 0)."""

    delta: int
    friend: Person


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing(Person):
    score: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Bulletin:
    """One audit, for the announcements channel. The lists are the biggest few; ``*_total`` says how
    many there were in all."""

    audit_number: int
    messages_scored: int = 0
    purchases_applied: int = 0
    ledger_entries: int = 0
    citizens_changed: int = 0
    top_gains: tuple[Movement, ...] = ()
    top_losses: tuple[Movement, ...] = ()
    friend_cascades: tuple[Cascade, ...] = ()
    friend_cascades_total: int = 0
    promotions: tuple[TierMove, ...] = ()
    promotions_total: int = 0
    demotions: tuple[TierMove, ...] = ()
    demotions_total: int = 0

    @property
    def is_news(self) -> bool:
        """Whether the audit changed anything worth announcing."""
        return bool(
            self.top_gains or self.top_losses or self.friend_cascades or self.promotions or self.demotions
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleSync:
    """A member's tier may have changed (``new_tier`` ``None``: they left, or their season is over).

    The courier gives the roles of the tier the database holds when it delivers, so this only says
    whom to look at; the tiers are kept for the record.
    """

    user_id: int
    season_id: int | None = None
    old_tier: str | None = None
    new_tier: str | None = None
    audit_number: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SeasonEnd:
    """A season's final standings (``top`` and ``bottom`` the first few of each end)."""

    season_id: int
    season_number: int
    audits: int
    citizens: int
    average_score: float | None
    top: tuple[Standing, ...]
    bottom: tuple[Standing, ...]
    tiers: dict[str, int]
    ended_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SeasonStart:
    """A season begins: what the announcement tells the players."""

    season_id: int
    season_number: int
    scenario_key: str
    scenario_name: str
    description: str
    started_at: datetime
    ends_at: datetime
    next_audit_at: datetime
    audit_every_s: int
    enrollment: str
    game_channel_ids: tuple[int, ...] = ()
    started_by: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PermitRequest:
    permit_id: int
    season_id: int
    user_id: int
    citizen_number: int
    display_name: str
    topic: str
    topic_name: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AppealRequest:
    appeal_id: int
    season_id: int
    user_id: int
    citizen_number: int
    display_name: str
    entry_id: int
    entry_delta: int
    entry_dimension: str
    entry_reason: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """Something the Bureau tells a channel in its own words (``title``, ``text``)."""

    title: str
    text: str = ""
    channel: Literal["moderators", "announcements"] = "moderators"
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecreeChange:
    """One thing a decree changes, as facts: ``kind`` is the effect's (``forbid-topic``, ``set-price``,
    ...); ``key`` and ``name`` its topic or item; ``value`` the new penalty, price or factor and
    ``before`` the old one, where there is one."""

    kind: str
    key: str = ""
    name: str = ""
    value: float | None = None
    before: float | None = None
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DecreeNews:
    """A decree took effect, lapsed or was revoked, for the announcements channel.

    ``from_audit`` is the first audit it governs; ``until_audit`` the last (``None``: to the end of
    the season) and ``until_at`` about when that audit falls. ``issued_by``/``revoked_by``: the
    moderator (``None``: the timeline). ``reversed_entries``/``reversed_points``: what its amnesty gave
    back, to how many ``pardoned`` citizens."""

    season_id: int
    record_id: int
    event: Literal["took_effect", "lapsed", "revoked"]
    decree_key: str
    name: str
    description: str = ""
    changes: tuple[DecreeChange, ...] = ()
    from_audit: int
    until_audit: int | None = None
    until_at: datetime | None = None
    ends_at: datetime | None = None
    issued_by: int | None = None
    revoked_by: int | None = None
    reversed_entries: int = 0
    reversed_points: int = 0
    pardoned: int = 0


Payload = Bulletin | RoleSync | SeasonEnd | SeasonStart | PermitRequest | AppealRequest | Notice | DecreeNews

_TYPES: dict[OutboxKind, type[Any]] = {
    OutboxKind.BULLETIN: Bulletin,
    OutboxKind.ROLE_SYNC: RoleSync,
    OutboxKind.SEASON_END: SeasonEnd,
    OutboxKind.SEASON_START: SeasonStart,
    OutboxKind.PERMIT_REQUEST: PermitRequest,
    OutboxKind.APPEAL_REQUEST: AppealRequest,
    OutboxKind.NOTICE: Notice,
    OutboxKind.DECREE: DecreeNews,
}
_KINDS = {kind_type: kind for kind, kind_type in _TYPES.items()}

_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {kind_type: TypeAdapter(kind_type) for kind_type in _KINDS}


def payload_kind(payload: Payload) -> OutboxKind:
    """The outbox kind a payload is stored under."""
    return _KINDS[type(payload)]


def dump_payload(payload: Payload) -> dict[str, Any]:
    """The payload as JSON-able data, for the outbox's ``payload`` column."""
    return cast(dict[str, Any], _ADAPTERS[type(payload)].dump_python(payload, mode="json"))


def load_payload(kind: OutboxKind, data: Any) -> Payload:
    """Read a stored payload back as its type; ``pydantic.ValidationError`` if it does not fit."""
    return cast(Payload, _ADAPTERS[_TYPES[kind]].validate_python(data))
