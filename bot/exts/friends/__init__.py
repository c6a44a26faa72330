"""Friends: requests the other member answers with buttons (which survive a restart), removal, the list."""

from bot.client import CitizenBot
from bot.exts.friends._cog import Friends


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Friends(bot))
