"""What the bot says when the game refuses something: one sentence per error code, in the Bureau's voice.

The game raises :class:`~game.errors.GameError` with a code and the facts (names, numbers,
durations); this module words them for a member on Discord, naming the command that helps where one
does. Every code has a sentence here (a test holds the two lists together), so a new refusal cannot
reach a player as a bare code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import discord

from bot.utils import formatting as fmt
from game.errors import ErrorCode, GameError
from game.rules.economy import RefusalReason

__all__ = ["SENTENCES", "refusal_text"]

P = Mapping[str, Any]
_EXAMPLES = "90s, 15m, 2h, 2h30m, 1d12h or 1w"

_PAUSED_ACTIONS = {
    "join": "join",
    "shop": "shop",
    "befriend": "make friends",
    "permit": "request a permit",
    "appeal": "appeal",
}
_ENDED = {
    "scores": "That season has ended; its scores are final.",
    "appeals": "That season has ended; its scores are final and its appeals closed.",
    "permits": "That season has ended; its permit requests are closed.",
    "audit": "This season has ended; its last audit has been run.",
}
_REASON_FOR = {
    "adjustment": "Give a reason in a few words.",
    "appeal": "Tell the Bureau why the entry was wrong, in a few words.",
    "permit": "Tell the Bureau why you need the permit, in a few words.",
}


def _keys(keys: object) -> str:
    return ", ".join(f"`{fmt.escape(str(key))}`" for key in keys)  # type: ignore[attr-defined]


def _q(value: object, limit: int = 60) -> str:
    """Something the member typed, quoted back safely (short, no markdown, no mentions)."""
    return f"“{fmt.escape(fmt.truncate(str(value), limit))}”"


def _name(value: object) -> str:
    return fmt.escape(fmt.truncate(str(value), 80))


def _span(value: object) -> str:
    return fmt.duration(value) if isinstance(value, timedelta) else str(value)


def _paused(p: P) -> str:
    if p.get("action") == "audit":
        return "The season is paused: resume it with /season resume before calling an audit."
    action = _PAUSED_ACTIONS.get(str(p.get("action")), "do that")
    return f"The season is paused; you can {action} when the Bureau resumes it."


def _purchase(p: P) -> str:
    item, tier, needed = _name(p["item"]), _name(p["tier"]), p.get("needed_tier")
    reason = p["refusal"]
    if reason is RefusalReason.TRAVEL_BANNED:
        return f"Citizens rated {tier} may not buy travel items such as {item}. Raise your score to travel."
    if reason is RefusalReason.NO_TRAVEL_PERMIT:
        where = f" (from {_name(needed)} up)" if needed else ""
        return f"{item} is sold only to holders of a travel permit{where}; you are rated {tier}."
    return f"{item} is sold from {_name(needed)} up; you are rated {tier}."


def _funds(p: P) -> str:
    costs = "this costs" if p["quantity"] == 1 else f"{p['quantity']} cost"
    return f"You have {fmt.credits(p['balance'])}; {costs} {p['total']:,}."


def purchase_refusal_text(reason: RefusalReason, *, item: str, tier: str, needed_tier: str | None) -> str:
    """Why an item is not for this citizen's tier, as ``/shop`` notes it under the item."""
    return _purchase({"refusal": reason, "item": item, "tier": tier, "needed_tier": needed_tier})


