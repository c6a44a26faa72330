from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitizenBot
from bot.errors import Refusal
from bot.exts.friends._views import FriendAnswer, request_view
from bot.utils import formatting as fmt
from bot.utils.embeds import GAME_COLOUR, lines_field
from bot.utils.guild import guild_of
from game.errors import GameError
from game.services import friends, seasons
from game.services.friends import RequestOutcome

_MENTION = re.compile(r"<@!?([0-9]{15,20})>|([0-9]{15,20})")


def pick_user(typed: str, candidates: Iterable[tuple[int, str]], *, what: str) -> int:
    """The member a typed value names: an autocomplete choice (their id), a mention, or a name
    among ``candidates``. The service then says whether that member fits (friend, request ...)."""
    text = typed.strip()
    match = _MENTION.fullmatch(text)
    if match:
        return int(match.group(1) or match.group(2))
    for user_id, name in candidates:
        if name.casefold() == text.casefold():
            return user_id
    raise Refusal(f"I found no {what} called “{fmt.escape(fmt.truncate(text, 40))}”; pick one from the list.")


def _choices(candidates: Iterable[tuple[int, str]], current: str) -> list[app_commands.Choice[str]]:
    typed = current.strip().casefold()
    return [
        app_commands.Choice(name=fmt.truncate(label, 100), value=str(user_id))
        for user_id, label in candidates
        if typed in label.casefold()
    ][:25]


