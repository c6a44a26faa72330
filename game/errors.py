"""Domain failures, named for what went wrong, each with a code and the facts behind it.

The game says *what* refused an action, never how to say it: an error carries an
:class:`ErrorCode` and its parameters (``GameError.params``: names, numbers, durations), and the bot
turns them into a sentence in its own voice (which is also what lets the texts be translated). The
exception classes group the codes by kind, for callers that only need to know that much
(``NotFound``, ``Conflict``, ...). ``str(error)`` is for logs, not for players.

A scenario pack that breaks a rule is different: :class:`ScenarioError` lists the file's problems
(``tiers[2].min_score: must be 650, ...``), the way a compiler lists a source file's.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "AlreadyEnrolled",
    "Conflict",
    "DurationError",
    "ErrorCode",
    "GameError",
    "InsufficientFunds",
    "InvalidInput",
    "NoActiveSeason",
    "NotAllowed",
    "NotEnrolled",
    "NotFound",
    "OutOfStock",
    "ScenarioError",
    "ScenarioProblem",
    "UnknownScenario",
]


class ErrorCode(enum.StrEnum):
    """Every reason the game refuses something. The parameters each one carries are listed with it."""

    # Seasons and enrolment
    NO_ACTIVE_SEASON = "no_active_season"
    SEASON_NOT_FOUND = "season_not_found"
    SEASON_NUMBER_NOT_FOUND = "season_number_not_found"  # number
    SEASON_ALREADY_LIVE = "season_already_live"
    SEASON_PAUSED = "season_paused"  # action: join, shop, befriend, permit, appeal, audit
    SEASON_ENDED = "season_ended"  # what: scores, appeals, permits, audit
    ALREADY_PAUSED = "already_paused"
    NOT_PAUSED = "not_paused"
    SEASON_DURATION_OUT_OF_RANGE = "season_duration_out_of_range"  # maximum (timedelta)
    AUDIT_INTERVAL_TOO_SHORT = "audit_interval_too_short"  # floor (timedelta), scenario (name)
    AUDIT_INTERVAL_TOO_LONG = "audit_interval_too_long"  # interval, duration (timedelta)
    AUDIT_INTERVAL_FRACTION = "audit_interval_fraction"
    NOT_ENROLLED = "not_enrolled"
    MEMBER_NOT_ENROLLED = "member_not_enrolled"
    ALREADY_ENROLLED = "already_enrolled"
    NO_RECORD = "no_record"
    CITIZEN_GONE = "citizen_gone"
    # Leaderboards
    LEADERBOARD_CURSOR_EXPIRED = "leaderboard_cursor_expired"
    LEADERBOARD_ORDER = "leaderboard_order"
    LEADERBOARD_PAGE = "leaderboard_page"  # total_pages
    # Reasons people type
    REASON_EMPTY = "reason_empty"  # purpose: adjustment, appeal, permit
    REASON_TOO_LONG = "reason_too_long"  # limit, length
    # The Bureau's adjustments and rules
    ADJUSTMENT_OUT_OF_RANGE = "adjustment_out_of_range"  # span
    RULES_EDIT_REFUSED = "rules_edit_refused"  # reasons (the scenario's own words, joined)
    BONUS_OUT_OF_RANGE = "bonus_out_of_range"  # low, high
    PENALTY_OUT_OF_RANGE = "penalty_out_of_range"  # low, high
    PRICE_OUT_OF_RANGE = "price_out_of_range"  # low, high
    TOO_MANY_GAME_CHANNELS = "too_many_game_channels"  # limit
    TIER_KEY_INVALID = "tier_key_invalid"
    # Decrees
    DECREE_NOT_FOUND = "decree_not_found"  # decree (as typed), choices (keys of the optional decrees)
    DECREE_SCHEDULED = "decree_scheduled"  # name
    DECREE_IN_FORCE = "decree_in_force"  # name
    DECREE_NOT_IN_FORCE = "decree_not_in_force"  # decree (as typed), choices (keys in force)
    # Appeals
    ENTRY_NOT_YOURS = "entry_not_yours"  # entry_id
    ENTRY_IS_REVERSAL = "entry_is_reversal"  # entry_id
    ENTRY_NOT_A_PENALTY = "entry_not_a_penalty"  # entry_id
    ALREADY_APPEALED = "already_appealed"  # entry_id, status
    APPEAL_NOT_FOUND = "appeal_not_found"
    APPEAL_ALREADY_DECIDED = "appeal_already_decided"  # status
    ENTRY_ALREADY_REVERSED = "entry_already_reversed"  # entry_id
    # The shop
    ITEM_NOT_SOLD = "item_not_sold"  # item (as typed)
    QUANTITY_OUT_OF_RANGE = "quantity_out_of_range"  # maximum
    PURCHASE_REFUSED = "purchase_refused"  # refusal (RefusalReason), item, tier, needed_tier
    SOLD_OUT = "sold_out"  # item
    STOCK_SHORT = "stock_short"  # item, left
    INSUFFICIENT_FUNDS = "insufficient_funds"  # balance, total, quantity
    # Friends
    BEFRIEND_SELF = "befriend_self"
    ALREADY_FRIENDS = "already_friends"  # name
    ALREADY_ASKED = "already_asked"  # name
    FRIEND_LIMIT = "friend_limit"  # limit
    FRIEND_LIMIT_OTHER = "friend_limit_other"  # name, limit
    NO_FRIEND_REQUEST = "no_friend_request"  # name
    FRIEND_REQUEST_ANSWERED = "friend_request_answered"
    NOT_FRIENDS = "not_friends"  # name
    NO_REQUEST_FROM_SELF = "no_request_from_self"
    NOT_OWN_FRIEND = "not_own_friend"
    # Permits
    NO_PERMIT_TOPICS = "no_permit_topics"
    NOT_A_PERMIT_TOPIC = "not_a_permit_topic"  # topic (as typed), choices (keys)
    PERMIT_PENDING = "permit_pending"  # topic_name
    PERMIT_HELD = "permit_held"  # topic_name, until (datetime)
    PERMIT_NOT_FOUND = "permit_not_found"
    PERMIT_ALREADY_DECIDED = "permit_already_decided"  # status
    PERMIT_DURATION_OUT_OF_RANGE = "permit_duration_out_of_range"  # maximum (timedelta)
    # Durations people type
    DURATION_EMPTY = "duration_empty"
    DURATION_NEGATIVE = "duration_negative"
    DURATION_NO_UNIT = "duration_no_unit"  # text, number
    DURATION_UNREADABLE = "duration_unreadable"  # text
    DURATION_UNIT_TWICE = "duration_unit_twice"  # text
    DURATION_ZERO = "duration_zero"
    DURATION_TOO_LONG = "duration_too_long"  # text, maximum (timedelta)
    # Input at the boundary
    NUMBER_OUT_OF_RANGE = "number_out_of_range"  # what, low, high
    NOT_A_MEMBER_ID = "not_a_member_id"  # text
    TEXT_TOO_LONG = "text_too_long"  # what, limit, length
    TEXT_EMPTY = "text_empty"  # what
    # Scenario packs
    SCENARIO_INVALID = "scenario_invalid"  # source, problems
    UNKNOWN_SCENARIO = "unknown_scenario"  # key, available


class GameError(Exception):
    """A rule of the game refused an action: ``code`` says which, ``params`` the facts behind it."""

    default_code: ClassVar[ErrorCode]

    def __init__(self, code: ErrorCode | None = None, /, **params: Any) -> None:
        self.code: ErrorCode = code if code is not None else type(self).default_code
        self.params: dict[str, Any] = params
        super().__init__(self.code.value)

    def __str__(self) -> str:
        if not self.params:
            return self.code.value
        facts = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        return f"{self.code.value} ({facts})"


class NotFound(GameError):
    """Something the player named does not exist."""

    default_code = ErrorCode.CITIZEN_GONE


class NoActiveSeason(NotFound):
    default_code = ErrorCode.NO_ACTIVE_SEASON


class NotEnrolled(GameError):
    default_code = ErrorCode.NOT_ENROLLED


class AlreadyEnrolled(GameError):
    default_code = ErrorCode.ALREADY_ENROLLED


class InsufficientFunds(GameError):
    default_code = ErrorCode.INSUFFICIENT_FUNDS


class NotAllowed(GameError):
    """The rules forbid this action to this citizen (tier, permit, role, a paused season)."""

    default_code = ErrorCode.SEASON_PAUSED


class InvalidInput(GameError):
    """A value the player typed is out of range or malformed."""

    default_code = ErrorCode.NUMBER_OUT_OF_RANGE


class Conflict(GameError):
    """The action collides with the current state (already friends, already decided, ...)."""

    default_code = ErrorCode.SEASON_ALREADY_LIVE


class OutOfStock(Conflict):
    """The shop has fewer of an item left than the citizen asked for."""

    default_code = ErrorCode.SOLD_OUT


class DurationError(InvalidInput):
    """A duration the player typed cannot be read, or is zero, negative or too long."""

    default_code = ErrorCode.DURATION_UNREADABLE


@dataclass(frozen=True, slots=True)
class ScenarioProblem:
    """One thing wrong with a scenario: where (``tiers[2].min_score``, or ``line 3, column 5``) and why."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class ScenarioError(GameError):
    """A scenario pack (a file, or a season's stored copy) was refused.

    ``str(error)`` has one line per problem: ``data/classic.toml: tiers[2].min_score: must be ...``.
    """

    default_code = ErrorCode.SCENARIO_INVALID

    def __init__(self, source: str, problems: Sequence[ScenarioProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self.default_code, source=source, problems=self.problems)

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {problem}" for problem in self.problems)


class UnknownScenario(ScenarioError, NotFound):
    """No shipped scenario has that key."""

    default_code = ErrorCode.UNKNOWN_SCENARIO

    def __init__(self, key: str, available: Sequence[str]) -> None:
        self.key = key
        self.available = tuple(available)
        listing = ", ".join(available) or "none"
        super().__init__(
            f"scenario {key!r}", [ScenarioProblem("", f"there is no such scenario; available: {listing}")]
        )
        self.params = {"key": key, "available": self.available}
