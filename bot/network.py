"""Point discord.py at a Discord-compatible server other than discord.com.

Self-hosters (and the integration tests) set ``DISCORD_API_BASE`` and ``DISCORD_GATEWAY_URL``. Both
must move together: ``discord.Client`` does not ask ``GET /gateway/bot`` for its first connection, so
the gateway URL has to be set as well as the REST base.
"""

from __future__ import annotations

import logging

import discord
import discord.gateway
import discord.http
import yarl

log = logging.getLogger(__name__)

_DEFAULT_API_BASE = discord.http.Route.BASE
_DEFAULT_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


def use_discord_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Send REST calls to ``api_base`` and connect the gateway to ``gateway_url`` (None: discord.com)."""
    discord.http.Route.BASE = api_base.rstrip("/") if api_base else _DEFAULT_API_BASE
    gateway = gateway_url or _DEFAULT_GATEWAY
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    if api_base or gateway_url:
        log.info("Using Discord-compatible server: REST %s, gateway %s", discord.http.Route.BASE, gateway)
