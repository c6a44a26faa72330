"""/rules and /catalog: moderators edit the running season's speech rules and shop.

Edits go through the seasons service, which re-validates the whole scenario; a refused edit comes back
as a sentence saying why. Nothing here decides what a rule means.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.client import CitizenBot
from bot.errors import Refusal
from bot.utils import formatting as fmt
from bot.utils.choices import current_scenario, season_item_choices, season_topic_choices
from bot.utils.embeds import bureau_embed
from bot.utils.formatting import truncate
from bot.utils.guild import DEFAULT_MODERATOR_PERMISSIONS, guild_of
from game.errors import NoActiveSeason
from game.models import Dimension
from game.scenario import ApprovedTalk, ForbiddenTopic, PermitTopic, Scenario, TopicKind
from game.services import edits, seasons

KIND_TITLES = {
    TopicKind.FORBIDDEN: "\N{NO ENTRY SIGN} Forbidden topics",
    TopicKind.PERMIT_REQUIRED: "\N{MEMO} Need a permit",
    TopicKind.APPROVED: "\N{WHITE HEAVY CHECK MARK} Approved talk",
}


def _points(rule: ForbiddenTopic | PermitTopic | ApprovedTalk) -> int:
    return rule.bonus if isinstance(rule, ApprovedTalk) else rule.penalty


def _split_phrases(text: str) -> list[str]:
    """Phrases as moderators type them: separated by commas or semicolons (never regular expressions)."""
    phrases = [part.strip() for part in text.replace(";", ",").split(",")]
    return [phrase for phrase in phrases if phrase]


async def _phrase_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The phrases of the topic already chosen in the same command."""
    if interaction.guild is None:
        return []
    scenario = await current_scenario(interaction.client, interaction.guild.id)
    key = getattr(interaction.namespace, "topic", None)
    if scenario is None or not key:
        return []
    try:
        rule = scenario.topic(str(key))
    except KeyError:
        return []
    typed = current.strip().lower()
    return [
        app_commands.Choice(name=phrase[:100], value=phrase[:100])
        for phrase in rule.phrases
        if typed in phrase.lower()
    ][:25]


