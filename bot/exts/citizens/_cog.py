from __future__ import annotations

import io
import json
import logging
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.client import CitizenBot
from bot.errors import Refusal
from bot.exts.citizens._cards import (
    CARD_FILE,
    HISTORY_FILE,
    card_data,
    card_file,
    history_file,
    recent_change,
)
from bot.exts.citizens._embeds import card_embed, help_embed, ledger_line
from bot.exts.citizens._views import ConfirmLeave
from bot.utils import formatting as fmt
from bot.utils.decrees import TIMELINE_FIELD, timeline_lines
from bot.utils.embeds import lines_field
from bot.utils.guild import guild_of
from bot.utils.web import link_button, page_link
from game.db import reading, run_in_transaction
from game.errors import ErrorCode, NotEnrolled
from game.models import SeasonStatus
from game.services import citizens, decrees, guilds, privacy, queries, seasons

log = logging.getLogger(__name__)

MYDATA_FILE = "citizen-score-my-data.json"
HISTORY_ENTRIES = 10


def _not_a_bot(member: discord.abc.User) -> None:
    if member.bot:
        raise Refusal("Bots are not citizens: the Bureau keeps no score for them.")


def _held(data: dict[str, Any]) -> str:
    """``1 citizen record, 12 ledger entries, ...``: what an export holds, in words."""
    counts = [
        fmt.plural(len(data["seasons"]), "citizen record"),
        fmt.plural(len(data["ledger"]), "ledger entry", "ledger entries"),
        fmt.plural(len(data["purchases"]), "purchase"),
        fmt.plural(len(data["friends"]), "friendship"),
        fmt.plural(len(data["permits"]), "permit request"),
        fmt.plural(len(data["appeals"]), "appeal"),
    ]
    return ", ".join(counts)


def _someone_else(interaction: discord.Interaction[Any], member: discord.abc.User) -> bool:
    return member.id != interaction.user.id


