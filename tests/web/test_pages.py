"""The public pages over HTTP, on both engines: order and paging, cards, the switch, escaping,
headers, limits, caching, departures and the signed debrief link."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from game.db import transaction
from game.services import privacy
from game.services.public import PUBLIC_PAGE_SIZE
from tests.factories.rows import GUILD, T0, audit, befriend, new_citizen, new_season, post
from tests.web.conftest import SECRET, Site, enable, fill, web_config
from web import debrief_path

HOSTILE = "<script>alert(1)</script>"
ROUTES = ("/g/{g}", "/g/{g}/c/1", "/g/{g}/seasons", "/g/{g}/seasons/1", "/g/{g}/seasons/1/c/1")


def numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-number="(\d+)"', html)]


async def walk(site: Site, path: str, order: str) -> list[dict[str, object]]:
    """Every row of the board, following the API's next links from the first page."""
    rows: list[dict[str, object]] = []
    url: str | None = f"{path}?order={order}"
    while url is not None:
        response = await site.client.get(url)
        assert response.status == 200, await response.text()
        data = await response.json()
        rows.extend(data["rows"])
        url = data["next"]
    return rows


async def test_a_server_that_has_not_turned_pages_on_answers_404_and_reveals_nothing(site: Site) -> None:
    season_id = await new_season(site.engine)
    await fill(site.engine, season_id, [600, 700])
    absent = await site.client.get("/g/999")
    absent_body = await absent.text()
    for route in ROUTES:
        for prefix in ("", "/api"):
            response = await site.client.get(prefix + route.format(g=GUILD))
            assert response.status == 404
            if not prefix:
                assert await response.text() == absent_body
            else:
                assert await response.json() == {"error": "not found"}
    assert "Classic" not in absent_body
    assert "citizen-1" not in absent_body
    # Turned on, then off again: 404 once more (the switch empties the cache).
    await enable(site.engine, GUILD)
    site.state.forget(GUILD)
    assert (await site.client.get(f"/g/{GUILD}")).status == 200
    await enable(site.engine, GUILD, False)
    site.state.forget(GUILD)
    assert (await site.client.get(f"/g/{GUILD}")).status == 404


async def test_the_leaderboard_lists_every_citizen_in_order_a_hundred_a_page(site: Site) -> None:
    season_id = await new_season(site.engine)
    scores = [500 + (i * 37) % 41 for i in range(250)]  # many ties
    await fill(site.engine, season_id, scores)
    await enable(site.engine, GUILD)
    people = list(enumerate(scores, start=1))  # (number, score); ids follow numbers here
    for order in ("top", "bottom"):
        rows = await walk(site, f"/api/g/{GUILD}", order)
        expected = sorted(people, key=lambda p: (p[1], p[0]), reverse=order == "top")
        assert [r["number"] for r in rows] == [n for n, _ in expected]
        assert [r["position"] for r in rows] == list(range(1, 251))
        for row in rows:
            assert row["rank"] == 1 + sum(1 for _, s in people if s > row["score"])
    first = await (await site.client.get(f"/g/{GUILD}")).text()
    assert len(numbers(first)) == PUBLIC_PAGE_SIZE
    # The HTML pages link to each other by keyset; the previous link of page 2 gives page 1 back.
    second_link = re.search(r'rel="next" id="next" href="([^"]+)"', first)
    assert second_link is not None
    second = await (await site.client.get(second_link.group(1).replace("&amp;", "&"))).text()
    assert 'page <span data-live="page">2</span> of <span data-live="total_pages">3</span>' in second
    back = re.search(r'rel="prev" id="prev" href="([^"]+)"', second)
    assert back is not None
    again = await (await site.client.get(back.group(1).replace("&amp;", "&"))).text()
    assert numbers(again) == numbers(first)


async def test_bad_paging_gets_one_sentence(site: Site) -> None:
    await new_season(site.engine)
    await enable(site.engine, GUILD)
    for query in ("order=sideways", "after=banana", "after=1:2&before=1:2"):
        response = await site.client.get(f"/api/g/{GUILD}?{query}")
        assert response.status == 400
        assert (await response.json())["error"].endswith(".")
        assert (await site.client.get(f"/g/{GUILD}?{query}")).status == 400


