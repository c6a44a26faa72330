"""Embeds citizens see: the help page (built from the running scenario), the citizen card, ledger lines.

What matters comes first (score, tier, change).
"""

from __future__ import annotations

from datetime import datetime

import discord

from bot.utils import formatting as fmt
from bot.utils.embeds import DESCRIPTION_LIMIT, FIELD_LIMIT, GAME_COLOUR, lines_field
from game.scenario import Scenario, Tier
from game.services.citizens import CitizenCard
from game.services.queries import LedgerLine

__all__ = [
    "CITIZEN_COMMANDS",
    "card_embed",
    "change_words",
    "help_embed",
    "ledger_line",
    "tier_line",
]


CITIZEN_COMMANDS = (
    ("/join", "become a citizen of this season"),
    ("/score [citizen]", "anyone's card, posted publicly"),
    ("/history [citizen]", "the score over the season, with reasons"),
    ("/leaderboard", "the best and the worst"),
    ("/shop, /buy, /wallet", "spend credits; the Bureau sees what you buy"),
    ("/friend add|accept|decline|remove|list", "friends share the consequences"),
    ("/permit request", "ask the Bureau to let you speak on a topic"),
    ("/appeal", "contest a ledger entry"),
    ("/brag", "post your score card for all to admire"),
    ("/mydata, /leave", "everything stored about you; leave and have it deleted"),
)


def tier_line(tier: Tier) -> str:
    """``**Visa** 750–849 · travel permit``: the tier's band and what it changes."""
    perks = []
    if tier.price_markup_percent:
        perks.append(f"shop prices {fmt.signed(tier.price_markup_percent)} %")
    if tier.travel_banned:
        perks.append("no travel items")
    if tier.travel_permit:
        perks.append("travel permit")
    if tier.role:
        perks.append(f"role @{tier.role}")
    band = f"{fmt.number(tier.min_score)}\N{EN DASH}{fmt.number(tier.max_score)}"
    return f"**{tier.name}** {band}" + (f" \N{MIDDLE DOT} {', '.join(perks)}" if perks else "")


def _penalty_range(values: list[int]) -> str:
    low, high = min(values), max(values)
    return fmt.signed(low) if low == high else f"{fmt.signed(high)} to {fmt.signed(low)}"


def help_embed(scenario: Scenario | None, *, season_note: str | None = None) -> discord.Embed:
    """How the game works. Without a scenario (no season here) it explains how to start one."""
    embed = discord.Embed(title="How Citizen Score works", colour=GAME_COLOUR)
    commands = lines_field(f"`{name}` {what}" for name, what in CITIZEN_COMMANDS)
    if scenario is None:
        embed.description = (
            "A role-play of a social-credit system. No season is running here yet: "
            "a moderator can start one with `/season start`, then members `/join`."
        )
        embed.add_field(name="Commands", value=commands, inline=False)
        return embed

    score, economy, friends = scenario.score, scenario.economy, scenario.friends
    description = [
        f"**{scenario.name}**: {scenario.description}",
        "",
        (
            f"Everyone starts at **{fmt.number(score.start)}**; scores stay within "
            f"{fmt.number(score.minimum)}\N{EN DASH}{fmt.number(score.maximum)}. "
            "What you say in game channels and what you buy are recorded, then scored at each audit."
        ),
    ]
    if season_note:
        description.append(season_note)
    embed.description = fmt.truncate("\n".join(description), DESCRIPTION_LIMIT)

    embed.add_field(
        name="Tiers", value=lines_field(tier_line(t) for t in reversed(scenario.tiers)), inline=False
    )

    speech = scenario.speech
    said = []
    if speech.forbidden:
        names = ", ".join(topic.name for topic in speech.forbidden)
        said.append(f"**Forbidden** ({_penalty_range([t.penalty for t in speech.forbidden])}): {names}")
    if speech.permit_required:
        names = ", ".join(f"`{topic.key}`" for topic in speech.permit_required)
        cost = _penalty_range([t.penalty for t in speech.permit_required])
        said.append(
            f"**Needs a permit** ({cost} without one): "
            f"{names}. Ask with `/permit request`; a permit lasts "
            f"{fmt.duration(scenario.permits.default_duration)}."
        )
    if speech.approved:
        bonuses = [t.bonus for t in speech.approved]
        low, high = min(bonuses), max(bonuses)
        bonus = fmt.signed(low) if low == high else f"{fmt.signed(low)} to {fmt.signed(high)}"
        names = ", ".join(topic.name for topic in speech.approved)
        said.append(
            f"**Approved** ({bonus}): {names}. At most one reward every "
            f"{fmt.duration(scenario.rewards.min_interval)}; repeating yourself earns nothing."
        )
    if speech.sentiment is not None and speech.sentiment.enabled:
        said.append(
            f"**Tone**: a cheerful message earns {fmt.signed(speech.sentiment.bonus)}, "
            f"a gloomy one costs {fmt.signed(speech.sentiment.penalty)}."
        )
    if said:
        embed.add_field(name="What you say", value=lines_field(said), inline=False)

    embed.add_field(
        name="Credits",
        value=(
            f"You start with {fmt.credits(economy.start_balance)}. Each audit pays "
            f"{fmt.credits(economy.stipend)} and charges {fmt.credits(economy.cost_of_living)} for living; "
            f"who cannot pay loses {fmt.plural(-economy.unpaid_penalty, 'point')}. "
            "Purchases change your score at the next audit."
        ),
        inline=False,
    )
    factor = f"{friends.factor:g}"
    embed.add_field(
        name="Friends",
        value=(
            f"At most {fmt.plural(friends.max_friends, 'friend')}. Each audit you lose "
            f"{factor} \N{MULTIPLICATION SIGN} the penalties your friends got, "
            f"at most {fmt.plural(-friends.cap_per_audit, 'point')} an audit."
        ),
        inline=False,
    )
    embed.add_field(name="Commands", value=commands, inline=False)
    return embed