SENTENCES: dict[ErrorCode, Callable[[P], str]] = {
    ErrorCode.NO_ACTIVE_SEASON: lambda p: (
        "No season is running here. A moderator can start one with /season start."
    ),
    ErrorCode.SEASON_NOT_FOUND: lambda p: "That season does not exist.",
    ErrorCode.SEASON_NUMBER_NOT_FOUND: lambda p: (
        f"There is no season {p['number']:,} here; /season status lists the seasons."
    ),
    ErrorCode.SEASON_ALREADY_LIVE: lambda p: (
        "A season is already under way here; end it with /season end before starting another."
    ),
    ErrorCode.SEASON_PAUSED: _paused,
    ErrorCode.SEASON_ENDED: lambda p: _ENDED.get(str(p.get("what")), _ENDED["scores"]),
    ErrorCode.ALREADY_PAUSED: lambda p: "The season is already paused; /season resume starts it again.",
    ErrorCode.NOT_PAUSED: lambda p: "The season is not paused; /season pause pauses it.",
    ErrorCode.SEASON_DURATION_OUT_OF_RANGE: lambda p: (
        f"A season lasts from one second to {_span(p['maximum'])}; choose a duration such as 2h."
    ),
    ErrorCode.AUDIT_INTERVAL_TOO_SHORT: lambda p: (
        f"Audits can run at most every {_span(p['floor'])} in {_name(p['scenario'])}; "
        f"choose {_span(p['floor'])} or longer."
    ),
    ErrorCode.AUDIT_INTERVAL_TOO_LONG: lambda p: (
        f"An audit every {_span(p['interval'])} would never run in a season of {_span(p['duration'])}; "
        "choose a shorter interval."
    ),
    ErrorCode.AUDIT_INTERVAL_FRACTION: lambda p: (
        "Give the audit interval in whole seconds, such as 90s or 15m."
    ),
    ErrorCode.NOT_ENROLLED: lambda p: "You are not a citizen of this season yet. Use /join to enrol.",
    ErrorCode.MEMBER_NOT_ENROLLED: lambda p: (
        "That member is not a citizen of this season; they can /join first."
    ),
    ErrorCode.ALREADY_ENROLLED: lambda p: "You are already a citizen of this season.",
    ErrorCode.NO_RECORD: lambda p: (
        "The Bureau holds no record of you here; there is nothing to "
        f"{'export' if p.get('purpose') == 'export' else 'delete'}."
    ),
    ErrorCode.CITIZEN_GONE: lambda p: "That citizen is not on the register any more.",
    ErrorCode.LEADERBOARD_CURSOR_EXPIRED: lambda p: (
        "That leaderboard button has expired; run /leaderboard again."
    ),
    ErrorCode.LEADERBOARD_ORDER: lambda p: "Choose the top or the bottom of the leaderboard.",
    ErrorCode.LEADERBOARD_PAGE: lambda p: (
        f"The leaderboard has {fmt.plural(p['total_pages'], 'page')}; "
        f"choose a page from 1 to {p['total_pages']:,}."
    ),
    ErrorCode.REASON_EMPTY: lambda p: _REASON_FOR.get(str(p.get("purpose")), _REASON_FOR["adjustment"]),
    ErrorCode.REASON_TOO_LONG: lambda p: (
        f"Keep the reason to {p['limit']:,} characters; yours has {p['length']:,}."
    ),
    ErrorCode.ADJUSTMENT_OUT_OF_RANGE: lambda p: (
        f"An adjustment is from -{p['span']} to {p['span']} points and not zero; "
        "choose a delta in that range."
    ),
    ErrorCode.RULES_EDIT_REFUSED: lambda p: (
        f"The Bureau cannot make that change: {fmt.escape(fmt.truncate(str(p['reasons']), 1500))}."
    ),
    ErrorCode.BONUS_OUT_OF_RANGE: lambda p: (
        f"Approved talk earns a bonus from {p['low']} to {p['high']:,} points; give a positive number."
    ),
    ErrorCode.PENALTY_OUT_OF_RANGE: lambda p: (
        f"A forbidden or permit topic costs from {p['high']} to {p['low']:,} points; give a negative number."
    ),
    ErrorCode.PRICE_OUT_OF_RANGE: lambda p: f"A price is from {p['low']:,} to {p['high']:,} credits.",
    ErrorCode.TOO_MANY_GAME_CHANNELS: lambda p: (
        f"This server already has {p['limit']} game channels; remove one before adding another."
    ),
    ErrorCode.TIER_KEY_INVALID: lambda p: (
        "A tier key is 1 to 40 characters, such as `visa`; check the scenario's tiers."
    ),
    ErrorCode.ENTRY_ALREADY_REVERSED: lambda p: (
        f"Entry #{p['entry_id']} has already been reversed by a decree; its points are back."
    ),
    ErrorCode.DECREE_NOT_FOUND: lambda p: (
        f"This season's scenario has no optional decree `{fmt.escape(str(p['decree']))}`"
        + (f"; choose one of {_keys(p['choices'])}." if p.get("choices") else "; it has none to issue.")
    ),
    ErrorCode.DECREE_SCHEDULED: lambda p: (
        f"**{fmt.escape(str(p['name']))}** is on the season's timeline and comes by itself; "
        "only optional decrees are issued by hand."
    ),
    ErrorCode.DECREE_IN_FORCE: lambda p: (
        f"**{fmt.escape(str(p['name']))}** is already in force; revoke it first to issue it again."
    ),
    ErrorCode.DECREE_NOT_IN_FORCE: lambda p: (
        f"No decree `{fmt.escape(str(p['decree']))}` is in force"
        + (f"; in force now: {_keys(p['choices'])}." if p.get("choices") else "; none is.")
    ),
    ErrorCode.ENTRY_NOT_YOURS: lambda p: (
        f"You have no ledger entry #{p['entry_id']}; /history lists yours with their numbers."
    ),
    ErrorCode.ENTRY_IS_REVERSAL: lambda p: (
        f"Entry #{p['entry_id']} is itself the reversal of an appeal; it cannot be appealed."
    ),
    ErrorCode.ENTRY_NOT_A_PENALTY: lambda p: (
        f"Entry #{p['entry_id']} did not lower your score; the Bureau hears appeals against penalties."
    ),
    ErrorCode.ALREADY_APPEALED: lambda p: (
        f"You already appealed entry #{p['entry_id']} (its appeal is {p['status']})."
    ),
    ErrorCode.APPEAL_NOT_FOUND: lambda p: "That appeal does not exist here; /appeals lists the open ones.",
    ErrorCode.APPEAL_ALREADY_DECIDED: lambda p: (
        f"That appeal was already decided ({p['status']}); nothing more to do."
    ),
    ErrorCode.ITEM_NOT_SOLD: lambda p: f"The shop sells no {_q(p['item'])}; /shop lists what it sells.",
    ErrorCode.QUANTITY_OUT_OF_RANGE: lambda p: f"Buy from 1 to {p['maximum']} at a time.",
    ErrorCode.PURCHASE_REFUSED: _purchase,
    ErrorCode.SOLD_OUT: lambda p: f"{_name(p['item'])} is sold out.",
    ErrorCode.STOCK_SHORT: lambda p: (
        f"Only {p['left']:,} left of {_name(p['item'])}; buy {p['left']:,} or fewer."
    ),
    ErrorCode.INSUFFICIENT_FUNDS: _funds,
    ErrorCode.BEFRIEND_SELF: lambda p: (
        "You cannot befriend yourself; the Bureau already keeps a close eye on you."
    ),
    ErrorCode.ALREADY_FRIENDS: lambda p: f"You and {_name(p['name'])} are already friends.",
    ErrorCode.ALREADY_ASKED: lambda p: f"You already asked {_name(p['name'])}; wait for their answer.",
    ErrorCode.FRIEND_LIMIT: lambda p: (
        f"You already have {p['limit']} friends, the most the Bureau allows; remove one first."
    ),
    ErrorCode.FRIEND_LIMIT_OTHER: lambda p: (
        f"{_name(p['name'])} already has {p['limit']} friends, the most the Bureau allows."
    ),
    ErrorCode.NO_FRIEND_REQUEST: lambda p: f"{_name(p['name'])} has no pending friend request to you.",
    ErrorCode.FRIEND_REQUEST_ANSWERED: lambda p: "That friend request was already answered.",
    ErrorCode.NOT_FRIENDS: lambda p: f"You and {_name(p['name'])} are not friends.",
    ErrorCode.NO_REQUEST_FROM_SELF: lambda p: "You cannot have sent yourself a friend request.",
    ErrorCode.NOT_OWN_FRIEND: lambda p: "You are not on your own list of friends; pick a friend to remove.",
    ErrorCode.NO_PERMIT_TOPICS: lambda p: (
        "No topic needs a permit this season, so there is nothing to request."
    ),
    ErrorCode.NOT_A_PERMIT_TOPIC: lambda p: (
        f"{_q(p['topic'])} does not need a permit; choose one of: {', '.join(p['choices'])}."
    ),
    ErrorCode.PERMIT_PENDING: lambda p: (
        f"You already asked for a permit on {_name(p['topic_name'])}; wait for the Bureau's decision."
    ),
    ErrorCode.PERMIT_HELD: lambda p: (
        f"You already hold a permit on {_name(p['topic_name'])} "
        f"until {discord.utils.format_dt(p['until'], 'f')}."
    ),
    ErrorCode.PERMIT_NOT_FOUND: lambda p: (
        "That permit request does not exist here; /permits lists the open ones."
    ),
    ErrorCode.PERMIT_ALREADY_DECIDED: lambda p: (
        f"That request was already decided ({p['status']}); nothing more to do."
    ),
    ErrorCode.PERMIT_DURATION_OUT_OF_RANGE: lambda p: (
        f"A permit lasts from one second to {_span(p['maximum'])}; choose a duration such as 24h."
    ),
    ErrorCode.DURATION_EMPTY: lambda p: f"Type a duration, such as {_EXAMPLES}.",
    ErrorCode.DURATION_NEGATIVE: lambda p: f"A duration cannot be negative: type one such as {_EXAMPLES}.",
    ErrorCode.DURATION_NO_UNIT: lambda p: (
        f"{_q(p['text'])} needs a unit: {p['number']}m for minutes, {p['number']}h for hours, "
        f"{p['number']}s for seconds."
        if len(str(p["number"])) <= 12
        else f"{_q(p['text'])} needs a unit, such as {_EXAMPLES}."
    ),
    ErrorCode.DURATION_UNREADABLE: lambda p: (
        f"{_q(p['text'])} is not a duration the Bureau can read: "
        f"type a number and a unit, such as {_EXAMPLES}."
    ),
    ErrorCode.DURATION_UNIT_TWICE: lambda p: (
        f"{_q(p['text'])} names the same unit twice: write each unit once, such as {_EXAMPLES}."
    ),
    ErrorCode.DURATION_ZERO: lambda p: f"A duration must be longer than zero: type one such as {_EXAMPLES}.",
    ErrorCode.DURATION_TOO_LONG: lambda p: (
        f"{_q(p['text'])} is longer than the longest allowed, {_span(p['maximum'])}: "
        f"type a shorter one, such as {_EXAMPLES}."
    ),
    ErrorCode.NUMBER_OUT_OF_RANGE: lambda p: (
        f"{str(p.get('what', 'That number')).capitalize()} must be from {p['low']:,} to {p['high']:,}."
    ),
    ErrorCode.NOT_A_MEMBER_ID: lambda p: (
        f"{_q(p['text'])} is not a member of this server; pick one from the list."
    ),
    ErrorCode.TEXT_TOO_LONG: lambda p: (
        f"Keep {p.get('what', 'it')} to {p['limit']:,} characters; yours has {p['length']:,}."
    ),
    ErrorCode.TEXT_EMPTY: lambda p: f"Give {p.get('what', 'some text')} in a few words.",
    ErrorCode.SCENARIO_INVALID: lambda p: (
        "That scenario pack is broken: "
        + fmt.escape(fmt.truncate("; ".join(str(problem) for problem in p["problems"]), 1500))
    ),
    ErrorCode.UNKNOWN_SCENARIO: lambda p: (
        f"There is no scenario {_q(p['key'], 40)}; available: {', '.join(p['available']) or 'none'}."
    ),
}


def refusal_text(error: GameError) -> str:
    """The sentence for a game error, for the member who caused it."""
    return SENTENCES[error.code](error.params)
