"""How the game's announcements look in Discord: the audit bulletin, a season's start and its final
standings, the Bureau's notices. Each renderer turns one typed outbox payload into posts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.courier.debrief import debrief_post
from bot.courier.decrees import render_decree
from bot.courier.post import ChannelRole, Post, Renderer, file_marker
from bot.utils import formatting as fmt
from bot.utils.embeds import BUREAU_COLOUR, DESCRIPTION_LIMIT, FIELD_LIMIT, TITLE_LIMIT, bureau_embed
from game.models import OutboxKind, Season
from game.payloads import Bulletin, Notice, Person, SeasonEnd, SeasonStart
from game.scenario import Scenario, restore_scenario
from game.services.outbox import OutboxItem

if TYPE_CHECKING:
    from bot.courier.courier import Courier

__all__ = ["RENDERERS", "WHAT", "bulletin_embed", "season_start_embed", "standings_embed"]

log = logging.getLogger(__name__)


def _who(person: Person) -> str:
    return f"<@{person.user_id}>" if person.user_id else fmt.escape(person.display_name or "a citizen")


def _tier_names(scenario: Scenario | None) -> dict[str, str]:
    return {tier.key: tier.name for tier in scenario.tiers} if scenario else {}


def _lines(entries: Sequence[str], total: int, limit: int = FIELD_LIMIT) -> str:
    text = ""
    shown = 0
    for entry in entries:
        if len(text) + len(entry) + 40 > limit:
            break
        text += entry + "\n"
        shown += 1
    if total > shown:
        text += f"*and {total - shown:,} more*"
    return text.strip()


def _more(total: int, shown: int) -> str:
    return f"\n*and {total - shown:,} more*" if total > shown else ""


def bulletin_embed(bulletin: Bulletin, scenario: Scenario | None) -> discord.Embed | None:
    """The announcement of one audit, or ``None`` when the audit changed nothing worth announcing."""
    if not bulletin.is_news:
        return None
    names = _tier_names(scenario)
    summary = (
        f"{bulletin.messages_scored:,} messages reviewed · "
        f"{bulletin.purchases_applied:,} purchases · "
        f"{bulletin.citizens_changed:,} scores changed"
    )
    embed = discord.Embed(
        title=f"\N{SCROLL} Bureau bulletin · audit {bulletin.audit_number}",
        description=summary,
        colour=BUREAU_COLOUR,
    )
    if bulletin.top_gains:
        embed.add_field(
            name="\N{CHART WITH UPWARDS TREND} Biggest gains",
            value=_lines(
                [f"{_who(g)} **{fmt.signed(g.delta)}** → {g.score:,}" for g in bulletin.top_gains],
                len(bulletin.top_gains),
            ),
            inline=False,
        )
    if bulletin.top_losses:
        embed.add_field(
            name="\N{CHART WITH DOWNWARDS TREND} Biggest losses",
            value=_lines(
                [f"{_who(g)} **{fmt.signed(g.delta)}** → {g.score:,}" for g in bulletin.top_losses],
                len(bulletin.top_losses),
            ),
            inline=False,
        )
    if bulletin.friend_cascades:
        embed.add_field(
            name="\N{HANDSHAKE} Friends' penalties",
            value=_lines(
                [
                    f"{_who(c)} lost {-c.delta:,} because of their friend {_who(c.friend)}"
                    for c in bulletin.friend_cascades
                ],
                max(bulletin.friend_cascades_total, len(bulletin.friend_cascades)),
            ),
            inline=False,
        )
    if bulletin.promotions:
        by_tier: dict[str, list[str]] = {}
        for promotion in bulletin.promotions:
            by_tier.setdefault(promotion.new_tier, []).append(_who(promotion))
        embed.add_field(
            name="\N{PASSPORT CONTROL} New holders",
            value=_lines(
                [f"**{names.get(tier, tier)}**: {', '.join(people)}" for tier, people in by_tier.items()],
                len(by_tier),
            )
            + _more(bulletin.promotions_total, len(bulletin.promotions)),
            inline=False,
        )
    if bulletin.demotions:
        embed.add_field(
            name="\N{DOWNWARDS BLACK ARROW} Demoted",
            value=_lines(
                [f"{_who(d)} is now **{names.get(d.new_tier, d.new_tier)}**" for d in bulletin.demotions],
                max(bulletin.demotions_total, len(bulletin.demotions)),
            ),
            inline=False,
        )
    return embed


def standings_embed(end: SeasonEnd, scenario: Scenario | None) -> discord.Embed:
    """The final standings of a season, for the announcements channel."""
    description = (
        f"{end.citizens:,} citizens · {end.audits:,} audits"
        + (f" · average score {end.average_score:,}" if end.average_score is not None else "")
        + "\nThank you for your cooperation. The debrief is with the Bureau."
    )
    embed = discord.Embed(
        title=f"\N{CHEQUERED FLAG} Season {end.season_number} is over: final standings",
        description=description,
        colour=BUREAU_COLOUR,
    )
    medals = ["\N{FIRST PLACE MEDAL}", "\N{SECOND PLACE MEDAL}", "\N{THIRD PLACE MEDAL}"]
    if end.top:
        embed.add_field(
            name="Most trusted",
            value=_lines(
                [
                    f"{medals[i] if i < 3 else f'`#{i + 1}`'} {_who(row)} · **{row.score:,}**"
                    for i, row in enumerate(end.top)
                ],
                len(end.top),
            ),
            inline=False,
        )
    if len(end.bottom) > 1 or (end.bottom and end.citizens > len(end.top)):
        embed.add_field(
            name="Under review",
            value=_lines(
                [f"{_who(row)} · **{row.score:,}**" for row in end.bottom[:5]], min(len(end.bottom), 5)
            ),
            inline=False,
        )
    names = _tier_names(scenario)
    if end.tiers and end.citizens:
        embed.add_field(
            name="Tiers",
            value="\n".join(f"{names.get(key, key)}: {count:,}" for key, count in end.tiers.items() if count)
            or "nobody",
            inline=False,
        )
    return embed


def season_start_embed(start: SeasonStart) -> discord.Embed:
    """A season begins: the announcement."""
    embed = bureau_embed(
        f"\N{CLASSICAL BUILDING} Season {start.season_number} begins: {start.scenario_name}",
        start.description,
    )
    embed.add_field(
        name="Length",
        value=(
            f"{fmt.duration(start.ends_at - start.started_at)}, "
            f"until {discord.utils.format_dt(start.ends_at, 'f')}"
        ),
        inline=False,
    )
    embed.add_field(
        name="Audits", value=f"every {fmt.duration(timedelta(seconds=start.audit_every_s))}", inline=True
    )
    embed.add_field(
        name="Enrolment", value=fmt.ENROLMENT_WORDS.get(start.enrollment, start.enrollment), inline=True
    )
    embed.add_field(
        name="Watched channels",
        value=fmt.truncate(" ".join(f"<#{channel_id}>" for channel_id in start.game_channel_ids), FIELD_LIMIT)
        or "none yet",
        inline=False,
    )
    return embed


async def _season_scenario(courier: Courier, season_id: int | None) -> Scenario | None:
    if season_id is None:
        return None
    async with courier.bot.reading() as session:
        season = await session.get(Season, season_id)
    if season is None:
        return None
    return restore_scenario(season.rules, source=f"season {season.number}")


async def _render_bulletin(courier: Courier, item: OutboxItem) -> Sequence[tuple[ChannelRole, Post]]:
    assert isinstance(item.payload, Bulletin)
    embed = bulletin_embed(item.payload, await _season_scenario(courier, item.season_id))
    if embed is None:
        return ()
    return [("announcements", Post(marker=file_marker(item.id), embeds=[embed]))]


async def _render_season_start(courier: Courier, item: OutboxItem) -> Sequence[tuple[ChannelRole, Post]]:
    assert isinstance(item.payload, SeasonStart)
    return [("announcements", Post(marker=file_marker(item.id), embeds=[season_start_embed(item.payload)]))]


async def _render_season_end(courier: Courier, item: OutboxItem) -> Sequence[tuple[ChannelRole, Post]]:
    assert isinstance(item.payload, SeasonEnd)
    scenario = await _season_scenario(courier, item.season_id)
    posts: list[tuple[ChannelRole, Post]] = [
        ("announcements", Post(marker=file_marker(item.id), embeds=[standings_embed(item.payload, scenario)]))
    ]
    try:
        report = await debrief_post(courier.bot, item)
    except Exception:
        # The standings must not wait on the charts: report the failure, the rest goes out.
        log.exception("could not build the debrief of season %s", item.season_id)
        await courier.warn(
            item.guild_id,
            f"debrief-{item.season_id}",
            "I could not build the season's debrief. The final standings are posted; "
            "try /season report for the debrief.",
        )
        report = None
    if report is not None:
        posts.append(("moderators", report))
    return posts


async def _render_notice(courier: Courier, item: OutboxItem) -> Sequence[tuple[ChannelRole, Post]]:
    assert isinstance(item.payload, Notice)
    notice = item.payload
    embed = discord.Embed(
        title=fmt.truncate(notice.title, TITLE_LIMIT),
        description=fmt.truncate(notice.text, DESCRIPTION_LIMIT) or None,
        colour=BUREAU_COLOUR,
    )
    return [(notice.channel, Post(marker=file_marker(item.id), embeds=[embed]))]


RENDERERS: dict[OutboxKind, Renderer] = {
    OutboxKind.BULLETIN: _render_bulletin,
    OutboxKind.SEASON_START: _render_season_start,
    OutboxKind.SEASON_END: _render_season_end,
    OutboxKind.NOTICE: _render_notice,
    OutboxKind.DECREE: render_decree,
}

WHAT = {
    OutboxKind.BULLETIN: "an audit bulletin",
    OutboxKind.SEASON_START: "the season's announcement",
    OutboxKind.SEASON_END: "the season's final standings",
    OutboxKind.NOTICE: "a notice",
    OutboxKind.DECREE: "a decree",
    OutboxKind.PERMIT_REQUEST: "a permit request",
    OutboxKind.APPEAL_REQUEST: "an appeal",
}
