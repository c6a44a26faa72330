"""A web server over a test database: the ``site`` fixture (an aiohttp test client) on both engines,
and a quick way to fill a season with many citizens (:func:`fill`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from game.db import transaction
from game.models import Citizen, ScoreCount
from game.services import public
from tests.conftest import TestClock
from tests.factories.rows import T0, rules_of, season_row
from web import WEB_STATE, WebConfig, WebState, create_app

SECRET = "test-secret-for-signing"


@dataclass
class Site:
    client: TestClient  # type: ignore[type-arg]
    engine: AsyncEngine
    clock: TestClock

    @property
    def state(self) -> WebState:
        return self.client.app[WEB_STATE]  # type: ignore[index]


async def enable(engine: AsyncEngine, guild_id: int, enabled: bool = True) -> None:
    async with transaction(engine) as session:
        await public.set_pages_enabled(session, guild_id=guild_id, enabled=enabled, now=T0)


async def fill(
    engine: AsyncEngine, season_id: int, scores: list[int], *, name: Callable[[int], str] | None = None
) -> None:
    """Citizens numbered on from the season's next number, holding ``scores``, in one statement."""
    scenario = await rules_of(engine, season_id)
    season = await season_row(engine, season_id)
    first = season.next_citizen_number
    rows = [
        {
            "season_id": season_id,
            "guild_id": season.guild_id,
            "user_id": 900_000_000_000_000_000 + first + i,
            "number": first + i,
            "display_name": name(first + i) if name else f"citizen-{first + i}",
            "score": score,
            "tier_key": scenario.tier_for(score).key,
            "balance": 1234,
            "debt": 0,
            "joined_at": T0,
            "recent_digests": [],
            "lookups_count": 0,
        }
        for i, score in enumerate(scores)
    ]
    counts: dict[int, int] = {}
    for score in scores:
        counts[score] = counts.get(score, 0) + 1
    async with engine.begin() as connection:
        await connection.execute(sa.insert(Citizen.__table__), rows)
        for score, n in counts.items():
            updated = await connection.execute(
                sa.update(ScoreCount.__table__)
                .where(ScoreCount.__table__.c.season_id == season_id, ScoreCount.__table__.c.score == score)
                .values(citizens=ScoreCount.__table__.c.citizens + n)
            )
            if updated.rowcount == 0:
                await connection.execute(
                    sa.insert(ScoreCount.__table__).values(season_id=season_id, score=score, citizens=n)
                )
        await connection.execute(
            sa.text("UPDATE season SET next_citizen_number = :n WHERE id = :id"),
            {"n": first + len(scores), "id": season_id},
        )


def web_config(**changes: object) -> WebConfig:
    settings: dict[str, object] = {
        "secret": SECRET,
        "rate": 10_000.0,
        "rate_period": 1.0,
        "cache_seconds": 1.0,
    }
    settings.update(changes)
    return WebConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
def make_site(engine: AsyncEngine) -> Callable[..., object]:
    clients: list[TestClient] = []  # type: ignore[type-arg]

    async def make(config: WebConfig | None = None, clock: TestClock | None = None) -> Site:
        clock = clock or TestClock(T0)
        app = create_app(engine, config or web_config(), clock=clock)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return Site(client=client, engine=engine, clock=clock)

    make.clients = clients  # type: ignore[attr-defined]
    return make


@pytest.fixture
async def site(make_site: Callable[..., object]) -> AsyncIterator[Site]:
    made = await make_site()  # type: ignore[misc]
    yield made
    await made.client.close()
