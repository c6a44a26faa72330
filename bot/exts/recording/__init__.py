"""The message listener: what enrolled citizens say in game channels, handed to the recorder."""

from bot.client import CitizenBot
from bot.exts.recording._cog import Recording


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Recording(bot))
