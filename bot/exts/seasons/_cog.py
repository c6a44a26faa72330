from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands, tasks
from discord.utils import format_dt

from bot.checks import moderator_only
from bot.client import CitizenBot
from bot.courier.debrief import build_debrief, debrief_files
from bot.courier.posts import season_start_embed
from bot.errors import Refusal
from bot.exts.seasons._views import ConfirmEnd
from bot.utils import formatting as fmt
from bot.utils.choices import scenario_choices
from bot.utils.decrees import TIMELINE_FIELD, timeline_lines
from bot.utils.embeds import bureau_embed, warning_embed
from bot.utils.guild import DEFAULT_MODERATOR_PERMISSIONS, guild_of
from bot.utils.web import debrief_link, link_button, page_link
from game.errors import NoActiveSeason
from game.models import Enrollment, SeasonStatus
from game.rules.durations import parse_duration
from game.scenario import load_scenario
from game.services import decrees, guilds, seasons
from game.services.seasons import SeasonView

log = logging.getLogger(__name__)

# How often the bot looks at the game's clock for a due audit or season end. APScheduler wakes the
# bot on time; this heartbeat is the safety net, and what moves audits on a simulated clock. It asks
# the database only once the earliest known due time has come.
HEARTBEAT_S = 10.0
# How long the signed link to the debrief that /season report gives keeps working.
DEBRIEF_LINK_VALID = timedelta(hours=24)


STATUS_WORDS = {
    SeasonStatus.RUNNING: "\N{LARGE GREEN CIRCLE} Running",
    SeasonStatus.PAUSED: "\N{DOUBLE VERTICAL BAR} Paused",
    SeasonStatus.ENDED: "\N{CHEQUERED FLAG} Ended",
}


