"""Agents: who may answer from the dashboard, how they sign in, and who manages them.

Callers get an `AgentIdentity`, an immutable copy of the row: it outlives the session
that read it, which an ORM object would not (every domain call closes its session).
A signed-in browser holds a session kept here (`agent_sessions`): signing out ends it
for good, so a copied cookie stops working with it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import gevent
from sqlalchemy import Update, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from devtone.domain import fields
from devtone.domain.models import ROLES, Agent, AgentSession, isoformat, utcnow
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


def hash_password(secret: str) -> str:
    """The stored form of a password (scrypt, off the event loop); check it with
    `clean_password` first."""
    return _off_the_loop(generate_password_hash, secret)


def _password_matches(stored: str, given: str) -> bool:
    return _off_the_loop(check_password_hash, stored, given)


@cache
def _dummy_hash() -> str:
    """Checked against when the e-mail is unknown, so a wrong address costs the same time
    as a wrong password and sign-in does not reveal who has an account (made on first use,
    not at import: scrypt is slow on purpose)."""
    return hash_password("devtone: no such agent")


@dataclass(frozen=True)
class AgentIdentity:
    """A signed-in agent, as Flask-Login and the domain see them."""

    id: int
    email: str
    name: str
    role: str
    #: The token of the browser session this identity was loaded through (None for an
    #: identity made without signing in: the CLI, tests of the domain).
    session: str | None = None

    # Flask-Login's user protocol: only active agents are ever loaded.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    @property
    def is_admin(self) -> bool:
        """Whether this agent may manage agents and assign to others."""
        return self.role == "admin"

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: the session's token, never the
        agent's id, so ending the session signs that cookie out wherever it was copied."""
        return self.session or ""


def create_agent(
    email: object, name: object, password: object, role: str = "agent"
) -> dict[str, Any]:
    """Add an agent; the e-mail address must not be taken."""
    address = fields.clean_email(email, required=True)
    display_name = fields.clean_name(name)
    secret = clean_password(password)
    if role not in ROLES:
        raise Invalid("role must be one of {roles}.", field="role", roles=", ".join(ROLES))
    agent = Agent(
        email=address.lower(),
        name=display_name,
        password_hash=hash_password(secret),
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
        found = identity_of(agent) if agent is not None and agent.active else None
        stored = agent.password_hash if agent is not None else _dummy_hash()
    finally:
        db.session.close()  # no pooled connection waits on scrypt
    if not _password_matches(stored, password):
        return None
    return found


USER_AGENT_MAX = 200
_TOKEN_MAX = 128


def start_session(agent: AgentIdentity, user_agent: str = "") -> AgentIdentity:
    """Open a session for a signed-in browser; the identity returned carries its token."""
    token = secrets.token_urlsafe(32)
    try:
        db.session.add(
            AgentSession(
                agent_id=agent.id,
                token_hash=_digest(token),
                user_agent=(user_agent or "")[:USER_AGENT_MAX],
                created_at=utcnow(),
            )
        )
        db.session.commit()
    finally:
        db.session.close()
    return replace(agent, session=token)


def sign_in(email: object, password: object, user_agent: str = "") -> AgentIdentity | None:
    """The active agent with these credentials, in a new session; None otherwise."""
    agent = authenticate(email, password)
    return None if agent is None else start_session(agent, user_agent)


def load_agent(token: str) -> AgentIdentity | None:
    """The active agent of this open session (Flask-Login's user loader, and each agent
    stream's check at every heartbeat); None signs the browser out."""
    if not token or len(token) > _TOKEN_MAX:
        return None  # an agent id from before sessions, or nothing a session would be
    try:
        agent = db.session.scalar(
            select(Agent)
            .join(AgentSession, AgentSession.agent_id == Agent.id)
            .where(AgentSession.token_hash == _digest(token), AgentSession.ended_at.is_(None))
        )
        if agent is None or not agent.active:
            return None
        return replace(identity_of(agent), session=token)
    finally:
        db.session.close()


def end_session(agent: AgentIdentity) -> None:
    """Sign this browser out for good: its cookie opens nothing from now on. The agent
    shows offline at once (a dashboard still open elsewhere says otherwise at its next
    beat)."""
    if agent.session:
        _end_sessions(
            AgentSession.token_hash == _digest(agent.session),
            update(Agent).where(Agent.id == agent.id).values(present_at=None),
        )


def end_every_session(agent_id: int, by: AgentIdentity) -> int:
    """Sign an agent out in every browser (their own, or any agent's for an admin);
    their open streams end at the next heartbeat. Returns how many sessions ended."""
    if agent_id != by.id and not by.is_admin:
        raise Forbidden("Only an administrator can sign another agent out.", code="admins_only")
    if db.session.get(Agent, agent_id) is None:
        db.session.close()
        raise NotFound("No such agent.")
    return _end_sessions(AgentSession.agent_id == agent_id)


def open_sessions(agent: AgentIdentity) -> list[dict[str, Any]]:
    """The agent's signed-in browsers, newest first; `current` marks this one."""
    mine = _digest(agent.session) if agent.session else None
    try:
        rows = db.session.scalars(
            select(AgentSession)
            .where(AgentSession.agent_id == agent.id, AgentSession.ended_at.is_(None))
            .order_by(AgentSession.created_at.desc(), AgentSession.id.desc())
        ).all()
        return [
            {
                "user_agent": row.user_agent,
                "created_at": isoformat(row.created_at),
                "current": row.token_hash == mine,
            }
            for row in rows
        ]
    finally:
        db.session.close()


def _end_sessions(which: Any, *also: Update) -> int:
    try:
        ended = db.session.execute(ending_sessions(which)).rowcount
        for statement in also:
            db.session.execute(statement)
        db.session.commit()
        return ended
    finally:
        db.session.close()


def ending_sessions(which: Any) -> Update:
    """The UPDATE that ends the open sessions `which` selects, for a caller's transaction."""
    return (
        update(AgentSession).where(which, AgentSession.ended_at.is_(None)).values(ended_at=utcnow())
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
        if not active:  # and they stay signed out if they are ever reactivated
            db.session.execute(ending_sessions(AgentSession.agent_id == agent_id))
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


def identity_of(agent: Agent) -> AgentIdentity:
    """The immutable copy of an agent's row that callers get."""
    return AgentIdentity(id=agent.id, email=agent.email, name=agent.name, role=agent.role)


def clean_password(password: object) -> str:
    """A password as every agent's must be: text of PASSWORD_MIN to PASSWORD_MAX
    characters; Invalid (field "password") otherwise."""
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise Invalid(
            "The password needs at least {count} characters.",
            field="password",
            code="too_short",
            count=PASSWORD_MIN,
        )
    if len(password) > PASSWORD_MAX:
        raise Invalid("The password is too long.", field="password", code="too_long")
    return password
