"""Whether agents are there: online, away or offline.

An open dashboard says so every BEAT_SECONDS (`beat`), and whether its agent did anything
in it since the last beat. From the two moments kept on the agent's row:
- offline: no dashboard of theirs said it is open within PRESENT_SECONDS;
- away: a dashboard is open, but they set "away" by hand, or did nothing in it for
  IDLE_SECONDS (idle);
- online: a dashboard is open and they were active in it within IDLE_SECONDS.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from devtone.domain import fields
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import Agent, utcnow
from devtone.errors import NotFound
from devtone.extensions import db

STATUSES = ("online", "away", "offline")
#: How often an open dashboard beats (the page's timer; a hidden tab's may be slower).
BEAT_SECONDS = 60
#: A dashboard that has not beaten for this long is closed (two beats may be late).
PRESENT_SECONDS = 3 * BEAT_SECONDS
#: No activity for this long: idle, shown as away.
IDLE_SECONDS = 5 * 60


def status_of(
    present_at: datetime | None, active_at: datetime | None, away: bool, now: datetime
) -> str:
    """ "online", "away" or "offline" for an agent's presence moments at `now`."""
    if present_at is None or now - present_at > timedelta(seconds=PRESENT_SECONDS):
        return "offline"
    if away or active_at is None or now - active_at > timedelta(seconds=IDLE_SECONDS):
        return "away"
    return "online"


def beat(agent: AgentIdentity, active: object, away: object = None) -> dict[str, Any]:
    """An open dashboard of `agent` says it is there (`active`: they did something since
    the last beat; `away`: set or cleared by hand, left out: unchanged). Returns the team's
    presence, as `team_presence`."""
    active = fields.clean_flag(active, "active")
    away = None if away is None else fields.clean_flag(away, "away")
    now = utcnow()
    try:
        row = db.session.get(Agent, agent.id)
        if row is None or not row.active:
            raise NotFound("No such agent.")
        row.present_at = now
        if active or away is False:  # coming back by hand is activity too
            row.active_at = now
        if away is not None:
            row.away = away
        db.session.commit()
        return _team(now)
    finally:
        db.session.close()


def team_presence(now: datetime | None = None) -> dict[str, Any]:
    """Every active agent with their status (online first, then away, then offline; by
    name), and how many are online."""
    try:
        return _team(now or utcnow())
    finally:
        db.session.close()


def agents_online(now: datetime | None = None) -> int:
    """How many agents are online at `now` (one count in SQL: every visitor page asks)."""
    now = now or utcnow()
    try:
        return db.session.scalar(
            select(func.count())
            .select_from(Agent)
            .where(
                Agent.active.is_(True),
                Agent.away.is_(False),
                Agent.present_at >= now - timedelta(seconds=PRESENT_SECONDS),
                Agent.active_at >= now - timedelta(seconds=IDLE_SECONDS),
            )
        )
    finally:
        db.session.close()


def _team(now: datetime) -> dict[str, Any]:
    rows = db.session.scalars(select(Agent).where(Agent.active.is_(True))).all()
    listed = [
        {
            "id": row.id,
            "name": row.name,
            "status": status_of(row.present_at, row.active_at, row.away, now),
            "away": row.away,
        }
        for row in rows
    ]
    listed.sort(key=lambda agent: (STATUSES.index(agent["status"]), agent["name"].lower()))
    return {
        "agents": listed,
        "online": sum(1 for agent in listed if agent["status"] == "online"),
    }