# ---------------------------------------------------------------------------------------------------
# The citizen card and the ledger


def change_words(change: int | None) -> str | None:
    """``▲ +12 since the last change``; ``None`` when there is nothing to compare with."""
    if change is None:
        return None
    arrow = (
        "\N{BLACK UP-POINTING TRIANGLE}"
        if change > 0
        else "\N{BLACK DOWN-POINTING TRIANGLE}"
        if change < 0
        else "\N{BLACK RIGHT-POINTING TRIANGLE}"
    )
    return f"{arrow} {fmt.signed(change)} since the last change"


def card_embed(
    card: CitizenCard,
    *,
    now: datetime,
    score_floor: int,
    score_ceiling: int,
    change: int | None = None,
) -> discord.Embed:
    """The public card: score, tier and change first, then the breakdown, permits and friends."""
    citizen = card.citizen
    name = discord.utils.escape_markdown(citizen.display_name)
    headline = [f"## {fmt.number(citizen.score)} \N{MIDDLE DOT} {citizen.tier_name}"]
    standing = f"Rank {fmt.rank(card.rank, card.citizens)}"
    moved = change_words(change)
    headline.append(f"{standing} \N{MIDDLE DOT} {moved}" if moved else standing)
    embed = discord.Embed(
        title=f"{name} \N{MIDDLE DOT} Citizen #{citizen.number}",
        description="\n".join(headline),
        colour=fmt.score_colour(citizen.score, score_floor, score_ceiling),
    )
    breakdown = [
        f"{fmt.dimension_label(dimension)} **{fmt.signed(delta)}**" for dimension, delta in card.breakdown
    ]
    breakdown.append(f"Started at {fmt.number(card.start_score)}")
    embed.add_field(name="Breakdown", value=lines_field(breakdown), inline=False)
    permits = [
        f"`{permit.topic}` {permit.topic_name}, ends {fmt.until(permit.expires_at, now)}"
        for permit in card.active_permits
        if permit.expires_at is not None
    ]
    embed.add_field(name="Permits", value=lines_field(permits, empty="None"), inline=True)
    if card.friend_names:
        shown = ", ".join(discord.utils.escape_markdown(friend) for friend in card.friend_names)
        friends = f"**{card.friends_count}**: {fmt.truncate(shown, FIELD_LIMIT - 20)}"
    else:
        friends = "None"
    embed.add_field(name="Friends", value=friends, inline=True)
    looked = fmt.plural(card.lookups_today, "time")
    embed.set_footer(text=f"Looked up {looked} today \N{MIDDLE DOT} Season {card.season_number}")
    return embed


def ledger_line(entry: LedgerLine, *, now: datetime, reason_limit: int = 90) -> str:
    """``#12 −30 💬 Speech · Forbidden topic, … · 5 minutes ago``: one entry, number first for /appeal."""
    reason = discord.utils.escape_markdown(fmt.truncate(entry.reason, reason_limit))
    return (
        f"`#{entry.entry_id}` **{fmt.signed(entry.delta)}** {fmt.dimension_label(entry.dimension)} "
        f"\N{MIDDLE DOT} {reason} \N{MIDDLE DOT} {fmt.ago(entry.created_at, now)}"
    )