class Citizens(commands.Cog):
    """A member's own side of the game. Every answer comes from ``game/``; the cog only shows it."""

    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    # ------------------------------------------------------------------------------- join and leave

    @app_commands.command(
        name="join", description="Become a citizen of this season: a score, a wallet, a record."
    )
    @app_commands.guild_only()
    async def join(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            joined = await citizens.join_or_open(
                session,
                guild_id=guild.id,
                user_id=interaction.user.id,
                display_name=interaction.user.display_name,
                now=self.bot.clock.now(),
            )
        citizen, scenario, opened = joined.citizen, joined.scenario, joined.opened
        if opened is not None:
            # A server that has never played opened its first season with its first citizen.
            self.bot.season_scheduler.schedule_season(opened)
        self.bot.game_state_changed(guild.id)
        self.bot.courier.wake()
        embed = discord.Embed(
            title=f"Welcome, citizen #{citizen.number}",
            description=(
                f"## {fmt.number(citizen.score)} \N{MIDDLE DOT} {citizen.tier_name}\n"
                f"{interaction.user.mention} starts with {fmt.credits(citizen.balance)}. "
                "From now on the Bureau records what you say in game channels and what you buy.\n"
                "`/help` explains the rules; `/leave` deletes everything about you."
            ),
            colour=fmt.score_colour(citizen.score, scenario.score.minimum, scenario.score.maximum),
        )
        if opened is not None:
            embed.add_field(
                name="A season has begun",
                value=(
                    f"This server's first season opened with you: {scenario.name}, "
                    f"for {fmt.duration(opened.ends_at - opened.started_at)}. "
                    "Moderators can end it and start another with `/season start`, "
                    "and choose the game channels with `/setup game-channel add`."
                ),
                inline=False,
            )
        await interaction.response.send_message(embed=embed)

    async def _own_record(
        self, interaction: discord.Interaction[Any], *, nothing_to: str
    ) -> tuple[discord.Guild, dict[str, Any]]:
        """Everything stored about the member here (for /leave and /mydata)."""
        guild = guild_of(interaction)
        # A long season is a long record: acknowledge first, privately, so a refusal stays private too.
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.bot.reading() as session:
            data = await privacy.export_data(
                session, guild_id=guild.id, user_id=interaction.user.id, now=self.bot.clock.now()
            )
        if not data["seasons"]:
            raise NotEnrolled(ErrorCode.NO_RECORD, purpose=nothing_to)
        return guild, data

    @app_commands.command(name="leave", description="Leave the game and delete everything stored about you.")
    @app_commands.guild_only()
    async def leave(self, interaction: discord.Interaction[Any]) -> None:
        guild, data = await self._own_record(interaction, nothing_to="delete")
        embed = discord.Embed(
            title="Leave the game?",
            description=(
                "This deletes everything the Bureau holds about you in this server, in every season: "
                f"{_held(data)}. It cannot be undone.\n"
                "`/mydata` gives you a copy first, if you want one."
            ),
            colour=discord.Colour.dark_red(),
        )
        view = ConfirmLeave(self.bot, owner_id=interaction.user.id, guild_id=guild.id)
        view.message = await interaction.followup.send(embed=embed, view=view, ephemeral=True, wait=True)

    @app_commands.command(name="mydata", description="Everything stored about you here, as a JSON file.")
    @app_commands.guild_only()
    async def mydata(self, interaction: discord.Interaction[Any]) -> None:
        _guild, data = await self._own_record(interaction, nothing_to="export")
        payload = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
        file = discord.File(io.BytesIO(payload), filename=MYDATA_FILE)
        summary = f"Everything the Bureau holds about you here: {_held(data)}. Only you can see this."
        await interaction.followup.send(summary, file=file, ephemeral=True)

    # ------------------------------------------------------------------------------- the public record

    @app_commands.command(
        name="score", description="A citizen's card: score, tier, breakdown, for all to see."
    )
    @app_commands.describe(citizen="Whose card (yours when left empty)")
    @app_commands.guild_only()
    async def score(
        self, interaction: discord.Interaction[Any], citizen: discord.Member | None = None
    ) -> None:
        guild = guild_of(interaction)
        target = citizen or interaction.user
        _not_a_bot(target)
        now = self.bot.clock.now()
        # A read transaction: on SQLite it never waits for a writer, a running audit included.
        async with reading(self.bot.engine) as session:
            card = await citizens.citizen_card(
                session,
                guild_id=guild.id,
                user_id=target.id,
                now=now,
                count_lookup=False,
                yourself=not _someone_else(interaction, target),
            )
            scenario = await seasons.season_rules(session, guild_id=guild.id)
            history = await queries.score_history(session, citizen_id=card.citizen.id)
        # Drawing takes a moment: acknowledge first. Every refusal above was sent before this point,
        # privately; nothing below is an error the member must read.
        await interaction.response.defer(thinking=True)
        # The look-up is counted in its own short write, which may wait for an audit; the card does not.
        card = card.counted()
        self.bot.spawn(self._count_lookup(card.citizen.id, now), name="count a card look-up")
        embed = card_embed(
            card,
            now=now,
            score_floor=scenario.score.minimum,
            score_ceiling=scenario.score.maximum,
            change=recent_change(history),
        )
        file = await card_file(card_data(card, scenario, history))
        view = discord.utils.MISSING
        if url := await page_link(self.bot, guild.id, f"/c/{card.citizen.number}"):
            view = discord.ui.View()
            view.add_item(link_button(url))
        if file is None:
            await interaction.followup.send(embed=embed, view=view)
            return
        embed.set_image(url=f"attachment://{CARD_FILE}")
        await interaction.followup.send(embed=embed, file=file, view=view)

    async def _count_lookup(self, citizen_id: int, now: datetime) -> None:
        async def count(session: AsyncSession) -> int:
            return await citizens.count_card_lookup(session, citizen_id=citizen_id, now=now)

        await run_in_transaction(self.bot.engine, count)

    @app_commands.command(name="history", description="A citizen's score over the season, with the reasons.")
    @app_commands.describe(citizen="Whose history (yours when left empty)")
    @app_commands.guild_only()
    async def history(
        self, interaction: discord.Interaction[Any], citizen: discord.Member | None = None
    ) -> None:
        guild = guild_of(interaction)
        target = citizen or interaction.user
        _not_a_bot(target)
        now = self.bot.clock.now()
        async with self.bot.reading() as session:
            found = await citizens.get_citizen(session, guild_id=guild.id, user_id=target.id)
            if found is None:
                raise (
                    NotEnrolled(ErrorCode.MEMBER_NOT_ENROLLED)
                    if _someone_else(interaction, target)
                    else NotEnrolled()
                )
            points = await queries.score_history(session, citizen_id=found.id)
            entries = await queries.latest_entries(session, citizen_id=found.id, limit=HISTORY_ENTRIES)
            scenario = await seasons.season_rules(session, guild_id=guild.id)
            season = await seasons.current_season(session, guild_id=guild.id)
        await interaction.response.defer(thinking=True)
        name = discord.utils.escape_markdown(found.display_name)
        change = recent_change(points)
        headline = f"## {fmt.number(found.score)} \N{MIDDLE DOT} {found.tier_name}"
        if change is not None:
            since_start = fmt.signed(found.score - scenario.score.start)
            headline += f"\n{fmt.signed(change)} at the last change, {since_start} since the start"
        whose = f"{name}'s" if _someone_else(interaction, target) else "Your"
        embed = discord.Embed(
            title=f"{whose} record \N{MIDDLE DOT} Citizen #{found.number}",
            description=headline,
            colour=fmt.score_colour(found.score, scenario.score.minimum, scenario.score.maximum),
        )
        lines = [ledger_line(entry, now=now) for entry in entries]
        embed.add_field(
            name="Latest entries",
            value=lines_field(lines, empty="Nothing yet: the Bureau has not judged this citizen so far."),
            inline=False,
        )
        embed.set_footer(text="Contest a penalty with /appeal and its number.")
        number = season.number if season else 0
        file = await history_file(points, title=f"{found.display_name}, season {number}", scenario=scenario)
        if file is None:
            await interaction.followup.send(embed=embed)
            return
        embed.set_image(url=f"attachment://{HISTORY_FILE}")
        await interaction.followup.send(embed=embed, file=file)

    @app_commands.command(name="brag", description="Post your score card in the brag channel.")
    @app_commands.guild_only()
    async def brag(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        now = self.bot.clock.now()
        async with self.bot.transaction() as session:
            card = await citizens.citizen_card(
                session, guild_id=guild.id, user_id=interaction.user.id, now=now, count_lookup=False
            )
            settings = await guilds.get_guild_settings(session, guild_id=guild.id)
            scenario = await seasons.season_rules(session, guild_id=guild.id)
            history = await queries.score_history(session, citizen_id=card.citizen.id)
        channel = guild.get_channel(settings.brag_channel_id) if settings.brag_channel_id else None
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            raise Refusal(
                "This server has no brag channel yet; a moderator can choose one with /setup channels."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        file = await card_file(card_data(card, scenario, history))
        text = (
            f"{interaction.user.mention} is proud to report a score of **{fmt.number(card.citizen.score)}** "
            f"({card.citizen.tier_name}), rank {fmt.rank(card.rank, card.citizens)}."
        )
        if file is None:
            embed = card_embed(
                card, now=now, score_floor=scenario.score.minimum, score_ceiling=scenario.score.maximum
            )
            posted = await channel.send(text, embed=embed, allowed_mentions=discord.AllowedMentions.none())
        else:
            posted = await channel.send(text, file=file, allowed_mentions=discord.AllowedMentions.none())
        # The channel, not a web link to the message: a mention opens the channel in any client (and in
        # an offline preview, where a discord.com address leads nowhere); the card is its newest post.
        await interaction.followup.send(
            f"Your card is up in {channel.mention}, message {posted.id}.", ephemeral=True
        )

    # ------------------------------------------------------------------------------------------ help

    @app_commands.command(name="help", description="How the game works here: tiers, topics, credits.")
    @app_commands.guild_only()
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.reading() as session:
            season = await seasons.current_season(session, guild_id=guild.id)
            # The rules in force: /help shows the topics a decree added and the penalties it multiplied.
            scenario = await decrees.rules_in_force(session, guild_id=guild.id) if season else None
            board = await decrees.decree_board(session, guild_id=guild.id) if season else None
        if season is None:
            embed = help_embed(None)
        else:
            embed = help_embed(scenario, season_note=self._season_note(season))
            timeline = timeline_lines(board, self.bot.clock.now())
            if timeline:
                embed.add_field(name=TIMELINE_FIELD, value=timeline, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    def _season_note(self, season: seasons.SeasonView) -> str:
        if season.status is SeasonStatus.PAUSED:
            return "The season is paused: nothing is audited until the Bureau resumes it."
        left = season.time_left(self.bot.clock.now())
        return (
            f"The Bureau audits every **{fmt.duration(season.audit_every)}**; "
            f"the season ends in {fmt.duration(left)}."
        )
