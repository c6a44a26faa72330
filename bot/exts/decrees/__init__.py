"""/decree: the moderators issue the pack's optional decrees, list the season's, and revoke one.

The decrees service does the work (taking effect, the amnesty's ledger entries, the announcement in
the outbox); this extension only asks and shows. What ``/season status`` and ``/help`` show of a
public timeline is :func:`bot.utils.decrees.timeline_lines`.
"""

from bot.client import CitizenBot
from bot.exts.decrees._cog import Decrees


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Decrees(bot))


__all__ = ["Decrees", "setup"]