async def test_a_hostile_name_is_shown_as_text(site: Site) -> None:
    season_id = await new_season(site.engine)
    await fill(site.engine, season_id, [610, 600], name=lambda n: HOSTILE if n == 1 else f"friend-{n}")
    await befriend(site.engine, season_id, 1, 2)
    await enable(site.engine, GUILD)
    for path in (f"/g/{GUILD}", f"/g/{GUILD}/c/1", f"/g/{GUILD}/c/2"):
        html = await (await site.client.get(path)).text()
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (await (await site.client.get(f"/api/g/{GUILD}/c/1")).json())["name"] == HOSTILE


async def test_the_card_shows_what_score_shows_and_no_wallet_nor_text(site: Site) -> None:
    season_id = await new_season(site.engine)
    me = await new_citizen(site.engine, season_id, user_id=1, name="Ada", score=640, balance=4321)
    friend = await new_citizen(site.engine, season_id, user_id=2, name="Bo")
    await befriend(site.engine, season_id, me, friend)
    await post(site.engine, season_id, me, "a secret sentence about Tiananmen")
    await audit(site.engine, season_id, now=T0 + timedelta(minutes=15))
    await enable(site.engine, GUILD)
    data = await (await site.client.get(f"/api/g/{GUILD}/c/1")).json()
    html = await (await site.client.get(f"/g/{GUILD}/c/1")).text()
    assert data["name"] == "Ada"
    assert data["start_score"] + sum(data["breakdown"].values()) == data["score"]
    assert data["friends"] == [{"number": 2, "name": "Bo"}]
    assert len(data["history"]) >= 2
    assert data["history"][-1]["score"] == data["score"]
    assert data["recent"]
    assert all(set(e) == {"at", "audit", "dimension", "delta", "reason"} for e in data["recent"])
    text = html + str(data)
    for secret in ("4321", "balance", "debt", "secret sentence", "user_id", "discord.com/channels"):
        assert secret not in text
    assert '<svg class="history"' in html
    assert "<caption>" in html
    board = await (await site.client.get(f"/api/g/{GUILD}")).json()
    change = {row["number"]: row["change"] for row in board["rows"]}
    assert change[1] == data["score"] - 640 != 0  # what the audit did
    assert data["rank"] == 1 + sum(1 for row in board["rows"] if row["score"] > data["score"])


async def test_security_headers_on_every_answer(site: Site) -> None:
    await new_season(site.engine)
    await enable(site.engine, GUILD)
    for path in (f"/g/{GUILD}", "/g/1", f"/api/g/{GUILD}", "/static/style.css", f"/g/{GUILD}?order=x"):
        response = await site.client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_an_address_over_its_limit_gets_429(make_site: object) -> None:
    site: Site = await make_site(web_config(rate=5.0, rate_period=60.0))  # type: ignore[operator]
    statuses = [(await site.client.get("/g/1")).status for _ in range(7)]
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]
    response = await site.client.get("/healthz")
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    await site.client.close()


async def test_an_unchanged_page_is_a_304(site: Site) -> None:
    season_id = await new_season(site.engine)
    await fill(site.engine, season_id, [600])
    await enable(site.engine, GUILD)
    first = await site.client.get(f"/api/g/{GUILD}")
    etag = first.headers["ETag"]
    again = await site.client.get(f"/api/g/{GUILD}", headers={"If-None-Match": etag})
    assert again.status == 304


async def test_a_departed_citizen_disappears_at_once(site: Site) -> None:
    season_id = await new_season(site.engine)
    await new_citizen(site.engine, season_id, user_id=1, name="Stays")
    await new_citizen(site.engine, season_id, user_id=2, name="Leaves", score=700)
    await enable(site.engine, GUILD)
    assert "Leaves" in await (await site.client.get(f"/g/{GUILD}")).text()
    assert (await site.client.get(f"/g/{GUILD}/c/2")).status == 200
    async with transaction(site.engine) as session:
        await privacy.leave(session, guild_id=GUILD, user_id=2, now=T0)
    site.state.forget(GUILD)  # what the bot does after /leave
    page = await (await site.client.get(f"/g/{GUILD}")).text()
    assert "Leaves" not in page
    assert "Stays" in page
    assert (await site.client.get(f"/g/{GUILD}/c/2")).status == 404
    assert "Leaves" not in await (await site.client.get(f"/api/g/{GUILD}")).text()