class Friends(commands.Cog):
    friend = app_commands.Group(
        name="friend", description="Friends share the consequences of what they say and buy.", guild_only=True
    )

    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        # Persistent: buttons on requests sent before a restart still answer.
        self.bot.add_dynamic_items(FriendAnswer)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(FriendAnswer)

    # ------------------------------------------------------------------------------------- commands

    @friend.command(name="add", description="Ask another citizen to be your friend.")
    @app_commands.describe(user="The citizen to ask")
    async def add(self, interaction: discord.Interaction[Any], user: discord.Member) -> None:
        guild = guild_of(interaction)
        if user.bot:
            raise Refusal("Bots are not citizens, so they cannot be your friends.")
        async with self.bot.transaction() as session:
            outcome = await friends.request_friend(
                session,
                guild_id=guild.id,
                user_id=interaction.user.id,
                friend_user_id=user.id,
                now=self.bot.clock.now(),
            )
        if outcome.outcome is RequestOutcome.ACCEPTED:
            await interaction.response.send_message(
                f"\N{HANDSHAKE} {interaction.user.mention} and {user.mention} are friends now: "
                f"{discord.utils.escape_markdown(user.display_name)} had already asked.",
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        view = request_view(request_id=outcome.request_id, asker_id=interaction.user.id, asked_id=user.id)
        await interaction.response.send_message(
            f"{user.mention}, {interaction.user.mention} would like to be your friend.\n"
            "-# Friends share the consequences: each audit you lose a part of your friends' penalties.",
            view=view,
            # Ping the member asked, so the request reaches them; not the one asking.
            allowed_mentions=discord.AllowedMentions(users=[user]),
        )

    @friend.command(name="accept", description="Accept a friend request.")
    @app_commands.describe(user="Who asked you")
    async def accept(
        self, interaction: discord.Interaction[Any], user: app_commands.Range[str, 1, 100]
    ) -> None:
        asker = await self._answer_request(interaction, user, friends.accept_friend)
        await interaction.response.send_message(
            f"\N{HANDSHAKE} {interaction.user.mention} and <@{asker}> are friends now.",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @friend.command(name="decline", description="Decline a friend request.")
    @app_commands.describe(user="Who asked you")
    async def decline(
        self, interaction: discord.Interaction[Any], user: app_commands.Range[str, 1, 100]
    ) -> None:
        asker = await self._answer_request(interaction, user, friends.decline_friend)
        await interaction.response.send_message(
            f"You declined <@{asker}>'s friend request. They may ask again later.", ephemeral=True
        )

    @friend.command(name="remove", description="End a friendship, at once.")
    @app_commands.describe(user="The friend to remove")
    async def remove(
        self, interaction: discord.Interaction[Any], user: app_commands.Range[str, 1, 100]
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.reading() as session:
            mine = await friends.list_friends(session, guild_id=guild.id, user_id=interaction.user.id)
        friend_id = pick_user(user, [(f.user_id, f.display_name) for f in mine], what="friend")
        async with self.bot.transaction() as session:
            await friends.remove_friend(
                session,
                guild_id=guild.id,
                user_id=interaction.user.id,
                friend_user_id=friend_id,
                now=self.bot.clock.now(),
            )
        await interaction.response.send_message(
            f"<@{friend_id}> is no longer your friend. Their penalties no longer cost you anything.",
            ephemeral=True,
        )

    @friend.command(name="list", description="Your friends, their scores, and what each has cost you.")
    async def list_friends(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.reading() as session:
            mine = await friends.list_friends(session, guild_id=guild.id, user_id=interaction.user.id)
            incoming, outgoing = await friends.pending_friend_requests(
                session, guild_id=guild.id, user_id=interaction.user.id
            )
            scenario = await seasons.season_rules(session, guild_id=guild.id)
        tiers = {tier.key: tier.name for tier in scenario.tiers}
        lines = []
        for line in mine:
            cost = f"cost you **{fmt.signed(line.cost)}**" if line.cost else "cost you nothing yet"
            name = discord.utils.escape_markdown(line.display_name)
            tier = tiers.get(line.tier_key, line.tier_key)
            lines.append(f"**{name}** {fmt.number(line.score)} \N{MIDDLE DOT} {tier} \N{MIDDLE DOT} {cost}")
        total = sum(line.cost for line in mine)
        embed = discord.Embed(
            title=f"\N{HANDSHAKE} Your friends ({len(mine)} of {scenario.friends.max_friends})",
            description=lines_field(lines, limit=4000, empty="No friends yet: `/friend add` asks someone."),
            colour=GAME_COLOUR,
        )
        if total:
            embed.description = (
                f"Together they have cost you **{fmt.signed(total)}** this season.\n\n{embed.description}"
            )
        if incoming:
            waiting = ", ".join(discord.utils.escape_markdown(r.from_display_name) for r in incoming)
            embed.add_field(
                name="Waiting for your answer",
                value=fmt.truncate(f"{waiting} \N{MIDDLE DOT} `/friend accept`", 1024),
            )
        if outgoing:
            asked = ", ".join(discord.utils.escape_markdown(r.to_display_name) for r in outgoing)
            embed.add_field(name="You asked", value=fmt.truncate(asked, 1024))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # --------------------------------------------------------------------------------- autocomplete

    async def _answer_request(
        self, interaction: discord.Interaction[Any], typed: str, answer: Callable[..., Awaitable[Any]]
    ) -> int:
        """Accept or decline (``answer``) the request from the member ``typed`` names; their user id."""
        guild = guild_of(interaction)
        incoming = await self._incoming(guild.id, interaction.user.id)
        asker = pick_user(typed, incoming, what="friend request from anyone")
        async with self.bot.transaction() as session:
            await answer(
                session,
                guild_id=guild.id,
                user_id=interaction.user.id,
                from_user_id=asker,
                now=self.bot.clock.now(),
            )
        return asker

    async def _incoming(self, guild_id: int, user_id: int) -> list[tuple[int, str]]:
        async with self.bot.reading() as session:
            incoming, _ = await friends.pending_friend_requests(session, guild_id=guild_id, user_id=user_id)
        return [(request.from_user_id, request.from_display_name) for request in incoming]

    @accept.autocomplete("user")
    @decline.autocomplete("user")
    async def _requests(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild is None:
            return []
        try:
            incoming = await self._incoming(interaction.guild.id, interaction.user.id)
        except GameError:
            return []
        return _choices(incoming, current)

    @remove.autocomplete("user")
    async def _friends(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild is None:
            return []
        try:
            async with self.bot.reading() as session:
                mine = await friends.list_friends(
                    session, guild_id=interaction.guild.id, user_id=interaction.user.id
                )
        except GameError:
            return []
        labels = [
            (f.user_id, f"{f.display_name} \N{EM DASH} {fmt.number(f.score)}, cost you {fmt.signed(f.cost)}")
            for f in mine
        ]
        return _choices(labels, current)
