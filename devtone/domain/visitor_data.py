"""A visitor's data on request: which conversations are theirs, and how the audit log
names them without keeping their address.

A visitor is named by the e-mail address they gave (compared case-insensitively, after
the normalisation `fields.clean_email` applies when it is stored), or by the id the site
signed for them (identities.py; compared exactly, as the site signs it), and either way
by the other too where they gave both in one conversation. `_theirs` is the one clause
that says which conversations that is.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import ColumnElement, func, or_, select

from devtone.domain import fields, identities
from devtone.domain.models import Conversation
from devtone.errors import Invalid
from devtone.extensions import db


@dataclass(frozen=True)
class Subject:
    """Whose data is asked for: the visitor's e-mail address (normalised), or the id the
    site signed for them (exactly one of the two)."""

    email: str | None = None
    identity: str | None = None

    @property
    def audit_target(self) -> str:
        """What the audit log says the act was about: a keyed hash of the address or id,
        never the thing itself (an erasure must not leave it in the log). Whoever holds
        the server's secret and the address can compute it again to find the entries."""
        key = current_app.config["SECRET_KEY"]
        key = key.encode() if isinstance(key, str) else key
        # The address as it always was (entries written before ids could name a visitor
        # still match); an id under its own prefix, so an id never collides with one.
        named = self.email.lower() if self.email is not None else f"identity:{self.identity}"
        digest = hmac.new(key, f"devtone.visitor:{named}".encode(), hashlib.sha256)
        return f"visitor:{digest.hexdigest()[:32]}"

    def as_json(self) -> dict[str, str]:
        """How an export names its visitor."""
        return {"email": self.email} if self.email is not None else {"identity": self.identity}


def subject(email: object = None, identity: object = None) -> Subject:
    """The visitor a request names, by `email` or by `identity` (Invalid when it names
    none, or both: one request is about one visitor)."""
    if (email is None) == (identity is None):
        raise Invalid(
            "Name the visitor by their e-mail address or by their identity, one of the two.",
            field="email",
            code="required",
        )
    if identity is not None:
        return Subject(identity=identities.clean_id(identity, field="identity"))
    return Subject(email=fields.clean_email(email, required=True))


def conversation_ids(who: Subject) -> list[int]:
    """The ids of the visitor's conversations not erased yet, oldest first."""
    try:
        return list(
            db.session.scalars(
                select(Conversation.id)
                .where(_theirs(who), Conversation.erased_at.is_(None))
                .order_by(Conversation.id)
            )
        )
    finally:
        db.session.close()


def _theirs(who: Subject) -> ColumnElement[bool]:
    """The visitor's conversations: those of the address or id asked for, and those of any
    id or address the same visitor gave in one of them (a signed visitor may have given
    their address in one conversation and not in another: both are theirs)."""
    # lower() on both sides, so the engine folds both alike (SQLite folds ASCII only: an
    # address that differs in the case of a non-ASCII letter is missed there).
    email = func.lower(Conversation.visitor_email)
    if who.identity is not None:
        named = Conversation.visitor_identity == who.identity
        also = email.in_(select(email).where(named, Conversation.visitor_email.is_not(None)))
    else:
        named = email == func.lower(who.email)
        also = Conversation.visitor_identity.in_(
            select(Conversation.visitor_identity).where(
                named, Conversation.visitor_identity.is_not(None)
            )
        )
    return or_(named, also)
