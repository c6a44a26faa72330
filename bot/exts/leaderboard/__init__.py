"""The public leaderboard: ten citizens a page, top or bottom, with buttons to page through."""

from bot.client import CitizenBot
from bot.exts.leaderboard._cog import Leaderboard


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Leaderboard(bot))
