"""How a decree is announced: a post whose title begins with "Decree", saying in plain words what
changed and until when. The game sends facts (:class:`~game.payloads.DecreeNews`); the words are here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.courier.post import ChannelRole, Post, file_marker
from bot.utils import formatting as fmt
from bot.utils.embeds import BUREAU_COLOUR, DESCRIPTION_LIMIT, TITLE_LIMIT
from game.payloads import DecreeChange, DecreeNews
from game.services.outbox import OutboxItem

if TYPE_CHECKING:
    from bot.courier.courier import Courier

__all__ = ["change_line", "decree_embed", "render_decree", "until_words"]

_TITLES = {
    "took_effect": "\N{SCROLL} Decree: {name}",
    "lapsed": "\N{SCROLL} Decree lapsed: {name}",
    "revoked": "\N{SCROLL} Decree revoked: {name}",
}


def _factor(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}"


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{round(value * 100):g} %"


def change_line(change: DecreeChange) -> str:
    """One change in plain words."""
    name = fmt.escape(change.name or change.key)
    value = int(change.value) if change.value is not None else 0
    phrases = ", ".join(f"“{fmt.escape(p)}”" for p in change.phrases[:4])
    words = {
        "forbid-topic": f"Speaking of **{name}** is forbidden ({phrases}): {fmt.signed(value)} a message.",
        "require-permit": f"**{name}** needs a permit ({phrases}): {fmt.signed(value)} without one.",
        "lift-topic": f"**{name}** may be spoken of freely.",
        "scale-penalties": f"Every speech penalty is multiplied by {_factor(change.value)}.",
        "scale-rewards": f"Every speech reward is multiplied by {_factor(change.value)}.",
        "set-price": (
            f"**{name}** now costs {fmt.credits(value)}"
            + (f" (was {fmt.credits(int(change.before))})." if change.before is not None else ".")
        ),
        "add-item": f"**{name}** is on sale in the shop, at {fmt.credits(value)}.",
        "withdraw-item": f"**{name}** is withdrawn from the shop.",
        "mandatory-enrolment": "Enrolment is mandatory: whoever speaks in a game channel is enrolled.",
        "amnesty": f"Every penalty for **{name}** so far is forgiven.",
        "friends-factor": (
            f"Friends now pay {_percent(change.value)} of each other's penalties"
            + (f" (was {_percent(change.before)})." if change.before is not None else ".")
        ),
    }
    return words.get(change.kind, fmt.escape(change.kind))


def until_words(news: DecreeNews) -> str:
    """Until when the decree holds, in plain words."""
    if news.until_audit is None:
        return "In force until the end of the season."
    audits = news.until_audit - news.from_audit + 1
    when = f", until about {discord.utils.format_dt(news.until_at, 't')}" if news.until_at else ""
    if audits <= 0:
        return "In force no longer."
    return f"In force for the next {fmt.plural(audits, 'audit')} (audit {news.until_audit}{when})."


def decree_embed(news: DecreeNews) -> discord.Embed:
    title = _TITLES[news.event].format(name=news.name)
    lines: list[str] = []
    if news.event == "took_effect":
        if news.description:
            lines.append(fmt.escape(news.description))
            lines.append("")
        lines += [f"• {change_line(change)}" for change in news.changes]
        if news.reversed_entries:
            lines.append(
                f"• {fmt.plural(news.reversed_entries, 'penalty', 'penalties')} reversed: "
                f"{fmt.number(news.reversed_points)} points back to {fmt.plural(news.pardoned, 'citizen')}."
            )
        lines.append("")
        lines.append(until_words(news))
        lines.append(f"By order of <@{news.issued_by}>." if news.issued_by else "By order of the Bureau.")
    elif news.event == "lapsed":
        lines.append(f"From audit {news.from_audit} to audit {news.until_audit}; these changes are over:")
        lines += [f"• {change_line(change)}" for change in news.changes if change.kind != "amnesty"]
    else:
        lines.append(
            "Revoked"
            + (f" by <@{news.revoked_by}>" if news.revoked_by else "")
            + "; undone from the next audit:"
        )
        lines += [f"• {change_line(change)}" for change in news.changes if change.kind != "amnesty"]
    return discord.Embed(
        title=fmt.truncate(title, TITLE_LIMIT),
        description=fmt.truncate("\n".join(lines), DESCRIPTION_LIMIT),
        colour=BUREAU_COLOUR,
    )


async def render_decree(courier: Courier, item: OutboxItem) -> Sequence[tuple[ChannelRole, Post]]:
    assert isinstance(item.payload, DecreeNews)
    return [("announcements", Post(marker=file_marker(item.id), embeds=[decree_embed(item.payload)]))]
