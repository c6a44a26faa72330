"""The Bureau's tools: /audit, /adjust, /rules, /catalog, /permits, /appeals and their decision cards."""

from bot.client import CitizenBot
from bot.exts.bureau._cards import register_cards
from bot.exts.bureau._cog import Bureau
from bot.exts.bureau._rules import Rules
from bot.exts.bureau._views import DecisionButton


async def setup(bot: CitizenBot) -> None:
    await bot.add_cog(Bureau(bot))
    await bot.add_cog(Rules(bot))
    # Buttons of cards posted before a restart keep working: their custom_id carries the request's id.
    bot.add_dynamic_items(DecisionButton)
    register_cards(bot.courier)
