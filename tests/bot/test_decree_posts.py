"""A decree's announcement: its title begins with "Decree" and it says what changed and until when."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.courier.decrees import decree_embed
from game.payloads import DecreeChange, DecreeNews

AT = datetime(2026, 3, 1, 20, 54, tzinfo=UTC)


def news(**changes: object) -> DecreeNews:
    fields: dict[str, object] = {
        "season_id": 1,
        "record_id": 2,
        "event": "took_effect",
        "decree_key": "crackdown",
        "name": "The Crackdown",
        "description": "Loose talk has been noticed.",
        "changes": (
            DecreeChange(kind="scale-penalties", value=2),
            DecreeChange(kind="withdraw-item", key="imported-liquor", name="Imported liquor"),
            DecreeChange(kind="set-price", key="green-tea", name="Green tea", value=30, before=15),
            DecreeChange(kind="friends-factor", value=1.0, before=0.5),
        ),
        "from_audit": 28,
        "until_audit": 30,
        "until_at": AT,
    }
    fields.update(changes)
    return DecreeNews(**fields)  # type: ignore[arg-type]


def test_a_decree_says_what_changed_and_until_when() -> None:
    embed = decree_embed(news())
    assert embed.title is not None
    assert embed.title.lstrip("\N{SCROLL} ").startswith("Decree: The Crackdown")
    text = embed.description or ""
    assert "Every speech penalty is multiplied by 2." in text
    assert "**Imported liquor** is withdrawn from the shop." in text
    assert "**Green tea** now costs 30 credits (was 15 credits)." in text
    assert "Friends now pay 100 % of each other's penalties (was 50 %)." in text
    assert "In force for the next 3 audits (audit 30, until about <t:" in text
    assert "By order of the Bureau." in text


def test_an_open_ended_decree_an_amnesty_and_a_revocation() -> None:
    amnesty = news(
        until_audit=None,
        until_at=None,
        issued_by=77,
        changes=(DecreeChange(kind="amnesty", key="snacks", name="the snack shortage"),),
        reversed_entries=4,
        reversed_points=240,
        pardoned=3,
    )
    text = decree_embed(amnesty).description or ""
    assert "Every penalty for **the snack shortage** so far is forgiven." in text
    assert "4 penalties reversed: 240 points back to 3 citizens." in text
    assert "In force until the end of the season." in text
    assert "By order of <@77>." in text
    revoked = decree_embed(news(event="revoked", revoked_by=77))
    assert (revoked.title or "").lstrip("\N{SCROLL} ").startswith("Decree revoked: The Crackdown")
    assert "Revoked by <@77>" in (revoked.description or "")
