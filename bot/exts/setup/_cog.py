from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.client import CitizenBot
from bot.errors import Refusal
from bot.utils.choices import current_scenario, scenario_choices
from bot.utils.embeds import bureau_embed, warning_embed
from bot.utils.guild import (
    DEFAULT_MODERATOR_PERMISSIONS,
    guild_of,
    missing_permissions,
    permission_names,
    role_problem,
)
from bot.utils.web import page_link
from game.scenario import Scenario, load_scenario
from game.services import guilds, public

log = logging.getLogger(__name__)

# What the bot needs in each of the Bureau's channels (it reads recent history to never post twice).
POSTING = ("view_channel", "send_messages", "embed_links", "read_message_history")
UPLOADING = (*POSTING, "attach_files")
WATCHING = ("view_channel", "read_message_history")


@dataclass(frozen=True, slots=True)
class _RoleOutcome:
    tier_name: str
    role: discord.Role | None
    action: str  # "kept", "mapped", "created" or "failed"
    problem: str | None = None


def _channel_line(label: str, channel_id: int | None) -> str:
    return f"{label}: <#{channel_id}>" if channel_id else f"{label}: *not set*"


class Setup(commands.Cog):
    """The Bureau's set-up; every command is checked by the bot (Manage Server or the moderator role)."""

    setup_group = app_commands.Group(
        name="setup",
        description="Set up the Bureau: channels, moderators, tier roles.",
        guild_only=True,
        default_permissions=DEFAULT_MODERATOR_PERMISSIONS,
    )
    game_channel = app_commands.Group(
        name="game-channel", description="Channels whose messages the Bureau audits.", parent=setup_group
    )

    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    # ------------------------------------------------------------------------------------ channels

    @setup_group.command(name="channels", description="Choose where the Bureau posts.")
    @app_commands.describe(
        announcements="Bulletins after each audit and the final standings",
        brag="Where citizens' /brag cards are posted",
        moderators="Permit and appeal requests, warnings and the season report",
    )
    @moderator_only()
    async def channels(
        self,
        interaction: discord.Interaction[Any],
        announcements: discord.TextChannel | None = None,
        brag: discord.TextChannel | None = None,
        moderators: discord.TextChannel | None = None,
    ) -> None:
        guild = guild_of(interaction)
        changes: dict[str, int] = {}
        if announcements is not None:
            changes["announcements_channel_id"] = announcements.id
        if brag is not None:
            changes["brag_channel_id"] = brag.id
        if moderators is not None:
            changes["moderators_channel_id"] = moderators.id
        async with self.bot.transaction() as session:
            if changes:
                current = await guilds.update_guild_settings(
                    session, guild_id=guild.id, now=self.bot.clock.now(), **changes
                )
            else:
                current = await guilds.get_guild_settings(session, guild_id=guild.id)
        title = "Bureau channels updated" if changes else "Bureau channels"
        lines = [
            _channel_line("\N{PUBLIC ADDRESS LOUDSPEAKER} Announcements", current.announcements_channel_id),
            _channel_line("\N{TROPHY} Brag", current.brag_channel_id),
            _channel_line("\N{SHIELD} Moderators", current.moderators_channel_id),
        ]
        if not changes:
            lines.append("\nName a channel in any option to change it.")
        embeds = [bureau_embed(title, "\n".join(lines))]
        problems = self._posting_problems(
            guild,
            [
                (current.announcements_channel_id, POSTING),
                (current.brag_channel_id, UPLOADING),
                (current.moderators_channel_id, UPLOADING),
            ],
        )
        if problems:
            embeds.append(warning_embed("I cannot post everywhere yet", "\n".join(problems)))
        await interaction.response.send_message(embeds=embeds, ephemeral=True)

    def _posting_problems(
        self, guild: discord.Guild, wanted: list[tuple[int | None, tuple[str, ...]]]
    ) -> list[str]:
        problems = []
        for channel_id, permissions in wanted:
            channel = guild.get_channel(channel_id) if channel_id else None
            if channel_id and channel is None:
                problems.append(f"<#{channel_id}> no longer exists: choose another channel.")
            elif channel is not None and not isinstance(
                channel, discord.CategoryChannel | discord.ForumChannel
            ):
                missing = missing_permissions(channel, guild.me, *permissions)
                if missing:
                    problems.append(f"{channel.mention}: I am missing {permission_names(missing)}.")
        return problems

    # ---------------------------------------------------------------------------------- game channels

    @game_channel.command(name="add", description="Audit what enrolled citizens say in a channel.")
    @app_commands.describe(channel="The channel to watch")
    @moderator_only()
    async def game_channel_add(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            added = await guilds.add_game_channel(session, guild_id=guild.id, channel_id=channel.id)
        self.bot.game_state_changed(guild.id)
        if added:
            text = (
                f"{channel.mention} is now a game channel: what enrolled citizens say there is recorded "
                "and scored at the next audit. Nobody else is recorded."
            )
        else:
            text = f"{channel.mention} was already a game channel; nothing changed."
        embeds = [bureau_embed("Game channel added" if added else "Already watched", text)]
        missing = missing_permissions(channel, guild.me, *WATCHING)
        if missing:
            embeds.append(
                warning_embed(
                    "I cannot read that channel",
                    f"I am missing {permission_names(missing)} in {channel.mention}, "
                    "so its messages never reach me. Give my role access to the channel.",
                )
            )
        await interaction.response.send_message(embeds=embeds, ephemeral=True)

    @game_channel.command(name="remove", description="Stop auditing a channel.")
    @app_commands.describe(channel="The channel to stop watching")
    @moderator_only()
    async def game_channel_remove(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            removed = await guilds.remove_game_channel(session, guild_id=guild.id, channel_id=channel.id)
        self.bot.game_state_changed(guild.id)
        if removed:
            embed = bureau_embed(
                "Game channel removed",
                f"{channel.mention} is no longer watched; nothing said there is recorded.",
            )
        else:
            embed = bureau_embed(
                "Not a game channel", f"{channel.mention} was not a game channel; nothing changed."
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # --------------------------------------------------------------------------------- moderator role

    @setup_group.command(
        name="moderator-role", description="Choose the role whose members act for the Bureau."
    )
    @app_commands.describe(role="The moderators' role (leave empty to clear it)")
    @moderator_only()
    async def moderator_role(
        self, interaction: discord.Interaction[Any], role: discord.Role | None = None
    ) -> None:
        guild = guild_of(interaction)
        if role is not None and role.is_default():
            raise Refusal("@everyone cannot be the moderator role: everyone would run the Bureau.")
        async with self.bot.transaction() as session:
            await guilds.update_guild_settings(
                session,
                guild_id=guild.id,
                now=self.bot.clock.now(),
                moderator_role_id=role.id if role else None,
            )
        if role is None:
            embed = bureau_embed(
                "Moderator role cleared", "Only members with Manage Server can use the Bureau's commands now."
            )
        else:
            embed = bureau_embed(
                "Moderator role set",
                f"Members with {role.mention} can use the Bureau's commands.\n\n"
                "Discord shows these commands only to members with Manage Server: to show them to "
                f"{role.mention} too, allow the role in Server Settings → Integrations → {self._bot_name()}.",
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    def _bot_name(self) -> str:
        return self.bot.user.name if self.bot.user else "the bot"

    # ------------------------------------------------------------------------------------ web pages

    @setup_group.command(
        name="web", description="Show this server's leaderboard and cards on the web, or not."
    )
    @app_commands.describe(enabled="True: public pages anyone with the link can read. False: none.")
    @moderator_only()
    async def web(self, interaction: discord.Interaction[Any], enabled: bool) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            await public.set_pages_enabled(
                session, guild_id=guild.id, enabled=enabled, now=self.bot.clock.now()
            )
        self.bot.game_state_changed(guild.id)
        if not enabled:
            embed = bureau_embed(
                "Web pages off", "This server's pages now answer 'not found', as if it had never had any."
            )
        elif (url := await page_link(self.bot, guild.id)) is None:
            embed = warning_embed(
                "Web pages on, but not served",
                "The bot has no web server: whoever runs it sets WEB_PORT (and PUBLIC_URL, the address "
                "people reach), as the README's 'Public pages' section explains. "
                "Until then nothing is shown.",
            )
        else:
            embed = bureau_embed(
                "Web pages on",
                "Anyone with the link can read the leaderboard, every citizen's card and past seasons: "
                f"{url}\nThey show what /score and /leaderboard show here, never wallets or messages. "
                "/leaderboard and /score now carry a link to them; "
                "`/setup web enabled:false` takes them down.",
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # ------------------------------------------------------------------------------------ tier roles

    @setup_group.command(name="roles", description="Create or map the Discord roles of the scenario's tiers.")
    @app_commands.describe(
        scenario="Scenario whose tiers to use (default: the running season's)",
    )
    @app_commands.autocomplete(scenario=scenario_choices)
    @moderator_only()
    async def roles(self, interaction: discord.Interaction[Any], scenario: str | None = None) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        chosen = await self._scenario_for_roles(guild.id, scenario)
        async with self.bot.reading() as session:
            mapped = dict(await guilds.get_tier_roles(session, guild_id=guild.id))
        outcomes: list[_RoleOutcome] = []
        # Highest tier first: Discord puts each new role at the bottom, so the roles end up stacked
        # in tier order (Model Citizen above Visa above Travel Permit).
        for tier in reversed(chosen.tiers):
            if tier.role is None:
                continue
            outcome = await self._ensure_role(guild, tier.name, tier.role, mapped.get(tier.key))
            outcomes.insert(0, outcome)
            if outcome.role is not None:
                mapped[tier.key] = outcome.role.id
        async with self.bot.transaction() as session:
            for tier in chosen.tiers:
                if tier.role is not None and tier.key in mapped:
                    await guilds.set_tier_role(
                        session, guild_id=guild.id, tier_key=tier.key, role_id=mapped[tier.key]
                    )
        await interaction.followup.send(embeds=self._roles_reply(chosen, outcomes), ephemeral=True)
        # Citizens whose tier already carries a role get it now, not at their next tier change.
        self.bot.spawn(self.bot.courier.resync_guild(guild), name=f"tier roles of guild {guild.id}")

    async def _scenario_for_roles(self, guild_id: int, key: str | None) -> Scenario:
        if key:
            return load_scenario(key.strip().lower())
        scenario = await current_scenario(self.bot, guild_id)
        if scenario is None:
            raise Refusal(
                "No season is running, so I do not know which tiers to use: "
                "name a scenario, e.g. /setup roles scenario:classic."
            )
        return scenario

    async def _ensure_role(
        self, guild: discord.Guild, tier_name: str, role_name: str, mapped_id: int | None
    ) -> _RoleOutcome:
        existing = guild.get_role(mapped_id) if mapped_id else None
        action = "kept"
        if existing is None:
            existing = discord.utils.find(lambda r: r.name.casefold() == role_name.casefold(), guild.roles)
            action = "mapped"
        if existing is None:
            try:
                existing = await guild.create_role(
                    name=role_name, reason=f"Citizen Score: the {tier_name} tier's role"
                )
            except discord.Forbidden:
                return _RoleOutcome(
                    tier_name, None, "failed", "Discord refused: I need the Manage Roles permission."
                )
            action = "created"
        return _RoleOutcome(tier_name, existing, action, role_problem(existing, guild.me))

    def _roles_reply(self, scenario: Scenario, outcomes: list[_RoleOutcome]) -> list[discord.Embed]:
        if not outcomes:
            return [
                bureau_embed(
                    "No tier roles",
                    f"The {scenario.name} scenario gives no tier a Discord role; there is nothing to set up.",
                )
            ]
        verbs = {"kept": "already set", "mapped": "existing role", "created": "created"}
        lines = []
        problems = []
        for outcome in outcomes:
            if outcome.role is None:
                lines.append(f"**{outcome.tier_name}**: not set up")
            else:
                lines.append(f"**{outcome.tier_name}**: {outcome.role.mention} ({verbs[outcome.action]})")
            if outcome.problem:
                problems.append(f"**{outcome.tier_name}**: {outcome.problem}")
        embeds = [
            bureau_embed(
                f"Tier roles for {scenario.name}",
                "\n".join(lines) + "\n\nCitizens get these roles after each audit, as their tier changes.",
            )
        ]
        if problems:
            embeds.append(
                warning_embed(
                    "I cannot manage every tier role",
                    "\n".join(problems) + "\n\nUntil this is fixed, role changes for these tiers are skipped "
                    "and reported here.",
                )
            )
        return embeds

    # ---------------------------------------------------------------------------------------- show

    @setup_group.command(name="show", description="See the Bureau's set-up and what still needs doing.")
    @moderator_only()
    async def show(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.reading() as session:
            current = await guilds.get_guild_settings(session, guild_id=guild.id)
            game_channels = await guilds.list_game_channels(session, guild_id=guild.id)
            tier_roles = await guilds.get_tier_roles(session, guild_id=guild.id)
        embed = bureau_embed("The Bureau's set-up")
        embed.add_field(
            name="Channels",
            value="\n".join(
                [
                    _channel_line("Announcements", current.announcements_channel_id),
                    _channel_line("Brag", current.brag_channel_id),
                    _channel_line("Moderators", current.moderators_channel_id),
                ]
            ),
            inline=False,
        )
        embed.add_field(
            name="Moderator role",
            value=f"<@&{current.moderator_role_id}>" if current.moderator_role_id else "*Manage Server only*",
            inline=False,
        )
        embed.add_field(
            name="Game channels",
            value=" ".join(f"<#{channel_id}>" for channel_id in game_channels)[:1024]
            or "*none yet: /setup game-channel add*",
            inline=False,
        )
        embed.add_field(
            name="Tier roles",
            value="\n".join(f"{key}: <@&{role_id}>" for key, role_id in sorted(tier_roles.items()))[:1024]
            or "*none yet: /setup roles*",
            inline=False,
        )
        embeds = [embed]
        problems = self._posting_problems(
            guild,
            [
                (current.announcements_channel_id, POSTING),
                (current.brag_channel_id, UPLOADING),
                (current.moderators_channel_id, UPLOADING),
            ],
        )
        for key, role_id in sorted(tier_roles.items()):
            role = guild.get_role(role_id)
            problem = (
                "the role no longer exists: run /setup roles."
                if role is None
                else role_problem(role, guild.me)
            )
            if problem:
                problems.append(f"Tier {key}: {problem}")
        if problems:
            embeds.append(warning_embed("Needs attention", "\n".join(problems)))
        await interaction.response.send_message(embeds=embeds, ephemeral=True)
