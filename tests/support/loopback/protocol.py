"""The numbers of Discord's protocol the loopback server speaks, and its IDs (snowflakes).

Values are Discord's own (opcodes and close codes, permission bits, interaction and option types);
the shard arithmetic is Discord's: a guild belongs to shard ``(guild_id >> 22) % shard_count``.
"""

from __future__ import annotations

import itertools
import math
import time
from datetime import UTC, datetime

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/"
HEARTBEAT_INTERVAL_MS = 41_250
DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

CLOSE_DECODE_ERROR = 4002
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_INVALID_SHARD = 4010

# Permission bits used to build the guilds (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
)

# The application's flags: the members and message content intents, granted.
APPLICATION_FLAGS = (1 << 15) | (1 << 19)

# Interaction types and callback types.
INTERACTION_APPLICATION_COMMAND = 2
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
MESSAGE_FLAG_EPHEMERAL = 1 << 6

# Application command option types.
OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_MENTIONABLE = 9
OPTION_NUMBER = 10

CHANNEL_GUILD_TEXT = 0

# JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035
ALREADY_ACKNOWLEDGED = 40060


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard whose session hears about ``guild_id``, as Discord assigns guilds to shards."""
    return (guild_id >> 22) % shard_count


def shard_spread(shard_counts: int) -> int:
    """The smallest modulus that every shard count from 1 to ``shard_counts`` divides.

    A guild whose timestamp is ``i`` modulo this lands on shard ``i % c`` for each of those counts ``c``.
    """
    return math.lcm(*range(1, shard_counts + 1))


class Snowflakes:
    """Unique, time-ordered Discord IDs, as the real API mints them."""

    def __init__(self) -> None:
        self._increment = itertools.count()

    @staticmethod
    def _millis() -> int:
        return int(time.time() * 1000) - DISCORD_EPOCH_MS

    def __call__(self) -> int:
        return (self._millis() << 22) | (next(self._increment) & 0x3FFFFF)

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """A new ID from the last ``shard_count`` ms that lands on shard ``shard_id`` of ``shard_count``."""
        if not 0 <= shard_id < shard_count:
            raise ValueError(f"shard {shard_id} does not exist among {shard_count}")
        millis = self._millis()
        if shard_count > millis:
            raise ValueError(f"{shard_count} ms reach back before Discord's epoch")
        millis -= (millis - shard_id) % shard_count
        return (millis << 22) | (next(self._increment) & 0x3FFFFF)
