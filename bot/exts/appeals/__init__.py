"""The citizen's side of appeals: contesting one of their own ledger entries.

The service writes an ``APPEAL_REQUEST`` outbox row; the Bureau's extension posts it to the moderators.
"""

from bot.client import CitizenBot
from bot.exts.appeals._cog import Appeals


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Appeals(bot))
