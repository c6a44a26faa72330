"""The debrief's input: plain, frozen values that the storage layer builds from the database.

Nothing here knows about SQL or Discord. Every number the report prints is derived from
``ReportData.entries`` (the ledger); the other collections only name people and list decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from game.vocabulary import SourceKind

if TYPE_CHECKING:
    from game.report._timeline import ReportDecree

__all__ = [
    "Friendship",
    "ReportAppeal",
    "ReportCitizen",
    "ReportData",
    "ReportEntry",
    "ReportPermit",
    "SourceKind",
    "TierBand",
]


def _require_aware(value: datetime | None, what: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TierBand:
    """A tier as the scenario defines it: scores ``min_score..max_score`` inclusive.

    ``colour`` is a ``#rrggbb`` string; when ``None`` the report picks one from the score scale.
    """

    name: str
    min_score: int
    max_score: int
    colour: str | None = None

    def __post_init__(self) -> None:
        if self.min_score > self.max_score:
            raise ValueError(f"tier {self.name!r}: min_score {self.min_score} > max_score {self.max_score}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportCitizen:
    """A citizen of the season. ``final_score`` is what the database holds; the report checks it
    against the ledger and says so when they disagree."""

    number: int
    display_name: str
    final_score: int
    tier: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportEntry:
    """One ledger entry, exactly as recorded.

    ``entry_id`` increases in the order entries were written; the report replays them in that
    order to check that each ``score_before`` follows from the entries before it.

    ``rule_key`` is the topic, phrase group or shop item that matched (``None`` for stipends,
    manual adjustments and the like). ``related_citizen_number`` is set on ``FRIEND`` entries: the
    friend whose penalty flowed to this citizen (one entry per friend, so cascades can be drawn).
    ``reverses_entry_id`` is set on ``APPEAL`` entries: the entry a granted appeal reversed.
    """

    entry_id: int
    citizen_number: int
    audit_number: int
    dimension: str
    delta: int
    score_before: int
    score_after: int
    reason: str
    source: SourceKind
    rule_key: str | None
    created_at: datetime
    related_citizen_number: int | None = None
    reverses_entry_id: int | None = None

    def __post_init__(self) -> None:
        _require_aware(self.created_at, f"entry {self.entry_id} created_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class Friendship:
    """An accepted friendship between two citizens (by citizen number); direction does not matter."""

    citizen_a: int
    citizen_b: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportPermit:
    """A permit request and what became of it (``status`` in the storage layer's words:
    ``pending``, ``active``, ``expired``, ``denied``, ...)."""

    citizen_number: int
    topic: str
    status: str
    requested_at: datetime | None = None
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.requested_at, "permit requested_at")
        _require_aware(self.expires_at, "permit expires_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportAppeal:
    """A citizen's appeal against one ledger entry (``status``: ``pending``, ``granted``, ``denied``)."""

    citizen_number: int
    entry_id: int
    status: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    """Everything the debrief shows about one season.

    ``ended_at`` is ``None`` for a report asked for while the season still runs; ``generated_at``
    is passed in (never read from the clock) so the same data always renders the same file.
    ``score_floor..score_ceiling`` is the scenario's score range and ``tiers`` its tiers, ascending.
    """

    guild_name: str
    season_title: str
    scenario_name: str
    started_at: datetime
    ended_at: datetime | None
    generated_at: datetime
    start_score: int
    score_floor: int
    score_ceiling: int
    tiers: tuple[TierBand, ...] = ()
    discussion_prompts: tuple[str, ...] = ()
    citizens: tuple[ReportCitizen, ...] = ()
    entries: tuple[ReportEntry, ...] = ()
    friendships: tuple[Friendship, ...] = ()
    permits: tuple[ReportPermit, ...] = ()
    appeals: tuple[ReportAppeal, ...] = ()
    # The decrees that took effect, in order (game.report._timeline measures what they did).
    decrees: tuple[ReportDecree, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self.started_at, "started_at")
        _require_aware(self.ended_at, "ended_at")
        _require_aware(self.generated_at, "generated_at")
        if not self.score_floor <= self.start_score <= self.score_ceiling:
            raise ValueError(
                f"start_score {self.start_score} outside {self.score_floor}..{self.score_ceiling}"
            )
