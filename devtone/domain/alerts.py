"""Alerts: how the dashboard gets an agent's attention when a visitor writes.

Each agent chooses which alerts they get (a sound, a desktop notification, the badge on
the tab's title and favicon) and may turn on quiet mode (no sound and no notification,
the badge still counts). Kept per agent in the database, so the choice follows the agent
to every browser they sign in on; an agent who never chose has every alert on.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError

from devtone.domain import fields
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import AgentAlerts, utcnow
from devtone.errors import Invalid
from devtone.extensions import db

#: Every setting and its value for an agent who never chose.
DEFAULTS: dict[str, bool] = {"sound": True, "desktop": True, "badge": True, "quiet": False}


def alert_settings(agent: AgentIdentity) -> dict[str, bool]:
    """The agent's alert settings: {sound, desktop, badge, quiet}."""
    try:
        row = db.session.get(AgentAlerts, agent.id)
        return _settings_of(row)
    finally:
        db.session.close()


def change_alert_settings(agent: AgentIdentity, changes: Mapping[str, object]) -> dict[str, bool]:
    """Change some of the agent's alert settings (the others stay); return them all.
    Invalid, and nothing changes, when a name is unknown, a value is not a boolean, or
    there is nothing to change."""
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise Invalid("{field} is not an alert setting.", field=unknown[0], code="unknown_field")
    if not changes:
        raise Invalid("Give at least one alert setting.", field="quiet", code="required")
    cleaned = {name: fields.clean_flag(value, name) for name, value in changes.items()}
    try:
        return _store(agent.id, cleaned)
    except IntegrityError:
        # Two first changes at once (two tabs): the other made the row; change it now.
        return _store(agent.id, cleaned)


def _store(agent_id: int, cleaned: dict[str, bool]) -> dict[str, bool]:
    try:
        row = db.session.get(AgentAlerts, agent_id, with_for_update=True)
        if row is None:
            row = AgentAlerts(agent_id=agent_id, **DEFAULTS)
            db.session.add(row)
        for name, value in cleaned.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        db.session.commit()
        return _settings_of(row)
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.close()


def _settings_of(row: AgentAlerts | None) -> dict[str, bool]:
    if row is None:
        return dict(DEFAULTS)
    return {name: bool(getattr(row, name)) for name in DEFAULTS}
