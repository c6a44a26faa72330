from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitizenBot
from bot.refusals import purchase_refusal_text
from bot.utils import formatting as fmt
from bot.utils.choices import season_item_choices
from bot.utils.embeds import GAME_COLOUR, lines_field
from bot.utils.guild import guild_of
from game.errors import GameError
from game.services import shop
from game.services.shop import Catalogue, CatalogueLine

DESCRIPTION_LIMIT = 4096


def _effect(line: CatalogueLine) -> str:
    if line.effect is None:
        return "effect revealed at the audit"
    return f"{fmt.signed(line.effect)} {fmt.DIMENSION_NAMES[line.dimension].lower()}"


def item_line(line: CatalogueLine) -> str:
    """``**Diapers** · 30 credits · +10 consumption`` and, under it, the description or why not."""
    price = fmt.credits(line.price)
    if line.price != line.base_price:
        price = f"{price} ~~{fmt.number(line.base_price)}~~"
    name = discord.utils.escape_markdown(line.name)
    head = f"**{name}** \N{MIDDLE DOT} {price} \N{MIDDLE DOT} {_effect(line)}"
    if line.stock is not None:
        head += (
            " \N{MIDDLE DOT} sold out"
            if line.stock == 0
            else f" \N{MIDDLE DOT} {fmt.number(line.stock)} left"
        )
    if line.refusal is not None:
        why = purchase_refusal_text(
            line.refusal.reason,
            item=line.refusal.item,
            tier=line.refusal.tier,
            needed_tier=line.refusal.needed_tier,
        )
        return f"\N{NO ENTRY SIGN} {head}\n-# {why}"
    detail = line.description or ""
    if not line.affordable and line.stock != 0:
        detail = f"{detail} (you cannot afford it yet)".strip()
    return f"{head}\n-# {detail}" if detail else head


def catalogue_embed(view: Catalogue) -> discord.Embed:
    markup = ""
    if view.price_markup_percent:
        markup = f" \N{MIDDLE DOT} {view.tier_name} prices {fmt.signed(view.price_markup_percent)} %"
    return discord.Embed(
        title="\N{SHOPPING TROLLEY} The Bureau's shop",
        colour=GAME_COLOUR,
        description=fmt.truncate(
            f"You have **{fmt.credits(view.balance)}**{markup}\n"
            "Effects land at the next audit. Buy with `/buy`.\n\n"
            + (
                lines_field(
                    (item_line(line) for line in view.items), limit=3800, empty="The shelves are empty."
                )
            ),
            DESCRIPTION_LIMIT,
        ),
    )


class Shop(commands.Cog):
    def __init__(self, bot: CitizenBot) -> None:
        self.bot = bot

    @app_commands.command(name="shop", description="What the shop sells, at your prices.")
    @app_commands.guild_only()
    async def open_shop(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        async with self.bot.reading() as session:
            view = await shop.catalogue(session, guild_id=guild.id, user_id=interaction.user.id)
        await interaction.response.send_message(embed=catalogue_embed(view), ephemeral=True)

    @app_commands.command(name="buy", description="Buy from the shop; the Bureau notes what you buy.")
    @app_commands.describe(item="What to buy", quantity=f"How many (1 to {shop.MAX_QUANTITY})")
    @app_commands.guild_only()
    async def buy(
        self,
        interaction: discord.Interaction[Any],
        item: app_commands.Range[str, 1, 100],
        quantity: app_commands.Range[int, 1, shop.MAX_QUANTITY] = 1,
    ) -> None:
        guild = guild_of(interaction)
        now = self.bot.clock.now()
        async with self.bot.transaction() as session:
            receipt = await shop.purchase(
                session,
                guild_id=guild.id,
                user_id=interaction.user.id,
                item_key=item,
                quantity=quantity,
                now=now,
            )
            wallet = await shop.wallet(session, guild_id=guild.id, user_id=interaction.user.id)
        what = (
            receipt.item_name
            if receipt.quantity == 1
            else f"{receipt.quantity} \N{MULTIPLICATION SIGN} {receipt.item_name}"
        )
        if receipt.effect is None:
            effect = "The Bureau will assess this purchase at the next audit"
        else:
            effect = f"Your score changes by **{fmt.signed(receipt.effect)}** at the next audit"
        lines = [
            f"{effect}, {fmt.until(wallet.next_audit_at, now)}.",
            f"You have **{fmt.credits(receipt.balance_after)}** left.",
        ]
        if receipt.stock_left is not None:
            lines.append(f"{fmt.number(receipt.stock_left)} left in the shop.")
        embed = discord.Embed(
            title=fmt.truncate(
                f"\N{SHOPPING TROLLEY} Bought {what} for {fmt.credits(receipt.total_price)}", 256
            ),
            description="\n".join(lines),
            colour=GAME_COLOUR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @buy.autocomplete("item")
    async def _item_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild is None:
            return []
        try:
            async with self.bot.reading() as session:
                view = await shop.catalogue(
                    session, guild_id=interaction.guild.id, user_id=interaction.user.id
                )
        except GameError:
            # Not a citizen yet: what the shop sells, so "diap" still finds Diapers (buying it
            # then says to /join first). No season: nothing to suggest, the command will say so.
            return await season_item_choices(interaction, current)
        typed = current.strip().lower()
        choices = []
        for line in view.items:
            if typed and typed not in line.name.lower() and typed not in line.key:
                continue
            label = f"{line.name} \N{EM DASH} {fmt.credits(line.price)}"
            if line.refusal is not None:
                label += " (not for your tier)"
            elif line.stock == 0:
                label += " (sold out)"
            choices.append(app_commands.Choice(name=fmt.truncate(label, 100), value=line.key))
        return choices[:25]

    @app_commands.command(name="wallet", description="Your credits, and what each audit pays and charges.")
    @app_commands.guild_only()
    async def show_wallet(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        now = self.bot.clock.now()
        async with self.bot.reading() as session:
            wallet = await shop.wallet(session, guild_id=guild.id, user_id=interaction.user.id)
        lines = [f"## {fmt.credits(wallet.balance)}"]
        if wallet.debt:
            lines.append(f"\N{WARNING SIGN} You owe **{fmt.credits(wallet.debt)}**.")
        lines.append(
            f"Each audit pays {fmt.credits(wallet.stipend)} and charges {fmt.credits(wallet.cost_of_living)} "
            f"for living. Next audit {fmt.until(wallet.next_audit_at, now)}."
        )
        embed = discord.Embed(
            title="\N{MONEY BAG} Your wallet", description="\n".join(lines), colour=GAME_COLOUR
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)