class Seasons(commands.Cog):
    """Start, watch, pause, resume and end seasons; every command is the Bureau's."""

    season = app_commands.Group(
        name="season",
        description="Run the season: start, status, pause, resume, end, report, enrolment.",
        guild_only=True,
        default_permissions=DEFAULT_MODERATOR_PERMISSIONS,
    )

    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot
        # The earliest time an audit or a season's end can be due; None: look now.
        self._next_due: datetime | None = None
        bot.on_game_state_change(self._forget_due)
        self.heartbeat.start()

    async def cog_unload(self) -> None:
        self.heartbeat.cancel()

    def _forget_due(self, _guild_id: int) -> None:
        self._next_due = None

    @tasks.loop(seconds=HEARTBEAT_S)
    async def heartbeat(self) -> None:
        scheduler = self.bot.season_scheduler
        if not scheduler.scheduled:
            return
        now = self.bot.clock.now()
        if self._next_due is not None and now < self._next_due:
            return
        try:
            await scheduler.run_pending(now)
            self._next_due = await scheduler.next_due()
        except Exception:
            self._next_due = None
            log.exception("season heartbeat failed")

    @heartbeat.before_loop
    async def _before_heartbeat(self) -> None:
        await self.bot.wait_until_ready()

    # ------------------------------------------------------------------------------------------ start

    @season.command(name="start", description="Start a season: a scenario, how long, how often to audit.")
    @app_commands.describe(
        scenario="The scenario pack to play",
        duration="How long the season lasts, e.g. 2h, 90m, 1d (default: the scenario's)",
        audit_every="How often the Bureau audits, e.g. 15m, 30s (default: the scenario's)",
    )
    @app_commands.autocomplete(scenario=scenario_choices)
    @moderator_only()
    async def start(
        self,
        interaction: discord.Interaction[Any],
        scenario: str,
        duration: app_commands.Range[str, 1, 40] | None = None,
        audit_every: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        length = parse_duration(duration) if duration else None
        interval = parse_duration(audit_every) if audit_every else None
        pack = load_scenario(scenario.strip().lower())
        now = self.bot.clock.now()
        async with self.bot.transaction() as session:
            settings = await guilds.get_guild_settings(session, guild_id=guild.id)
            channel_id = settings.announcements_channel_id
            announced_in = channel_id if channel_id and guild.get_channel(channel_id) else None
            view = await seasons.start_season(
                session,
                guild_id=guild.id,
                scenario_key=pack.key,
                now=now,
                duration=length,
                audit_every=interval,
                started_by=interaction.user.id,
                announce=announced_in is not None,
            )
            announcement = await seasons.season_announcement(session, view=view)
        self.bot.season_scheduler.schedule_season(view)
        self.bot.game_state_changed(guild.id)
        self.bot.courier.wake()

        warnings = []
        if not announcement.game_channel_ids:
            warnings.append("No game channel is watched yet: add one with /setup game-channel add.")
        if announced_in is None:
            # Nowhere to announce: the moderator's reply is the announcement, for everyone here.
            embeds = [season_start_embed(announcement)]
            ephemeral = False
            warnings.append("No announcements channel is set: choose one with /setup channels.")
        else:
            embeds = [
                bureau_embed(
                    f"Season {view.number} started",
                    f"{pack.name}, announced in <#{announced_in}>. "
                    f"First audit {format_dt(view.next_audit_at, 'R')}.",
                )
            ]
            ephemeral = True
        if warnings:
            embeds.append(warning_embed("Before citizens play", "\n".join(warnings)))
        await interaction.response.send_message(embeds=embeds, ephemeral=ephemeral)

    # ----------------------------------------------------------------------------------------- status

    @season.command(name="status", description="How the season stands: time left, next audit, citizens.")
    @moderator_only()
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.reading() as session:
            view = await seasons.current_season(session, guild_id=guild.id)
            past = await seasons.past_seasons(session, guild_id=guild.id, limit=5) if view is None else ()
            board = await decrees.decree_board(session, guild_id=guild.id) if view is not None else None
        if view is None:
            lines = [
                f"Season {s.number}: {s.scenario_name}, ended {format_dt(s.ended_at or s.ends_at, 'R')}"
                for s in past
            ]
            text = "No season is running. Start one with /season start."
            if lines:
                text += "\n\n**Past seasons**\n" + "\n".join(lines)
            await interaction.response.send_message(embed=bureau_embed("No season", text), ephemeral=True)
            return
        embed = self._status_embed(view)
        timeline = timeline_lines(board, self.bot.clock.now())
        if timeline:
            embed.add_field(name=TIMELINE_FIELD, value=timeline, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    def _status_embed(self, view: SeasonView) -> discord.Embed:
        now = self.bot.clock.now()
        embed = bureau_embed(f"Season {view.number}: {view.scenario_name}", STATUS_WORDS[view.status])
        embed.add_field(name="Time left", value=fmt.duration(view.time_left(now)), inline=True)
        embed.add_field(name="Citizens", value=fmt.number(view.citizens), inline=True)
        embed.add_field(name="Audits so far", value=fmt.number(view.last_audit_number), inline=True)
        if view.status is SeasonStatus.RUNNING:
            embed.add_field(
                name="Next audit",
                value=f"{fmt.until(view.next_audit_at, now)} (every {fmt.duration(view.audit_every)})",
                inline=False,
            )
            embed.add_field(name="Ends", value=format_dt(view.ends_at), inline=False)
        else:
            embed.add_field(
                name="Audits", value=f"every {fmt.duration(view.audit_every)}, paused", inline=False
            )
        embed.add_field(name="Enrolment", value=fmt.ENROLMENT_WORDS[view.enrollment], inline=False)
        return embed

    # ------------------------------------------------------------------------------- pause and resume

    @season.command(name="pause", description="Freeze the season: no audits, joining or shopping.")
    @moderator_only()
    async def pause(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            view = await seasons.pause_season(session, guild_id=guild.id, now=self.bot.clock.now())
        self.bot.season_scheduler.unschedule_season(view.id)
        self.bot.game_state_changed(guild.id)
        await interaction.response.send_message(
            embed=bureau_embed(
                f"Season {view.number} is paused",
                "No audits, no joining, no shopping, and nothing said is recorded until /season resume. "
                f"The clock stops with it: {fmt.duration(view.time_left(self.bot.clock.now()))} remain.",
            ),
            ephemeral=True,
        )

    @season.command(name="resume", description="Start a paused season again.")
    @moderator_only()
    async def resume(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            view = await seasons.resume_season(session, guild_id=guild.id, now=self.bot.clock.now())
        self.bot.season_scheduler.schedule_season(view)
        self.bot.game_state_changed(guild.id)
        await interaction.response.send_message(
            embed=bureau_embed(
                f"Season {view.number} resumes",
                f"It now ends {format_dt(view.ends_at)}; next audit {format_dt(view.next_audit_at, 'R')}.",
            ),
            ephemeral=True,
        )

    # -------------------------------------------------------------------------------------------- end

    @season.command(name="end", description="End the season now: last audit, final standings, debrief.")
    @moderator_only()
    async def end(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            view = await seasons.current_season(session, guild_id=guild.id)
        if view is None:
            raise NoActiveSeason()
        confirm = ConfirmEnd(self, owner_id=interaction.user.id, season_number=view.number)
        confirm.interaction = interaction
        await interaction.response.send_message(
            embed=bureau_embed(
                f"End season {view.number} now?",
                f"{fmt.plural(view.citizens, 'citizen')} · "
                f"{fmt.duration(view.time_left(self.bot.clock.now()))} left. The Bureau runs a last "
                "audit, posts the final standings and sends you the debrief. This cannot be undone.",
            ),
            view=confirm,
            ephemeral=True,
        )

    async def end_now(self, guild: discord.Guild) -> SeasonView | None:
        """The last audit, then the season's end; ``None`` if it had already ended (at its deadline)."""
        try:
            summary = await seasons.end_season(
                self.bot.engine,
                guild_id=guild.id,
                now=self.bot.clock.now(),
                claimed_by=self.bot.instance_name,
                recorder=self.bot.recorder,
            )
        except NoActiveSeason:
            return None
        if summary.audit is not None:
            await self.bot.after_audit(summary.audit)
        else:  # a scheduled audit ended it a moment ago (here or elsewhere): same consequences
            self.bot.season_over(guild_id=guild.id, season_id=summary.season.id)
            self.bot.courier.wake()
        return summary.season

    # ----------------------------------------------------------------------------------------- report

    @season.command(name="report", description="The debrief: an HTML report with charts, and the ledger.")
    @app_commands.describe(number="Which season (default: the current one, else the last that ended)")
    @moderator_only()
    async def report(
        self, interaction: discord.Interaction[Any], number: app_commands.Range[int, 1, 100_000] | None = None
    ) -> None:
        guild = guild_of(interaction)
        view: SeasonView | None
        async with self.bot.reading() as session:
            if number is not None:
                view = await seasons.get_season(session, guild_id=guild.id, number=number)
            else:
                view = await seasons.current_season(session, guild_id=guild.id)
                if view is None:
                    past = await seasons.past_seasons(session, guild_id=guild.id, limit=1)
                    view = past[0] if past else None
        if view is None:
            raise Refusal("There is no season to report on yet. Start one with /season start.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed, files = await build_debrief(self.bot, season_id=view.id, guild_name=guild.name)
        if view.is_live:
            embed.set_footer(text="The season is still under way: this is the debrief so far.")
        buttons = discord.utils.MISSING
        expires_at = self.bot.clock.now() + DEBRIEF_LINK_VALID
        if await page_link(self.bot, guild.id) and (
            url := debrief_link(self.bot, guild_id=guild.id, season_number=view.number, expires_at=expires_at)
        ):
            embed.add_field(
                name="In a browser",
                value=(
                    f"[The debrief as a web page]({url}), for the moderators only: "
                    f"the link works until {format_dt(expires_at)} "
                    f"({fmt.duration(DEBRIEF_LINK_VALID)}). Do not share it."
                ),
                inline=False,
            )
            buttons = discord.ui.View()
            buttons.add_item(link_button(url, "Open the debrief"))
        await interaction.followup.send(embed=embed, files=debrief_files(files), view=buttons, ephemeral=True)

    # ------------------------------------------------------------------------------------- enrolment

    @season.command(name="enrollment", description="Voluntary (/join) or mandatory (speaking enrols).")
    @app_commands.describe(mode="Voluntary: members /join. Mandatory: speaking in a game channel enrols.")
    @app_commands.choices(
        mode=[
            app_commands.Choice(name="voluntary", value=Enrollment.VOLUNTARY.value),
            app_commands.Choice(name="mandatory", value=Enrollment.MANDATORY.value),
        ]
    )
    @moderator_only()
    async def enrollment(self, interaction: discord.Interaction[Any], mode: app_commands.Choice[str]) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            view = await seasons.set_enrollment(
                session, guild_id=guild.id, enrollment=Enrollment(mode.value), now=self.bot.clock.now()
            )
        self.bot.game_state_changed(guild.id)
        await interaction.response.send_message(
            embed=bureau_embed(f"Enrolment is now {mode.value}", fmt.ENROLMENT_WORDS[view.enrollment]),
            ephemeral=True,
        )