async def test_without_being_told_the_cache_forgets_within_its_time(make_site: object) -> None:
    site: Site = await make_site(web_config(cache_seconds=0.3))  # type: ignore[operator]
    season_id = await new_season(site.engine)
    await new_citizen(site.engine, season_id, user_id=2, name="Leaves")
    await enable(site.engine, GUILD)
    assert "Leaves" in await (await site.client.get(f"/g/{GUILD}")).text()
    async with transaction(site.engine) as session:
        await privacy.leave(session, guild_id=GUILD, user_id=2, now=T0)
    await asyncio.sleep(0.35)
    assert "Leaves" not in await (await site.client.get(f"/g/{GUILD}")).text()
    await site.client.close()


async def test_past_seasons_and_their_final_standings(site: Site) -> None:
    from game.models import SeasonStatus

    old = await new_season(site.engine, status=SeasonStatus.ENDED, number=1)
    await fill(site.engine, old, [700, 650], name=lambda n: f"old-{n}")
    live = await new_season(site.engine, number=2)
    await fill(site.engine, live, [600], name=lambda n: f"new-{n}")
    await enable(site.engine, GUILD)
    listed = await (await site.client.get(f"/api/g/{GUILD}/seasons")).json()
    assert [s["number"] for s in listed["seasons"]] == [2, 1]
    assert [s["citizens"] for s in listed["seasons"]] == [1, 2]
    html = await (await site.client.get(f"/g/{GUILD}/seasons")).text()
    assert f'href="/g/{GUILD}/seasons/1"' in html
    standings = await (await site.client.get(f"/api/g/{GUILD}/seasons/1")).json()
    assert [r["name"] for r in standings["rows"]] == ["old-1", "old-2"]
    assert (await (await site.client.get(f"/api/g/{GUILD}")).json())["season"]["number"] == 2
    old_card = await (await site.client.get(f"/api/g/{GUILD}/seasons/1/c/2")).json()
    assert old_card["name"] == "old-2"
    assert (await site.client.get(f"/g/{GUILD}/seasons/3")).status == 404


async def test_the_debrief_only_by_a_signed_link_that_has_not_expired(site: Site) -> None:
    season_id = await new_season(site.engine)
    await new_citizen(site.engine, season_id, user_id=1, name="Ada", score=640)
    await enable(site.engine, GUILD)
    path = debrief_path(SECRET, guild_id=GUILD, season_number=1, expires_at=T0 + timedelta(hours=24))
    response = await site.client.get(path)
    assert response.status == 200
    assert "Ada" in await response.text()
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private, no-store"
    tampered = path.replace("seasons/1", "seasons/2")
    forged = re.sub(r"sig=\w+", "sig=" + "0" * 64, path)
    later = path.replace(f"expires={int((T0 + timedelta(hours=24)).timestamp())}", "expires=9999999999")
    for bad in (tampered, forged, later, f"/g/{GUILD}/seasons/1/debrief"):
        assert (await site.client.get(bad)).status == 404
    site.clock.advance(hours=24)
    assert (await site.client.get(path)).status == 404


@pytest.mark.parametrize("secret", [None, ""])
async def test_no_debrief_links_without_a_secret(make_site: object, secret: str | None) -> None:
    site: Site = await make_site(web_config(secret=secret))  # type: ignore[operator]
    await new_season(site.engine)
    await enable(site.engine, GUILD)
    query = urlencode({"expires": "9999999999", "sig": "0" * 64})
    assert (await site.client.get(f"/g/{GUILD}/seasons/1/debrief?{query}")).status == 404
    await site.client.close()
