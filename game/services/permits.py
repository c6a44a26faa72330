"""Permits to speak on a topic that needs one (``politics``): request, decide, expire, list.

A request queues a ``PERMIT_REQUEST`` outbox row (the bot posts it with Approve / Deny buttons in the
moderators' channel). A decision is one conditional UPDATE on a pending request, so two moderators
clicking at once get one decision and one ``Conflict``. A permit is active while approved and
``now < expires_at``; :func:`expire_permits` only tidies the status of those past their time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from game.errors import Conflict, ErrorCode, InvalidInput, NotAllowed, NotFound
from game.inputs import clean_reason
from game.models import Citizen, Permit, RequestStatus, Season, SeasonStatus
from game.payloads import PermitRequest
from game.rules.durations import MAXIMUM_DURATION
from game.scenario import Scenario
from game.services.decrees import scenario_in_force
from game.services.lookup import hold_citizens, require_citizen_row, require_live_season_row, scenario_of
from game.services.outbox import outbox_row

__all__ = [
    "MAX_PERMIT_REASON",
    "PermitView",
    "active_permits",
    "approve_permit",
    "deny_permit",
    "expire_permits",
    "get_permit",
    "pending_permits",
    "permits_of",
    "request_permit",
    "require_running",
]

MAX_PERMIT_REASON = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class PermitView:
    id: int
    season_id: int
    citizen_id: int
    user_id: int
    citizen_number: int
    display_name: str
    topic: str
    topic_name: str
    reason: str
    status: RequestStatus
    requested_at: datetime
    decided_at: datetime | None
    decided_by: int | None
    expires_at: datetime | None

    def is_active(self, now: datetime) -> bool:
        return self.status is RequestStatus.APPROVED and self.expires_at is not None and now < self.expires_at

    def as_request(self) -> PermitRequest:
        """The request as the moderators' card shows it (the outbox payload's shape)."""
        return PermitRequest(
            permit_id=self.id,
            season_id=self.season_id,
            user_id=self.user_id,
            citizen_number=self.citizen_number,
            display_name=self.display_name,
            topic=self.topic,
            topic_name=self.topic_name,
            reason=self.reason,
        )


def require_running(season: Season, *, action: str) -> None:
    """``NotAllowed`` while the season is paused: citizens wait for the Bureau to resume it.

    ``action`` names what waits: ``join``, ``shop``, ``befriend``, ``permit``, ``appeal``.
    """
    if season.status == SeasonStatus.PAUSED:
        raise NotAllowed(ErrorCode.SEASON_PAUSED, action=action)


def _topic_names(scenario: Scenario) -> dict[str, str]:
    return {topic.key: topic.name for topic in scenario.speech.permit_required}


def _view(permit: Permit, citizen: Citizen, names: dict[str, str]) -> PermitView:
    assert permit.id is not None
    return PermitView(
        id=permit.id,
        season_id=permit.season_id,
        citizen_id=permit.citizen_id,
        user_id=citizen.user_id,
        citizen_number=citizen.number,
        display_name=citizen.display_name,
        topic=permit.topic,
        topic_name=names.get(permit.topic, permit.topic),
        reason=permit.reason,
        status=RequestStatus(permit.status),
        requested_at=permit.requested_at,
        decided_at=permit.decided_at,
        decided_by=permit.decided_by,
        expires_at=permit.expires_at,
    )


def _resolve_topic(scenario: Scenario, topic: str) -> str:
    wanted = topic.strip().lower()
    for rule in scenario.speech.permit_required:
        if wanted in (rule.key, rule.name.lower()):
            return rule.key
    keys = tuple(rule.key for rule in scenario.speech.permit_required)
    if not keys:
        raise InvalidInput(ErrorCode.NO_PERMIT_TOPICS)
    raise InvalidInput(ErrorCode.NOT_A_PERMIT_TOPIC, topic=topic.strip(), choices=keys)


async def request_permit(
    session: AsyncSession, *, guild_id: int, user_id: int, topic: str, reason: str, now: datetime
) -> PermitView:
    """Ask the Bureau for a permit on a permit topic (its key or name), with a reason."""
    season = await require_live_season_row(session, guild_id=guild_id)
    require_running(season, action="permit")
    assert season.id is not None
    citizen = await require_citizen_row(session, season_id=season.id, user_id=user_id)
    assert citizen.id is not None
    # The lock order: two requests sent at once cannot both pass the "already pending" check.
    await hold_citizens(session, season_id=season.id, citizen_ids=(citizen.id,))
    # The permit topics in force: a decree may have added one.
    scenario = await scenario_in_force(session, season, noted=False)
    key = _resolve_topic(scenario, topic)
    text = clean_reason(reason, purpose="permit", limit=MAX_PERMIT_REASON)
    mine = (
        await session.exec(
            select(Permit).where(
                Permit.citizen_id == citizen.id,
                Permit.topic == key,
                col(Permit.status).in_([RequestStatus.PENDING, RequestStatus.APPROVED]),
            )
        )
    ).all()
    names = _topic_names(scenario)
    for permit in mine:
        if permit.status == RequestStatus.PENDING:
            raise Conflict(ErrorCode.PERMIT_PENDING, topic_name=names[key])
        if permit.expires_at is not None and now < permit.expires_at:
            raise Conflict(ErrorCode.PERMIT_HELD, topic_name=names[key], until=permit.expires_at)
    permit = Permit(season_id=season.id, citizen_id=citizen.id, topic=key, reason=text, requested_at=now)
    session.add(permit)
    await session.flush()
    assert permit.id is not None
    session.add(
        outbox_row(
            guild_id=guild_id,
            season_id=season.id,
            payload=PermitRequest(
                permit_id=permit.id,
                season_id=season.id,
                user_id=citizen.user_id,
                citizen_number=citizen.number,
                display_name=citizen.display_name,
                topic=key,
                topic_name=names[key],
                reason=text,
            ),
            now=now,
        )
    )
    await session.flush()
    return _view(permit, citizen, names)


async def _permit_in_guild(
    session: AsyncSession, guild_id: int, permit_id: int
) -> tuple[Permit, Citizen, Season]:
    row = (
        await session.exec(
            select(Permit, Citizen, Season)
            .join(Citizen, col(Citizen.id) == Permit.citizen_id)
            .join(Season, col(Season.id) == Permit.season_id)
            .where(Permit.id == permit_id, Season.guild_id == guild_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise NotFound(ErrorCode.PERMIT_NOT_FOUND)
    return row


async def get_permit(session: AsyncSession, *, guild_id: int, permit_id: int) -> PermitView:
    permit, citizen, season = await _permit_in_guild(session, guild_id, permit_id)
    return _view(permit, citizen, _topic_names(scenario_of(season)))


async def _decide(
    session: AsyncSession,
    *,
    guild_id: int,
    permit_id: int,
    moderator_id: int,
    now: datetime,
    status: RequestStatus,
    expires_at: datetime | None,
) -> PermitView:
    permit, citizen, season = await _permit_in_guild(session, guild_id, permit_id)
    if season.status == SeasonStatus.ENDED:
        raise NotAllowed(ErrorCode.SEASON_ENDED, what="permits")
    assert season.id is not None
    assert citizen.id is not None
    await hold_citizens(session, season_id=season.id, citizen_ids=(citizen.id,))
    decided = await session.exec(
        sa.update(Permit)
        .where(col(Permit.id) == permit_id, col(Permit.status) == RequestStatus.PENDING)
        .values(status=status, decided_at=now, decided_by=moderator_id, expires_at=expires_at)
    )
    if not decided.rowcount:
        await session.refresh(permit)
        raise Conflict(ErrorCode.PERMIT_ALREADY_DECIDED, status=RequestStatus(permit.status))
    await session.refresh(permit)
    return _view(permit, citizen, _topic_names(scenario_of(season)))


async def approve_permit(
    session: AsyncSession,
    *,
    guild_id: int,
    permit_id: int,
    moderator_id: int,
    now: datetime,
    duration: timedelta | None = None,
) -> PermitView:
    """Grant a pending request for ``duration`` (the scenario's permit duration when ``None``)."""
    permit, _, season = await _permit_in_guild(session, guild_id, permit_id)
    length = scenario_of(season).permits.default_duration if duration is None else duration
    if length <= timedelta(0) or length > MAXIMUM_DURATION:
        raise InvalidInput(ErrorCode.PERMIT_DURATION_OUT_OF_RANGE, maximum=MAXIMUM_DURATION)
    return await _decide(
        session,
        guild_id=guild_id,
        permit_id=permit.id or permit_id,
        moderator_id=moderator_id,
        now=now,
        status=RequestStatus.APPROVED,
        expires_at=now + length,
    )


async def deny_permit(
    session: AsyncSession, *, guild_id: int, permit_id: int, moderator_id: int, now: datetime
) -> PermitView:
    """Refuse a pending request."""
    return await _decide(
        session,
        guild_id=guild_id,
        permit_id=permit_id,
        moderator_id=moderator_id,
        now=now,
        status=RequestStatus.DENIED,
        expires_at=None,
    )


async def expire_permits(session: AsyncSession, *, season_id: int, now: datetime) -> int:
    """Mark approved permits whose time is up as expired; returns how many."""
    result = await session.exec(
        sa.update(Permit)
        .where(
            col(Permit.season_id) == season_id,
            col(Permit.status) == RequestStatus.APPROVED,
            col(Permit.expires_at) <= now,
        )
        .values(status=RequestStatus.EXPIRED)
    )
    return int(result.rowcount or 0)


async def _views(session: AsyncSession, statement: Select[Permit, Citizen, Season]) -> tuple[PermitView, ...]:
    views: list[PermitView] = []
    names: dict[int, dict[str, str]] = {}
    for permit, citizen, season in (await session.exec(statement)).all():
        assert season.id is not None
        if season.id not in names:
            names[season.id] = _topic_names(scenario_of(season))
        views.append(_view(permit, citizen, names[season.id]))
    return tuple(views)


def _joined() -> Select[Permit, Citizen, Season]:
    return (
        select(Permit, Citizen, Season)
        .join(Citizen, col(Citizen.id) == Permit.citizen_id)
        .join(Season, col(Season.id) == Permit.season_id)
    )


async def active_permits(session: AsyncSession, *, citizen_id: int, now: datetime) -> tuple[PermitView, ...]:
    """The citizen's permits in force at ``now``, soonest to expire first."""
    return await _views(
        session,
        _joined()
        .where(
            col(Permit.citizen_id) == citizen_id,
            col(Permit.status) == RequestStatus.APPROVED,
            col(Permit.expires_at) > now,
        )
        .order_by(col(Permit.expires_at), col(Permit.id)),
    )


async def pending_permits(session: AsyncSession, *, guild_id: int, limit: int = 25) -> tuple[PermitView, ...]:
    """Requests of the guild's live season waiting for a decision, oldest first."""
    return await _views(
        session,
        _joined()
        .where(
            col(Season.guild_id) == guild_id,
            col(Season.status) != SeasonStatus.ENDED,
            col(Permit.status) == RequestStatus.PENDING,
        )
        .order_by(col(Permit.id))
        .limit(limit),
    )


async def permits_of(
    session: AsyncSession, *, guild_id: int, user_id: int, limit: int = 25
) -> tuple[PermitView, ...]:
    """The member's permit requests in the live season, newest first, whatever became of them."""
    return await _views(
        session,
        _joined()
        .where(
            col(Season.guild_id) == guild_id,
            col(Season.status) != SeasonStatus.ENDED,
            col(Citizen.user_id) == user_id,
        )
        .order_by(col(Permit.id).desc())
        .limit(limit),
    )
