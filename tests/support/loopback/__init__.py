"""A small Discord-compatible server on 127.0.0.1, for tests and benchmarks.

It speaks the parts of Discord's HTTP API v10 and gateway v10 that a bot touches between
``bot.start(token)`` and answering a slash command, written from the protocol, not from discord.py:
the REST routes a bot (or several processes of one) needs, recorded so a test can count deliveries
(:mod:`.rest`, :mod:`.interactions`); the gateway with zlib-stream compression and sharding as
Discord does it (:mod:`.gateway`); the guilds, members, roles and channels (:mod:`.state`,
:mod:`.world`). :class:`LoopbackDiscord` (:mod:`.server`) wires them together.

Tests drive it with :meth:`LoopbackDiscord.push_message_create` (a burst of MESSAGE_CREATE events,
encoded before the first is sent so that encoding is not timed) and
:meth:`LoopbackDiscord.push_slash_command` (an INTERACTION_CREATE for a synced command, awaiting the
bot's answer on the callback route), and assert on :attr:`LoopbackDiscord.requests`. The ``wait_for_*``
and ``push_slash_command`` coroutines wait as long as it takes: bound them with ``asyncio.wait_for``.

Point a bot at it with ``api_base`` (for ``discord.http.Route.BASE``) and ``gateway_url`` (for
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``). ``python -m tests.support.loopback`` runs
one in the foreground, for trying a bot by hand.
"""

from tests.support.loopback.gateway import BurstReport, GatewaySession
from tests.support.loopback.interactions import InteractionReply
from tests.support.loopback.protocol import Snowflakes, shard_of, snowflake_time
from tests.support.loopback.recording import RecordedRequest, Upload
from tests.support.loopback.server import DEFAULT_CHATTER, LoopbackDiscord
from tests.support.loopback.state import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser

__all__ = [
    "DEFAULT_CHATTER",
    "BurstReport",
    "FakeChannel",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "GatewaySession",
    "InteractionReply",
    "LoopbackDiscord",
    "RecordedRequest",
    "Snowflakes",
    "Upload",
    "shard_of",
    "snowflake_time",
]
