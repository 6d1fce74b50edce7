"""Agents: who may answer from the dashboard, how they sign in, and who manages them.

Callers get an `AgentIdentity`, an immutable copy of the row: it outlives the session
that read it, which an ORM object would not (every domain call closes its session).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import gevent
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from devtone.domain import fields
from devtone.domain.models import ROLES, Agent, isoformat, utcnow
from devtone.errors import Conflict, Forbidden, Invalid, NotFound
from devtone.extensions import db

PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # scrypt of a megabyte is a denial of service, not a password


def _off_the_loop(work: Any, *args: Any) -> Any:
    """Run `work` (scrypt: tens of milliseconds of CPU on purpose) in gevent's threadpool
    when called from a greenlet, so every other request and stream of the worker goes on
    meanwhile; OpenSSL's scrypt releases the GIL. Called outside a greenlet (the CLI, a
    test's thread), it just runs."""
    if isinstance(gevent.getcurrent(), gevent.Greenlet):
        return gevent.get_hub().threadpool.apply(work, args)
    return work(*args)


def _hash_password(secret: str) -> str:
    return _off_the_loop(generate_password_hash, secret)


def _password_matches(stored: str, given: str) -> bool:
    return _off_the_loop(check_password_hash, stored, given)


@cache
def _dummy_hash() -> str:
    """Checked against when the e-mail is unknown, so a wrong address costs the same time
    as a wrong password and sign-in does not reveal who has an account (made on first use,
    not at import: scrypt is slow on purpose)."""
    return _hash_password("devtone: no such agent")


@dataclass(frozen=True)
class AgentIdentity:
    """A signed-in agent, as Flask-Login and the domain see them."""

    id: int
    email: str
    name: str
    role: str

    # Flask-Login's user protocol: only active agents are ever loaded.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    @property
    def is_admin(self) -> bool:
        """Whether this agent may manage agents and assign to others."""
        return self.role == "admin"

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session cookie."""
        return str(self.id)


def create_agent(
    email: object, name: object, password: object, role: str = "agent"
) -> dict[str, Any]:
    """Add an agent; the e-mail address must not be taken."""
    address = fields.clean_email(email, required=True)
    display_name = fields.clean_name(name)
    secret = _clean_password(password)
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}.", field="role")
    agent = Agent(
        email=address.lower(),
        name=display_name,
        password_hash=_hash_password(secret),
        role=role,
        active=True,
        created_at=utcnow(),
    )
    try:
        db.session.add(agent)
        db.session.commit()
        return agent_json(agent)
    except IntegrityError:
        db.session.rollback()
        raise Conflict("An agent with this e-mail address exists.", code="email_taken") from None
    finally:
        db.session.close()


def authenticate(email: object, password: object) -> AgentIdentity | None:
    """The active agent with these credentials, or None (never says which part was wrong)."""
    if not isinstance(email, str) or not isinstance(password, str) or len(password) > PASSWORD_MAX:
        return None
    if not fields.is_storable(email):
        return None  # no stored address has a NUL, and PostgreSQL refuses to compare one
    try:
        agent = db.session.scalar(
            select(Agent).where(func.lower(Agent.email) == email.strip().lower())
        )
        found = _identity(agent) if agent is not None and agent.active else None
        stored = agent.password_hash if agent is not None else _dummy_hash()
    finally:
        db.session.close()  # no pooled connection waits on scrypt
    if not _password_matches(stored, password):
        return None
    return found


def load_agent(agent_id: str) -> AgentIdentity | None:
    """The active agent with this id (Flask-Login's user loader); None signs them out."""
    if not agent_id.isdigit():
        return None
    try:
        agent = db.session.get(Agent, int(agent_id))
        return _identity(agent) if agent is not None and agent.active else None
    finally:
        db.session.close()


def list_agents() -> list[dict[str, Any]]:
    """Every agent, active ones first, by name."""
    try:
        rows = db.session.scalars(select(Agent).order_by(Agent.active.desc(), Agent.name)).all()
        return [agent_json(agent) for agent in rows]
    finally:
        db.session.close()


def set_active(agent_id: int, active: bool, by: AgentIdentity) -> dict[str, Any]:
    """Deactivate (or reactivate) an agent; admins only, and never themselves."""
    if not by.is_admin:
        raise Forbidden("Only an administrator can change agents.")
    if agent_id == by.id and not active:
        raise Conflict("You cannot deactivate yourself.", code="self_deactivation")
    try:
        agent = db.session.get(Agent, agent_id)
        if agent is None:
            raise NotFound("No such agent.")
        agent.active = active
        db.session.commit()
        return agent_json(agent)
    finally:
        db.session.close()


def agent_json(agent: Agent) -> dict[str, Any]:
    """An agent's public shape (never the password hash)."""
    return {
        "id": agent.id,
        "email": agent.email,
        "name": agent.name,
        "role": agent.role,
        "active": agent.active,
        "created_at": isoformat(agent.created_at),
    }


def _identity(agent: Agent) -> AgentIdentity:
    return AgentIdentity(id=agent.id, email=agent.email, name=agent.name, role=agent.role)


def _clean_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise Invalid(
            f"The password needs at least {PASSWORD_MIN} characters.",
            field="password",
            code="too_short",
        )
    if len(password) > PASSWORD_MAX:
        raise Invalid("The password is too long.", field="password", code="too_long")
    return password
