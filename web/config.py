"""How the web server is set up: where it listens, the address people reach, limits and the secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

__all__ = ["WebConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebConfig:
    """``public_url`` is what links carry (``http://host:port`` when unset); ``secret`` signs the
    moderators' debrief links (none: no debrief links). ``rate`` requests per ``rate_period``
    seconds are allowed per client address; more get 429. Pages are cached ``cache_seconds`` at
    most, so a change shows within that time (a departure at once: the bot empties the cache)."""

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    secret: str | None = None
    rate: float = 120.0
    rate_period: float = 60.0
    cache_seconds: float = 1.0
    poll_seconds: float = 5.0
    debrief_valid: timedelta = timedelta(hours=24)
    trusted_proxy: bool = False

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path
