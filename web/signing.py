"""Links to a season's debrief that only the Bureau hands out: signed with the secret setting,
valid until a stated time (``expires``, Unix seconds), checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

__all__ = ["debrief_path", "sign_debrief", "verify_debrief"]


def sign_debrief(secret: str, *, guild_id: int, season_number: int, expires: int) -> str:
    message = f"debrief:{guild_id}:{season_number}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def debrief_path(secret: str, *, guild_id: int, season_number: int, expires_at: datetime) -> str:
    """The path (with its query) of the signed link, valid until ``expires_at``."""
    expires = int(expires_at.timestamp())
    signature = sign_debrief(secret, guild_id=guild_id, season_number=season_number, expires=expires)
    return f"/g/{guild_id}/seasons/{season_number}/debrief?expires={expires}&sig={signature}"


def verify_debrief(
    secret: str | None, *, guild_id: int, season_number: int, expires: str, signature: str, now: datetime
) -> bool:
    """True for a link this secret signed that has not expired yet."""
    if not secret or not expires.isdigit():
        return False
    wanted = sign_debrief(secret, guild_id=guild_id, season_number=season_number, expires=int(expires))
    return hmac.compare_digest(wanted, signature) and now.timestamp() < int(expires)
