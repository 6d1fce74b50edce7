"""A visitor's data on request: which conversations are theirs, and how the audit log
names them without keeping their address.

A visitor is named by the e-mail address they gave (compared case-insensitively, after
the normalisation `fields.clean_email` applies when it is stored). `_theirs` is the one
clause that says which conversations that is: another way of naming a visitor (a verified
identity) joins it there, as one more alternative.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import ColumnElement, func, select

from devtone.domain import fields
from devtone.domain.models import Conversation
from devtone.extensions import db


@dataclass(frozen=True)
class Subject:
    """Whose data is asked for: the visitor's e-mail address, normalised."""

    email: str

    @property
    def audit_target(self) -> str:
        """What the audit log says the act was about: a keyed hash of the address, never
        the address itself (an erasure must not leave it in the log). Whoever holds the
        server's secret and the address can compute it again to find the entries."""
        key = current_app.config["SECRET_KEY"]
        key = key.encode() if isinstance(key, str) else key
        digest = hmac.new(key, f"devtone.visitor:{self.email.lower()}".encode(), hashlib.sha256)
        return f"visitor:{digest.hexdigest()[:32]}"


def subject(email: object) -> Subject:
    """The visitor a request names (Invalid naming `email` when it names none)."""
    return Subject(fields.clean_email(email, required=True))


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
    # lower() on both sides, so the engine folds both alike (SQLite folds ASCII only: an
    # address that differs in the case of a non-ASCII letter is missed there).
    return func.lower(Conversation.visitor_email) == func.lower(who.email)
