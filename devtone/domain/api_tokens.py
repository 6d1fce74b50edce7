"""API tokens: credentials an admin makes for an integration or a bot, scoped, revocable.

A token is `dtk_` + 43 random URL-safe characters: the prefix tells it apart from a
visitor's token in the same `Authorization: Bearer` header. Only its sha256 is stored.
Every call looks the token up in the database (one indexed row, no cache), so a revoked
token is refused at once by every process of every host.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update

from devtone.domain import audit, fields
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import ApiToken, isoformat, utcnow
from devtone.errors import Forbidden, Invalid, NotFound, Unauthorized
from devtone.extensions import db

PREFIX = "dtk_"
#: The prefix and `secrets.token_urlsafe(32)` (43 characters).
TOKEN_LENGTH = len(PREFIX) + 43
#: What a token may do; web/token_scopes.py says which endpoints each scope opens.
SCOPES = ("conversations:read", "messages:write", "agents:manage")
#: Characters of the token shown in the list: the prefix and 6 of its 256 random bits.
SHOWN = len(PREFIX) + 6
#: `last_used_at` moves at most this often: a busy integration must not write a row per call.
LAST_USED_EVERY = timedelta(seconds=60)

_TOKEN_SHAPE = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class TokenIdentity:
    """A caller authenticated by an API token: it acts for the team within its scopes."""

    id: int
    name: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        """Raise Forbidden unless the token has `scope`."""
        if scope not in self.scopes:
            raise Forbidden(
                "This API token lacks the {scope} scope.", code="missing_scope", scope=scope
            )

    @property
    def actor(self) -> audit.Actor:
        """The token as the audit log names it (by id and name, never the secret)."""
        return audit.Actor("token", self.id, self.name)


def is_api_token(credential: str) -> bool:
    """Whether a bearer credential claims to be an API token (rather than a visitor's).

    By its whole length too: a visitor's token is 43 random characters, and one in 16.7
    million of those starts with the prefix; an API token is the prefix and 43 more."""
    return len(credential) == TOKEN_LENGTH and credential.startswith(PREFIX)


def on_team_side(caller: object) -> bool:
    """Whether `caller` reads and writes as the team (an agent, or an API token): it sees
    what agents see (notes, labels), and its messages are replies to the visitor."""
    return isinstance(caller, AgentIdentity | TokenIdentity)


def hash_token(token: str) -> str:
    """The stored form of a token (random, so a plain sha256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(by: AgentIdentity, name: object, scopes: object) -> tuple[dict[str, Any], str]:
    """Make a token (admins only); return its JSON and the token itself, shown this once."""
    _require_admin(by)
    name = _clean_name(name)
    scopes = _clean_scopes(scopes)
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        scopes=json.dumps(scopes),
        token_hash=hash_token(token),
        prefix=token[:SHOWN],
        created_by=by.id,
        created_at=utcnow(),
    )
    try:
        db.session.add(row)
        db.session.flush()
        audit.add(_admin(by), "token.create", f"token:{row.id}", {"name": name, "scopes": scopes})
        db.session.commit()
        return token_json(row), token
    finally:
        db.session.close()


def list_tokens() -> list[dict[str, Any]]:
    """Every token, newest first, revoked ones too (without their secret: it is not kept)."""
    try:
        rows = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc()))
        return [token_json(row) for row in rows]
    finally:
        db.session.close()


def revoke_token(by: AgentIdentity, token_id: int) -> dict[str, Any]:
    """Revoke a token (admins only): every call with it is refused from now on. Revoking a
    revoked token changes nothing."""
    _require_admin(by)
    try:
        row = db.session.get(ApiToken, token_id)
        if row is None:
            raise NotFound("No such API token.")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.add(_admin(by), "token.revoke", f"token:{row.id}", {"name": row.name})
            db.session.commit()
        return token_json(row)
    finally:
        db.session.close()


_BY_HASH = select(ApiToken.id, ApiToken.name, ApiToken.scopes, ApiToken.last_used_at).where(
    ApiToken.token_hash == bindparam("hash"), ApiToken.revoked_at.is_(None)
)


def authenticate(token: str) -> TokenIdentity:
    """The token's identity; Unauthorized if it is malformed, unknown or revoked.

    Notes the use in `last_used_at` when the last note is a minute old or more: the
    guarded UPDATE lets one call per minute write, whichever process makes it.
    """
    if not _TOKEN_SHAPE.fullmatch(token):
        raise Unauthorized("The API token is malformed.", code="invalid_token")
    try:
        row = db.session.execute(_BY_HASH, {"hash": hash_token(token)}).first()
        if row is None:
            raise Unauthorized("The API token is unknown or revoked.", code="invalid_token")
        now = utcnow()
        if row.last_used_at is None or row.last_used_at <= now - LAST_USED_EVERY:
            db.session.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == row.id,
                    or_(
                        ApiToken.last_used_at.is_(None),
                        ApiToken.last_used_at <= now - LAST_USED_EVERY,
                    ),
                )
                .values(last_used_at=now)
            )
            db.session.commit()
        return TokenIdentity(row.id, row.name, frozenset(json.loads(row.scopes)))
    finally:
        db.session.close()


def still_valid(token_id: int) -> bool:
    """Whether the token is not revoked: an open stream checks at each heartbeat."""
    try:
        revoked = db.session.scalar(
            select(ApiToken.revoked_at.is_(None)).where(ApiToken.id == token_id)
        )
        return bool(revoked)
    finally:
        db.session.close()


def token_json(row: ApiToken) -> dict[str, Any]:
    """A token as the list shows it: never the token, which is not kept."""
    return {
        "id": row.id,
        "name": row.name,
        "scopes": json.loads(row.scopes),
        "prefix": row.prefix,
        "created_at": isoformat(row.created_at),
        "created_by": row.created_by,
        "last_used_at": isoformat(row.last_used_at),
        "revoked_at": isoformat(row.revoked_at),
    }


def _require_admin(by: AgentIdentity) -> None:
    if not by.is_admin:
        raise Forbidden("Only an administrator can manage API tokens.", code="admins_only")


def _admin(by: AgentIdentity) -> audit.Actor:
    return audit.Actor("agent", by.id, by.name)


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or fields.is_blank(name):
        raise Invalid("Give the token a name.", field="name", code="blank")
    return fields.clean_name(name)


def _clean_scopes(scopes: object) -> list[str]:
    if not isinstance(scopes, list) or not scopes:
        raise Invalid("Choose at least one scope.", field="scopes", code="blank")
    unknown = [s for s in scopes if not isinstance(s, str) or s not in SCOPES]
    if unknown:
        raise Invalid(
            "scopes must be some of {allowed}.",
            field="scopes",
            code="unknown_scope",
            allowed=", ".join(SCOPES),
        )
    return sorted(set(scopes))
