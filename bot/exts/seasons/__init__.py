"""/season: start, status, pause, resume, end, report and enrolment; the audit heartbeat."""

from bot.client import CitizenBot
from bot.exts.seasons._cog import Seasons


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Seasons(bot))
