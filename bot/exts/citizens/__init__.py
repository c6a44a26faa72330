"""The citizen's own commands: join, leave, their data, their score, history, brag, help."""

from bot.client import CitizenBot
from bot.exts.citizens._cog import Citizens


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Citizens(bot))