class Rules(commands.Cog):
    """Speech rules and the shop of the running season."""

    rules = app_commands.Group(
        name="rules",
        description="The season's speech rules: forbidden topics, permit topics, approved talk.",
        guild_only=True,
        default_permissions=DEFAULT_MODERATOR_PERMISSIONS,
    )
    catalog = app_commands.Group(
        name="catalog",
        description="The season's shop: add, withdraw or reprice items.",
        guild_only=True,
        default_permissions=DEFAULT_MODERATOR_PERMISSIONS,
    )

    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    async def _scenario(self, guild_id: int) -> Scenario:
        scenario = await current_scenario(self.bot, guild_id)
        if scenario is None:
            raise NoActiveSeason()
        return scenario

    # ------------------------------------------------------------------------------------------ rules

    @rules.command(name="list", description="The season's speech rules, or one topic's phrases.")
    @app_commands.describe(topic="A topic to see in full (leave empty for all)")
    @app_commands.autocomplete(topic=season_topic_choices)
    @moderator_only()
    async def rules_list(self, interaction: discord.Interaction[Any], topic: str | None = None) -> None:
        scenario = await self._scenario(guild_of(interaction).id)
        if topic:
            try:
                rule = scenario.topic(topic.strip())
            except KeyError:
                raise Refusal(
                    f"There is no topic “{fmt.escape(fmt.truncate(topic.strip(), 40))}”; "
                    "/rules list shows them all."
                ) from None
            embed = bureau_embed(
                f"{rule.name} ({rule.key})",
                f"{fmt.signed(_points(rule))} per message · matched as whole words",
            )
            embed.add_field(
                name=f"{fmt.plural(len(rule.phrases), 'phrase')}",
                value=truncate(", ".join(f"`{phrase}`" for phrase in rule.phrases), 1024),
                inline=False,
            )
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return
        embed = bureau_embed(
            f"Speech rules: {scenario.name}", "Phrases match whole words, in any letter case."
        )
        for kind in TopicKind:
            lines = [
                f"**{rule.name}** `{rule.key}` {fmt.signed(_points(rule))} · "
                f"{fmt.plural(len(rule.phrases), 'phrase')}"
                for rule_kind, _, rule in scenario.speech.topics()
                if rule_kind is kind
            ]
            embed.add_field(
                name=KIND_TITLES[kind], value=truncate("\n".join(lines), 1024) or "*none*", inline=False
            )
        sentiment = scenario.speech.sentiment
        if sentiment is not None:
            embed.add_field(
                name="Sentiment",
                value=f"{'on' if sentiment.enabled else 'off'}: "
                f"{fmt.signed(sentiment.bonus)} / {fmt.signed(sentiment.penalty)}",
                inline=False,
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @rules.command(name="add-topic", description="Add a speech topic to this season's rules.")
    @app_commands.describe(
        kind="Forbidden (a penalty), needs a permit (a penalty without one), or approved (a bonus)",
        key="A short key, lowercase with dashes, e.g. 'tax-reform'",
        name="The topic's name as citizens read it",
        phrases="Phrases that name it, separated by commas (plain words, no patterns)",
        points="Penalty (negative) for forbidden and permit topics, bonus (positive) for approved talk",
    )
    @app_commands.choices(
        kind=[
            app_commands.Choice(name="forbidden", value=TopicKind.FORBIDDEN.value),
            app_commands.Choice(name="needs a permit", value=TopicKind.PERMIT_REQUIRED.value),
            app_commands.Choice(name="approved talk", value=TopicKind.APPROVED.value),
        ]
    )
    @moderator_only()
    async def add_topic(
        self,
        interaction: discord.Interaction[Any],
        kind: app_commands.Choice[str],
        key: app_commands.Range[str, 1, 40],
        name: app_commands.Range[str, 1, 100],
        phrases: app_commands.Range[str, 1, 2000],
        points: int,
    ) -> None:
        guild = guild_of(interaction)
        wanted = _split_phrases(phrases)
        if not wanted:
            raise Refusal("Give at least one phrase, e.g. 'tax reform, new taxes'.")
        async with self.bot.transaction() as session:
            scenario = await edits.add_topic(
                session,
                guild_id=guild.id,
                kind=TopicKind(kind.value),
                key=key.strip().lower(),
                name=name,
                phrases=wanted,
                delta=points,
            )
        rule = scenario.topic(key.strip().lower())
        await interaction.response.send_message(
            embed=bureau_embed(
                f"Topic added: {rule.name}",
                f"{KIND_TITLES[TopicKind(kind.value)]} · {fmt.signed(_points(rule))} · "
                f"{fmt.plural(len(rule.phrases), 'phrase')}\nIt applies from the next audit.",
            ),
            ephemeral=True,
        )

    @rules.command(name="remove-topic", description="Remove a speech topic from this season's rules.")
    @app_commands.describe(topic="The topic to remove")
    @app_commands.autocomplete(topic=season_topic_choices)
    @moderator_only()
    async def remove_topic(self, interaction: discord.Interaction[Any], topic: str) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            await edits.remove_topic(session, guild_id=guild.id, key=topic.strip())
        await interaction.response.send_message(
            embed=bureau_embed("Topic removed", f"`{topic.strip()}` no longer applies from the next audit."),
            ephemeral=True,
        )

    @rules.command(name="add-phrase", description="Add a phrase to a topic.")
    @app_commands.describe(topic="The topic", phrase="Plain words, matched whole in any letter case")
    @app_commands.autocomplete(topic=season_topic_choices)
    @moderator_only()
    async def add_phrase(
        self, interaction: discord.Interaction[Any], topic: str, phrase: app_commands.Range[str, 1, 100]
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            scenario = await edits.add_phrase(
                session, guild_id=guild.id, topic_key=topic.strip(), phrase=phrase
            )
        rule = scenario.topic(topic.strip())
        await interaction.response.send_message(
            embed=bureau_embed(
                f"Phrase added to {rule.name}",
                f"`{phrase.strip()}` now counts ({fmt.plural(len(rule.phrases), 'phrase')} in all).",
            ),
            ephemeral=True,
        )

    @rules.command(name="remove-phrase", description="Remove a phrase from a topic.")
    @app_commands.describe(topic="The topic", phrase="The phrase to remove")
    @app_commands.autocomplete(topic=season_topic_choices, phrase=_phrase_choices)
    @moderator_only()
    async def remove_phrase(
        self, interaction: discord.Interaction[Any], topic: str, phrase: app_commands.Range[str, 1, 100]
    ) -> None:
        guild = guild_of(interaction)
        async with self.bot.transaction() as session:
            scenario = await edits.remove_phrase(
                session, guild_id=guild.id, topic_key=topic.strip(), phrase=phrase
            )
        rule = scenario.topic(topic.strip())
        await interaction.response.send_message(
            embed=bureau_embed(
                f"Phrase removed from {rule.name}",
                f"`{phrase.strip()}` no longer counts ({fmt.plural(len(rule.phrases), 'phrase')} left).",
            ),
            ephemeral=True,
        )

    # ---------------------------------------------------------------------------------------- catalog

    @catalog.command(name="add", description="Add an item to this season's shop.")
    @app_commands.describe(
        key="A short key, lowercase with dashes, e.g. 'bicycle'",
        name="The item's name",
        price="Price in credits (tier markups apply on top)",
        effect="Score change at the next audit after a purchase (negative for disapproved goods)",
        reason="The ledger's words for the effect, e.g. 'healthy habits'",
        description="What citizens read in the shop",
        dimension="Which part of the score it moves (default consumption)",
        stock="How many can be sold (default unlimited)",
        hidden="Hide the effect until the audit",
        travel="A travel item (the untrustworthy may not buy it)",
    )
    @app_commands.choices(
        dimension=[
            app_commands.Choice(name=d.value, value=d.value) for d in Dimension if d is not Dimension.BUREAU
        ]
    )
    @moderator_only()
    async def catalog_add(
        self,
        interaction: discord.Interaction[Any],
        key: app_commands.Range[str, 1, 40],
        name: app_commands.Range[str, 1, 100],
        price: int,
        effect: int,
        reason: app_commands.Range[str, 1, 100],
        description: app_commands.Range[str, 0, 300] = "",
        dimension: app_commands.Choice[str] | None = None,
        stock: int | None = None,
        hidden: bool = False,
        travel: bool = False,
    ) -> None:
        guild = guild_of(interaction)
        item: dict[str, Any] = {
            "key": key.strip().lower(),
            "name": name,
            "description": description,
            "price": price,
            "effect": effect,
            "reason": reason,
            "dimension": dimension.value if dimension else Dimension.CONSUMPTION.value,
            "stock": stock,
            "hidden_until_audit": hidden,
            "travel": travel,
        }
        async with self.bot.transaction() as session:
            scenario = await edits.add_catalogue_item(session, guild_id=guild.id, item=item)
        added = scenario.item(item["key"])
        effect_text = "hidden until the audit" if added.hidden_until_audit else fmt.signed(added.effect)
        await interaction.response.send_message(
            embed=bureau_embed(
                f"In the shop: {added.name}",
                f"{fmt.credits(added.price)} · effect {effect_text} ({added.reason})"
                + (f" · {fmt.number(added.stock)} in stock" if added.stock is not None else ""),
            ),
            ephemeral=True,
        )

    @catalog.command(name="remove", description="Withdraw an item from this season's shop.")
    @app_commands.describe(item="The item to withdraw (purchases already made still take effect)")
    @app_commands.autocomplete(item=season_item_choices)
    @moderator_only()
    async def catalog_remove(self, interaction: discord.Interaction[Any], item: str) -> None:
        guild = guild_of(interaction)
        key = item.strip()
        async with self.bot.transaction() as session:
            before = await seasons.season_rules(session, guild_id=guild.id)
            await edits.remove_catalogue_item(session, guild_id=guild.id, item_key=key)
        name = before.item(key).name
        await interaction.response.send_message(
            embed=bureau_embed(
                f"Withdrawn: {name}",
                "It is no longer sold; purchases already made still count at the next audit.",
            ),
            ephemeral=True,
        )

    @catalog.command(name="price", description="Change an item's price for this season.")
    @app_commands.describe(item="The item", price="The new base price in credits")
    @app_commands.autocomplete(item=season_item_choices)
    @moderator_only()
    async def catalog_price(self, interaction: discord.Interaction[Any], item: str, price: int) -> None:
        guild = guild_of(interaction)
        key = item.strip()
        async with self.bot.transaction() as session:
            before = await seasons.season_rules(session, guild_id=guild.id)
            scenario = await edits.set_item_price(session, guild_id=guild.id, item_key=key, price=price)
        old, new = before.item(key), scenario.item(key)
        await interaction.response.send_message(
            embed=bureau_embed(
                f"New price: {new.name}",
                f"{fmt.credits(old.price)} → **{fmt.credits(new.price)}** (tier markups apply on top).",
            ),
            ephemeral=True,
        )
