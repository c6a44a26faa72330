"""Tier roles kept in sync: each citizen holds exactly the role of the tier the database holds now.

An outbox row only says "this member's tier may have changed"; the citizen's current tier is the
truth, so rows delivered late, twice or out of order all end in the right roles. A member who left, or
whose season is over, keeps no tier role. Members whose roles are already right cost no request; the
others are changed one role at a time (never overwriting roles others change), paced by a leaky
bucket (:class:`aiolimiter.AsyncLimiter`) well inside Discord's limits on role edits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import discord
from aiolimiter import AsyncLimiter

from bot.courier.post import DeliveryProblem
from bot.utils.guild import role_problem
from game.errors import NoActiveSeason
from game.services import citizens, guilds, seasons

if TYPE_CHECKING:
    from bot.client import CitizenBot

__all__ = ["RoleKeeper"]


class RoleKeeper:
    """Gives and takes tier roles for one bot, at most ``rate`` edits a second after a ``burst``."""

    def __init__(self, bot: CitizenBot, *, rate: float = 2.0, burst: int = 5) -> None:
        self.bot = bot
        self.limiter = AsyncLimiter(max_rate=burst, time_period=burst / rate)

    async def sync(self, guild: discord.Guild, user_ids: Sequence[int]) -> None:
        """Give each member the role of their tier now, and take the other tier roles."""
        async with self.bot.reading() as session:
            mapping = dict(await guilds.get_tier_roles(session, guild_id=guild.id))
            tiers: dict[int, str | None] = {}
            for user_id in user_ids:
                try:
                    citizen = await citizens.get_citizen(session, guild_id=guild.id, user_id=user_id)
                except NoActiveSeason:
                    citizen = None
                tiers[user_id] = citizen.tier_key if citizen else None
        if not mapping:
            return
        for user_id, tier_key in tiers.items():
            await self.set_tier_role(guild, user_id, mapping, mapping.get(tier_key) if tier_key else None)

    async def resync_guild(self, guild: discord.Guild) -> None:
        """Every citizen's tier role in line with the database (after /setup roles, or once a role
        problem is fixed)."""
        async with self.bot.reading() as session:
            season = await seasons.current_season(session, guild_id=guild.id)
            lines = await seasons.standings(session, season_id=season.id) if season else ()
        await self.sync(guild, [line.user_id for line in lines])

    async def set_tier_role(
        self, guild: discord.Guild, user_id: int, mapping: Mapping[str, int], wanted_id: int | None
    ) -> bool:
        """Make ``user_id`` hold exactly ``wanted_id`` among the tier roles; ``True`` if roles changed."""
        member = guild.get_member(user_id)
        if member is None:
            return False
        tier_role_ids = set(mapping.values())
        held = {role.id for role in member.roles}
        to_add = {wanted_id} - held if wanted_id else set()
        to_remove = (held & tier_role_ids) - {wanted_id}
        if not to_add and not to_remove:
            return False
        changes: list[tuple[discord.Role, bool]] = []
        for role_id, adding in [(r, False) for r in sorted(to_remove)] + [(r, True) for r in sorted(to_add)]:
            role = guild.get_role(role_id)
            problem = (
                "a tier role was deleted: run /setup roles to recreate it."
                if role is None
                else role_problem(role, guild.me)
            )
            if problem or role is None:
                raise DeliveryProblem(
                    f"role-{role_id}",
                    f"I cannot update tier roles: {problem} Scores and tiers are safe in the ledger; "
                    "roles catch up once this is fixed (run /setup roles to hurry them).",
                )
            changes.append((role, adding))
        for role, adding in changes:
            async with self.limiter:
                try:
                    if adding:
                        await member.add_roles(role, reason="Citizen Score: tier changed")
                    else:
                        await member.remove_roles(role, reason="Citizen Score: tier changed")
                except discord.Forbidden as error:
                    raise DeliveryProblem(
                        "roles-forbidden",
                        f"Discord refused to change tier roles ({error.text or 'missing permission'}). "
                        "Give me Manage Roles and drag my role above the tier roles in Server Settings → "
                        "Roles. Scores and tiers are safe in the ledger; roles catch up once this is fixed.",
                    ) from error
                except discord.NotFound:
                    return False
        return True

    async def clear(self, guild: discord.Guild) -> None:
        """At a season's end nobody keeps a tier role."""
        async with self.bot.reading() as session:
            mapping = dict(await guilds.get_tier_roles(session, guild_id=guild.id))
        tier_role_ids = set(mapping.values())
        for member in list(guild.members):
            if any(role.id in tier_role_ids for role in member.roles):
                await self.set_tier_role(guild, member.id, mapping, None)
