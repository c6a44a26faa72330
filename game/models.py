"""The game's tables.

Every table a guild's data lives in carries ``guild_id`` or hangs off a season that does, so one guild
never sees another's rows and ``/leave`` can find everything about a citizen. Discord IDs are 64-bit
(``BigInteger``): a plain ``int`` column is 32-bit on PostgreSQL. Times are stored in UTC and come back
timezone-aware on both engines.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from game.db import sqlite_time_text
from game.vocabulary import Dimension, SourceKind

# Auto-increment keys: BIGSERIAL on PostgreSQL, the rowid alias on SQLite (which only autoincrements
# a column declared exactly INTEGER PRIMARY KEY).
IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class _SQLiteDateTime(sqlite.DATETIME):
    """SQLite's DATETIME, same text (``2026-03-01 12:15:00.000000``), written by ``isoformat``.

    SQLAlchemy's own bind processor builds a dict of seven fields and %-formats it for every value: a
    quarter of the time of a bulk ledger insert through the ORM. :func:`game.db.sqlite_time_text` gives
    the same characters (four-digit year, six-digit microseconds, always). Reading is unchanged.
    """

    def bind_processor(self, dialect: Dialect) -> Any:
        datetime_type = datetime
        inherited = super().bind_processor(dialect)

        def process(value: Any) -> Any:
            if type(value) is datetime_type and value.tzinfo is None:
                return sqlite_time_text(value)
            return inherited(value) if inherited is not None else value

        return process


_SQLITE_DATETIME = _SQLiteDateTime(timezone=True)  # type: ignore[no-untyped-call]


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the engine stores."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SQLITE_DATETIME
        return super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id() -> Any:
    return Field(default=None, sa_type=IdType, primary_key=True)


def _snowflake(*, index: bool = False, nullable: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_type=sa.BigInteger, index=index, nullable=nullable)


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_type=UTCDateTime, nullable=nullable, index=index)


def _fk(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column_args=[sa.ForeignKey(target, ondelete="CASCADE")],
        sa_type=IdType,
        nullable=nullable,
        index=index,
    )


class SeasonStatus(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class Enrollment(enum.StrEnum):
    VOLUNTARY = "voluntary"
    MANDATORY = "mandatory"


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class GuildSettings(SQLModel, table=True):
    """A guild's set-up: where the Bureau posts and who counts as a moderator."""

    __tablename__ = "guild_settings"

    guild_id: int = Field(sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    announcements_channel_id: int | None = _snowflake(nullable=True)
    brag_channel_id: int | None = _snowflake(nullable=True)
    moderators_channel_id: int | None = _snowflake(nullable=True)
    moderator_role_id: int | None = _snowflake(nullable=True)
    created_at: datetime = _time()


class GameChannel(SQLModel, table=True):
    """A channel whose messages are recorded and audited."""

    __tablename__ = "game_channel"

    guild_id: int = Field(sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    channel_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )


class TierRole(SQLModel, table=True):
    """The Discord role the bot keeps in sync for a tier (by the tier's key in the scenario)."""

    __tablename__ = "tier_role"

    guild_id: int = Field(sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    tier_key: str = Field(primary_key=True, max_length=40)
    role_id: int = _snowflake()


class Season(SQLModel, table=True):
    """One timed game in one guild, with its own copy of the scenario's rules."""

    __tablename__ = "season"
    __table_args__ = (
        sa.UniqueConstraint("guild_id", "number", name="uq_season_guild_number"),
        # At most one season that is not over, per guild.
        sa.Index(
            "uq_season_one_live_per_guild",
            "guild_id",
            unique=True,
            sqlite_where=sa.text("status != 'ended'"),
            postgresql_where=sa.text("status != 'ended'"),
        ),
    )

    id: int | None = _id()
    guild_id: int = _snowflake(index=True)
    number: int
    scenario_key: str = Field(max_length=60)
    # The scenario as it stands for this season (the pack copied at start, then moderators' edits).
    rules: dict[str, Any] = Field(sa_type=sa.JSON)
    status: SeasonStatus = Field(sa_type=sa.String(16), default=SeasonStatus.RUNNING)
    enrollment: Enrollment = Field(sa_type=sa.String(16), default=Enrollment.VOLUNTARY)
    audit_every_s: int
    started_at: datetime = _time()
    ends_at: datetime = _time()
    ended_at: datetime | None = _time(nullable=True)
    paused_at: datetime | None = _time(nullable=True)
    next_audit_at: datetime = _time()
    last_audit_number: int = 0
    next_citizen_number: int = 1
    started_by: int | None = _snowflake(nullable=True)


class Citizen(SQLModel, table=True):
    """A member enrolled in a season: their score, wallet and the state the audit keeps per citizen."""

    __tablename__ = "citizen"
    __table_args__ = (
        sa.UniqueConstraint("season_id", "user_id", name="uq_citizen_season_user"),
        sa.UniqueConstraint("season_id", "number", name="uq_citizen_season_number"),
        # Leaderboards page through this index by keyset, top and bottom.
        sa.Index("ix_citizen_leaderboard", "season_id", "score", "id"),
        sa.CheckConstraint("balance >= 0", name="ck_citizen_balance_not_negative"),
    )

    id: int | None = _id()
    season_id: int = _fk("season.id", index=False)
    guild_id: int = _snowflake(index=True)
    user_id: int = _snowflake()
    number: int
    display_name: str = Field(max_length=100)
    score: int
    tier_key: str = Field(max_length=40)
    balance: int
    debt: int = 0
    joined_at: datetime = _time()
    # Reward gating: last positive speech entry, digests of the last few messages (never their text).
    last_reward_at: datetime | None = _time(nullable=True)
    recent_digests: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # "How many times the card was looked up today" (UTC day).
    lookups_day: str | None = Field(default=None, max_length=10)
    lookups_count: int = 0


class ScoreCount(SQLModel, table=True):
    """How many citizens of a season hold each score: a citizen's rank in O(601) at most."""

    __tablename__ = "score_count"

    season_id: int = Field(
        sa_type=IdType,
        sa_column_args=[sa.ForeignKey("season.id", ondelete="CASCADE")],
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    score: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    citizens: int = 0


class LedgerEntry(SQLModel, table=True):
    """One change to one citizen's score. History is never edited: appeals add a reversing entry."""

    __tablename__ = "ledger_entry"
    __table_args__ = (sa.Index("ix_ledger_citizen", "citizen_id", "id"),)

    id: int | None = _id()
    season_id: int = _fk("season.id")
    citizen_id: int = _fk("citizen.id", index=False)
    audit_number: int | None = None
    dimension: Dimension = Field(sa_type=sa.String(16))
    delta: int
    score_before: int
    score_after: int
    reason: str = Field(max_length=300)
    source_kind: SourceKind = Field(sa_type=sa.String(16))
    # What caused it: a message link, a purchase id, the friend's citizen id, the moderator's user id.
    source_ref: str | None = Field(default=None, max_length=200)
    rule_key: str | None = Field(default=None, max_length=80)
    related_citizen_id: int | None = Field(default=None, sa_type=IdType, index=True)
    reverses_entry_id: int | None = Field(default=None, sa_type=IdType)
    created_at: datetime = _time()


class PendingMessage(SQLModel, table=True):
    """A message waiting for its audit. The row (and so the text) is deleted once scored."""

    __tablename__ = "pending_message"
    __table_args__ = (sa.Index("ix_pending_season", "season_id", "id"),)

    id: int | None = _id()
    season_id: int = _fk("season.id", index=False)
    citizen_id: int = _fk("citizen.id")
    channel_id: int = _snowflake()
    message_id: int = _snowflake()
    content: str
    created_at: datetime = _time()


class SeenMessage(SQLModel, table=True):
    """That a message was recorded for a season (its ids only, never its text), so that however many
    processes see a message, and whenever their buffers are written, it is scored once."""

    __tablename__ = "seen_message"

    season_id: int = Field(
        sa_type=IdType,
        sa_column_args=[sa.ForeignKey("season.id", ondelete="CASCADE")],
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    message_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    citizen_id: int = _fk("citizen.id")


class ShopItem(SQLModel, table=True):
    """A season's catalogue entry; stock is a column so purchases can take it atomically."""

    __tablename__ = "shop_item"
    __table_args__ = (
        sa.UniqueConstraint("season_id", "key", name="uq_shop_item_key"),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="ck_shop_item_stock"),
    )

    id: int | None = _id()
    season_id: int = _fk("season.id", index=False)
    key: str = Field(max_length=60)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=300)
    price: int
    effect: int
    dimension: Dimension = Field(sa_type=sa.String(16), default=Dimension.CONSUMPTION)
    min_tier: str | None = Field(default=None, max_length=40)
    stock: int | None = None
    hidden: bool = False
    travel: bool = False
    active: bool = True


class Purchase(SQLModel, table=True):
    """A purchase: paid at once, its score effect applied by the next audit."""

    __tablename__ = "purchase"
    __table_args__ = (sa.Index("ix_purchase_pending", "season_id", "audit_number"),)

    id: int | None = _id()
    season_id: int = _fk("season.id", index=False)
    citizen_id: int = _fk("citizen.id")
    item_key: str = Field(max_length=60)
    item_name: str = Field(max_length=100)
    quantity: int
    unit_price: int
    total_price: int
    effect: int
    dimension: Dimension = Field(sa_type=sa.String(16))
    hidden: bool = False
    audit_number: int | None = None
    created_at: datetime = _time()


class FriendRequest(SQLModel, table=True):
    __tablename__ = "friend_request"
    __table_args__ = (
        sa.UniqueConstraint("season_id", "from_citizen_id", "to_citizen_id", name="uq_friend_request"),
    )

    id: int | None = _id()
    season_id: int = _fk("season.id", index=False)
    from_citizen_id: int = _fk("citizen.id")
    to_citizen_id: int = _fk("citizen.id")
    status: RequestStatus = Field(sa_type=sa.String(16), default=RequestStatus.PENDING)
    created_at: datetime = _time()
    decided_at: datetime | None = _time(nullable=True)


class Friendship(SQLModel, table=True):
    """A friendship, stored once in each direction so the audit can join on ``citizen_id``."""

    __tablename__ = "friendship"
    __table_args__ = (sa.Index("ix_friendship_friend", "friend_id", "citizen_id"),)

    citizen_id: int = Field(
        sa_type=IdType,
        sa_column_args=[sa.ForeignKey("citizen.id", ondelete="CASCADE")],
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    friend_id: int = Field(
        sa_type=IdType,
        sa_column_args=[sa.ForeignKey("citizen.id", ondelete="CASCADE")],
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    season_id: int = _fk("season.id")
    created_at: datetime = _time()


class Permit(SQLModel, table=True):
    __tablename__ = "permit"

    id: int | None = _id()
    season_id: int = _fk("season.id", index=False)
    citizen_id: int = _fk("citizen.id")
    topic: str = Field(max_length=60)
    reason: str = Field(max_length=500)
    status: RequestStatus = Field(sa_type=sa.String(16), default=RequestStatus.PENDING)
    requested_at: datetime = _time()
    decided_at: datetime | None = _time(nullable=True)
    decided_by: int | None = _snowflake(nullable=True)
    expires_at: datetime | None = _time(nullable=True)


class Appeal(SQLModel, table=True):
    __tablename__ = "appeal"

    id: int | None = _id()
    season_id: int = _fk("season.id", index=False)
    citizen_id: int = _fk("citizen.id")
    ledger_entry_id: int = _fk("ledger_entry.id")
    reason: str = Field(max_length=500)
    status: RequestStatus = Field(sa_type=sa.String(16), default=RequestStatus.PENDING)
    created_at: datetime = _time()
    decided_at: datetime | None = _time(nullable=True)
    decided_by: int | None = _snowflake(nullable=True)
    reversal_entry_id: int | None = Field(default=None, sa_type=IdType)


class Audit(SQLModel, table=True):
    """An audit's claim row: inserted once, so no two processes run the same audit."""

    __tablename__ = "audit"

    season_id: int = Field(
        sa_type=IdType,
        sa_column_args=[sa.ForeignKey("season.id", ondelete="CASCADE")],
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    started_at: datetime = _time()
    finished_at: datetime | None = _time(nullable=True)
    claimed_by: str = Field(max_length=80)
    stats: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class DecreeSource(enum.StrEnum):
    TIMELINE = "timeline"
    MODERATOR = "moderator"


class DecreeRecord(SQLModel, table=True):
    """A decree that took effect in a season: which, when, on whose word, until when, revoked when.

    It governs the audits ``after_audit + 1`` to ``until_audit`` (``None``: to the end), or to
    ``revoked_after_audit`` if that comes first. A timeline decree takes effect once per season (the
    partial unique index); a moderator may issue an optional one again after revoking it.
    """

    __tablename__ = "decree"
    __table_args__ = (
        sa.Index("ix_decree_season", "season_id", "id"),
        sa.Index(
            "uq_decree_timeline_once",
            "season_id",
            "decree_key",
            unique=True,
            sqlite_where=sa.text("source = 'timeline'"),
            postgresql_where=sa.text("source = 'timeline'"),
        ),
    )

    id: int | None = _id()
    season_id: int = _fk("season.id", index=False)
    decree_key: str = Field(max_length=40)
    decree_name: str = Field(max_length=100)
    source: DecreeSource = Field(sa_type=sa.String(16))
    # The moderator who issued it (None: the timeline).
    issued_by: int | None = _snowflake(nullable=True)
    took_effect_at: datetime = _time()
    # The last audit before it took effect (0: before the first).
    after_audit: int
    # The last audit it governs as issued (None: to the end of the season).
    until_audit: int | None = None
    revoked_at: datetime | None = _time(nullable=True)
    revoked_by: int | None = _snowflake(nullable=True)
    # The last audit it governed before it was revoked.
    revoked_after_audit: int | None = None
    # How many ledger entries its amnesty wrote.
    reversed_entries: int = 0


class OutboxKind(enum.StrEnum):
    BULLETIN = "bulletin"
    ROLE_SYNC = "role_sync"
    SEASON_END = "season_end"
    PERMIT_REQUEST = "permit_request"
    APPEAL_REQUEST = "appeal_request"
    NOTICE = "notice"
    SEASON_START = "season_start"
    DECREE = "decree"


class OutboxMessage(SQLModel, table=True):
    """Something the bot must tell Discord, written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_undelivered", "delivered_at", "id"),)

    id: int | None = _id()
    guild_id: int = _snowflake(index=True)
    season_id: int | None = Field(
        default=None, sa_type=IdType, sa_column_args=[sa.ForeignKey("season.id", ondelete="CASCADE")]
    )
    kind: OutboxKind = Field(sa_type=sa.String(24))
    payload: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: datetime = _time()
    claimed_at: datetime | None = _time(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=80)
    delivered_at: datetime | None = _time(nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)


class PublicPages(SQLModel, table=True):
    """Whether a guild's pages are on the web. No row: off, as for every guild until a moderator
    turns them on."""

    __tablename__ = "public_pages"

    guild_id: int = Field(sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    enabled: bool = False
    changed_at: datetime = _time()


metadata = SQLModel.metadata

__all__ = [
    "Appeal",
    "Audit",
    "Citizen",
    "DecreeRecord",
    "DecreeSource",
    "Dimension",
    "Enrollment",
    "FriendRequest",
    "Friendship",
    "GameChannel",
    "GuildSettings",
    "LedgerEntry",
    "OutboxKind",
    "OutboxMessage",
    "PendingMessage",
    "Permit",
    "PublicPages",
    "Purchase",
    "RequestStatus",
    "ScoreCount",
    "Season",
    "SeasonStatus",
    "SeenMessage",
    "ShopItem",
    "SourceKind",
    "TierRole",
    "UTCDateTime",
    "metadata",
]
