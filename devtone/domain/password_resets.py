"""One-time links that let an agent set a new password.

An administrator issues one on /dashboard/agents (to copy, or to e-mail), or an agent
asks for one by e-mail from the sign-in page. A link's token is random and kept only as
its digest; it works once, for the lifetime the caller gives (DEVTONE_RESET_LINK_LIFETIME),
and only while it is the agent's newest. Using it sets the password and ends every session
of the agent in the same transaction (whoever signed in with the old password is out),
then opens a session for the holder.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, func, select, update

from devtone.domain import agents, fields
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import Agent, AgentSession, PasswordReset, utcnow
from devtone.domain.visitors import hash_token
from devtone.errors import Conflict, Forbidden, NotFound
from devtone.extensions import db

_TOKEN_MAX = 128  # token_urlsafe(32) is 43 characters; anything far longer is no token


@dataclass(frozen=True)
class ResetLink:
    """A link just issued: its token (shown or sent once, stored nowhere) and for whom."""

    token: str
    agent: AgentIdentity
    expires_at: datetime


def issue_reset_link(agent_id: int, by: AgentIdentity, lifetime: timedelta) -> ResetLink:
    """A new link for an agent, voiding their older ones: administrators only (for
    themselves too). NotFound for no such agent, Conflict for a deactivated one."""
    if not by.is_admin:
        raise Forbidden("Only an administrator can issue reset links.", code="admins_only")
    try:
        agent = db.session.get(Agent, agent_id)
        if agent is None:
            raise NotFound("No such agent.")
        if not agent.active:
            raise Conflict(
                "{name} is deactivated: reactivate them first.",
                code="agent_inactive",
                name=agent.name,
            )
        return _issue(agent, lifetime)
    finally:
        db.session.close()


def issue_reset_link_for(email: object, lifetime: timedelta) -> ResetLink | None:
    """A new link for the active agent with this e-mail address, or None (the forgotten-
    password form then answers just the same)."""
    if not isinstance(email, str) or not fields.is_storable(email):
        return None  # no stored address has a NUL, and PostgreSQL refuses to compare one
    try:
        agent = db.session.scalar(
            select(Agent).where(func.lower(Agent.email) == email.strip().lower())
        )
        if agent is None or not agent.active:
            return None
        return _issue(agent, lifetime)
    finally:
        db.session.close()


def link_holder(token: str) -> AgentIdentity:
    """The agent this link resets. NotFound when it is unknown, used, replaced by a newer
    one or expired; Conflict when the agent is deactivated."""
    try:
        _, agent = _usable(token)
        return agents.identity_of(agent)
    finally:
        db.session.close()


def reset_password(token: str, password: object, user_agent: str = "") -> AgentIdentity:
    """Set the agent's password through a link: the link is used up, the agent's other
    links are voided and every session of theirs ends; returns the agent in a new session
    for the holder. Raises as `link_holder` does, or Invalid for a password against the
    rules of `agents.clean_password` (the link then still works)."""
    try:
        link, agent = _usable(token)
        link_id, holder = link.id, agents.identity_of(agent)
    finally:
        db.session.close()  # no pooled connection waits on scrypt
    password_hash = agents.hash_password(agents.clean_password(password))
    now = utcnow()
    try:
        # The WHERE makes the link single use even when two requests race with it.
        claimed = db.session.execute(
            update(PasswordReset)
            .where(
                PasswordReset.id == link_id,
                PasswordReset.used_at.is_(None),
                PasswordReset.voided_at.is_(None),
            )
            .values(used_at=now)
        ).rowcount
        if not claimed:
            raise NotFound("This reset link has been used already.", code="reset_link_used")
        changed = db.session.execute(
            update(Agent)
            .where(Agent.id == holder.id, Agent.active.is_(True))
            .values(password_hash=password_hash)
        ).rowcount
        if not changed:  # deactivated a moment ago
            raise Conflict("This agent is deactivated.", code="agent_inactive")
        db.session.execute(_voiding(PasswordReset.agent_id == holder.id, now))
        db.session.execute(agents.ending_sessions(AgentSession.agent_id == holder.id))
        db.session.commit()
    finally:
        db.session.close()  # and a refusal above rolls everything back
    return agents.start_session(holder, user_agent)


def _issue(agent: Agent, lifetime: timedelta) -> ResetLink:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    holder = agents.identity_of(agent)
    db.session.execute(_voiding(PasswordReset.agent_id == agent.id, now))
    db.session.add(
        PasswordReset(
            agent_id=agent.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    db.session.commit()
    return ResetLink(token=token, agent=holder, expires_at=now + lifetime)


def _usable(token: str) -> tuple[PasswordReset, Agent]:
    found = None
    if isinstance(token, str) and 0 < len(token) <= _TOKEN_MAX and fields.is_storable(token):
        found = db.session.execute(
            select(PasswordReset, Agent)
            .join(Agent, Agent.id == PasswordReset.agent_id)
            .where(PasswordReset.token_hash == hash_token(token))
        ).first()
    if found is None:
        raise NotFound("This reset link is not valid.", code="reset_link_unknown")
    link, agent = found
    if link.used_at is not None:
        raise NotFound("This reset link has been used already.", code="reset_link_used")
    if link.voided_at is not None:
        raise NotFound("A newer reset link replaced this one.", code="reset_link_replaced")
    if link.expires_at <= utcnow():
        raise NotFound("This reset link has expired.", code="reset_link_expired")
    if not agent.active:
        raise Conflict("This agent is deactivated.", code="agent_inactive")
    return link, agent


def _voiding(which: Any, now: datetime) -> Update:
    return (
        update(PasswordReset)
        .where(which, PasswordReset.used_at.is_(None), PasswordReset.voided_at.is_(None))
        .values(voided_at=now)
    )
