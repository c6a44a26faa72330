"""Which ledger entries a citizen may appeal: their own penalties, once each, never a reversal."""

from __future__ import annotations

from game.errors import ErrorCode
from game.vocabulary import SourceKind

__all__ = ["appeal_refusal"]


def appeal_refusal(
    *, delta: int, source_kind: SourceKind | str, reverses_entry_id: int | None, appealed: bool
) -> ErrorCode | None:
    """Why an entry of the citizen's own ledger may not be appealed, or ``None`` if it may.

    A reversal (the entry a granted appeal wrote) is final; only penalties are heard; each entry is
    appealed at most once, whatever became of the appeal.
    """
    if source_kind == SourceKind.APPEAL or reverses_entry_id is not None:
        return ErrorCode.ENTRY_IS_REVERSAL
    if delta >= 0:
        return ErrorCode.ENTRY_NOT_A_PENALTY
    if appealed:
        return ErrorCode.ALREADY_APPEALED
    return None
