from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from game.db import transaction
from game.errors import ErrorCode, InvalidInput
from game.services import guilds
from tests.support.refusals import refused

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
GUILD = 900_000_000_000_000_001  # a real-sized snowflake: overflows a 32-bit column
OTHER_GUILD = 900_000_000_000_000_002


async def test_settings_default_then_update_and_clear(engine: AsyncEngine) -> None:
    async with transaction(engine) as session:
        assert await guilds.get_guild_settings(session, guild_id=GUILD) == guilds.GuildSetup(guild_id=GUILD)
        updated = await guilds.update_guild_settings(
            session,
            guild_id=GUILD,
            now=NOW,
            announcements_channel_id=10**18 + 1,
            moderator_role_id=10**18 + 2,
        )
    assert updated.configured
    assert updated.announcements_channel_id == 10**18 + 1
    assert updated.brag_channel_id is None
    async with transaction(engine) as session:
        again = await guilds.update_guild_settings(
            session, guild_id=GUILD, now=NOW, brag_channel_id=10**18 + 3, announcements_channel_id=None
        )
    assert again.announcements_channel_id is None
    assert again.brag_channel_id == 10**18 + 3
    assert again.moderator_role_id == 10**18 + 2  # unchanged when not given
    async with transaction(engine) as session:
        assert await guilds.get_guild_settings(session, guild_id=GUILD) == again
        assert not (await guilds.get_guild_settings(session, guild_id=OTHER_GUILD)).configured


async def test_game_channels_add_remove_list(engine: AsyncEngine) -> None:
    async with transaction(engine) as session:
        assert await guilds.add_game_channel(session, guild_id=GUILD, channel_id=10**18 + 7)
        assert await guilds.add_game_channel(session, guild_id=GUILD, channel_id=5)
        assert not await guilds.add_game_channel(session, guild_id=GUILD, channel_id=5)
        assert await guilds.add_game_channel(session, guild_id=OTHER_GUILD, channel_id=6)
    async with transaction(engine) as session:
        assert await guilds.list_game_channels(session, guild_id=GUILD) == (5, 10**18 + 7)
        assert await guilds.is_game_channel(session, guild_id=GUILD, channel_id=5)
        assert not await guilds.is_game_channel(session, guild_id=GUILD, channel_id=6)
        assert await guilds.remove_game_channel(session, guild_id=GUILD, channel_id=5)
        assert not await guilds.remove_game_channel(session, guild_id=GUILD, channel_id=5)
    async with transaction(engine) as session:
        assert await guilds.list_game_channels(session, guild_id=GUILD) == (10**18 + 7,)
        assert await guilds.list_game_channels(session, guild_id=OTHER_GUILD) == (6,)


async def test_game_channel_limit(engine: AsyncEngine) -> None:
    async with transaction(engine) as session:
        for channel in range(guilds.MAX_GAME_CHANNELS):
            await guilds.add_game_channel(session, guild_id=GUILD, channel_id=channel + 1)
    async with transaction(engine) as session:
        with refused(InvalidInput, ErrorCode.TOO_MANY_GAME_CHANNELS):
            await guilds.add_game_channel(session, guild_id=GUILD, channel_id=999)


async def test_tier_roles_set_replace_remove(engine: AsyncEngine) -> None:
    async with transaction(engine) as session:
        await guilds.set_tier_role(session, guild_id=GUILD, tier_key="visa", role_id=10**18 + 11)
        await guilds.set_tier_role(session, guild_id=GUILD, tier_key="travel_permit", role_id=12)
        await guilds.set_tier_role(session, guild_id=OTHER_GUILD, tier_key="visa", role_id=13)
    async with transaction(engine) as session:
        await guilds.set_tier_role(session, guild_id=GUILD, tier_key="visa", role_id=14)
        await guilds.set_tier_role(session, guild_id=GUILD, tier_key="travel_permit", role_id=None)
        await guilds.set_tier_role(session, guild_id=GUILD, tier_key="model", role_id=None)  # absent: no-op
    async with transaction(engine) as session:
        assert dict(await guilds.get_tier_roles(session, guild_id=GUILD)) == {"visa": 14}
        assert dict(await guilds.get_tier_roles(session, guild_id=OTHER_GUILD)) == {"visa": 13}
        with refused(InvalidInput, ErrorCode.TIER_KEY_INVALID):
            await guilds.set_tier_role(session, guild_id=GUILD, tier_key="  ", role_id=1)
