"""/setup: where the Bureau posts, who the Bureau is, which channels are watched, which roles tiers carry."""

from bot.client import CitizenBot
from bot.exts.setup._cog import Setup


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Setup(bot))
