"""The citizen's side of permits: asking the Bureau for leave to speak on a topic that needs one.

The request is written with a ``PERMIT_REQUEST`` outbox row by the service; the Bureau's extension
posts it with Approve / Deny buttons in the moderators' channel.
"""

from bot.client import CitizenBot
from bot.exts.permits._cog import Permits


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Permits(bot))
