"""Bot status for moderators and the curious."""

from bot.client import CitizenBot
from bot.exts.meta._cog import Meta


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Meta(bot))
