"""The shop and the wallet: what a citizen may buy at their tier's prices, and what they have left."""

from bot.client import CitizenBot
from bot.exts.shop._cog import Shop


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Shop(bot))
