"""Visitor tokens: issue, hash, verify; who may read which conversation."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from devtone.domain.models import VisitorToken
from devtone.errors import NotFound, Unauthorized
from devtone.extensions import db

# 32 random bytes, URL-safe base64 without padding: what `secrets.token_urlsafe(32)` makes.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
#: The token hash of a conversation whose visitor's data was erased (erasure.py): no
#: sha256 hex digest equals it, so no token opens it, and no visitor-side caller at all.
ERASED_TOKEN_HASH = "erased"  # noqa: S105 - a marker, not a credential


@dataclass(frozen=True)
class Visitor:
    """A customer, known only by the bearer token of one conversation."""

    token: str

    def __post_init__(self) -> None:
        if not _TOKEN_SHAPE.fullmatch(self.token or ""):
            raise Unauthorized("The visitor token is malformed.", code="invalid_token")

    def __repr__(self) -> str:
        # Tokens are credentials: never let one reach a log through a repr.
        return "Visitor(token=…)"


@dataclass(frozen=True)
class MailedVisitor:
    """A conversation's visitor writing by e-mail: known by the signed reply address
    that named the conversation (mailed_replies.py checks it before making one), so they
    write as the visitor there without a token."""

    conversation_id: int


def issue_token() -> tuple[str, str]:
    """A new visitor token and the hash to store in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The stored form of a token (tokens are random, so a plain sha256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def may_access(visitor: Visitor, token_hash: str) -> bool:
    """Whether `visitor` holds the token of the conversation whose hash is `token_hash`."""
    return hmac.compare_digest(hash_token(visitor.token), token_hash)


def check_access(
    caller: object,
    conversation_id: int,
    token_hash: str,
    link_token_hash: str | None = None,
    database: Connection | Session | None = None,
) -> None:
    """Raise NotFound unless `caller` may read the conversation whose token hash is
    `token_hash`: every agent may, a visitor with that conversation's token, with the
    one its e-mailed link last gave a browser (`link_token_hash`), or with a token a
    verified visitor got on another browser (visitor_tokens, read on `database`, the
    session by default, only when the row's own hashes do not match). An erased
    conversation has no visitor any more: not one by token, link or e-mailed reply."""
    if token_hash == ERASED_TOKEN_HASH and isinstance(caller, Visitor | MailedVisitor):
        raise NotFound("No such conversation.")
    if not isinstance(caller, Visitor):
        return
    if may_access(caller, token_hash) or (link_token_hash and may_access(caller, link_token_hash)):
        return
    if holds_further_token(caller, conversation_id, database):
        return
    # The very answer a missing conversation gets: a 403 would tell whoever tries
    # made-up tokens which conversations exist.
    raise NotFound("No such conversation.")


# Built once: every request of a further browser runs it.
_FURTHER_TOKEN = select(VisitorToken.conversation_id).where(
    VisitorToken.token_hash == bindparam("token_hash")
)


def holds_further_token(
    visitor: Visitor, conversation_id: int, database: Connection | Session | None = None
) -> bool:
    """Whether `visitor`'s token is one a verified visitor got for the conversation on
    another browser (domain/identities.py)."""
    # Found by the hash (the table's key), so the lookup reveals nothing a guess of the
    # token would not; the conversation must be the one asked for.
    found = (
        (database or db.session)
        .execute(_FURTHER_TOKEN, {"token_hash": hash_token(visitor.token)})
        .scalar()
    )
    return found == conversation_id
