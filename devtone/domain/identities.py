"""Signed visitor identity: a site tells devtone who its signed-in visitor is.

The site's server signs the visitor's id: `hash = hex HMAC-SHA256(secret, id)` with the
deployment's DEVTONE_IDENTITY_SECRET (docs/identity.md). A verified id is stored on the
conversation (`visitor_identity`) and links the visitor's browsers: another browser
identified with the same id is handed the open conversation with a token of its own
(visitor_tokens), so the history started on a laptop shows on a phone. An id without a
hash, or with no secret set, is ignored; a hash that does not sign the id (forged, or
another id's replayed) is refused and logged, and the conversation starts unlinked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from devtone.domain import conversations, fields, visitors
from devtone.domain.models import Conversation, VisitorToken
from devtone.errors import Forbidden, Invalid, NotFound
from devtone.extensions import db

log = logging.getLogger(__name__)

#: The longest id a site may send (the column's size).
ID_MAX = 255
#: A hash is 64 hex digits; anything much longer is no hash at all.
_HASH_MAX = 128
#: Earlier conversations handed to a browser at once (the chat keeps as many: EARLIER_MAX
#: in visitor-store.js), and the most ids a browser may say it holds already.
EARLIER_MAX = 10
KNOWN_MAX = 50
#: What became of a claimed identity: the answer says it, so a site sees a wrong hash.
VERIFIED, REFUSED, IGNORED = "verified", "refused", "ignored"


@dataclass(frozen=True)
class Claim:
    """What a browser said about who its visitor is, checked: the id (trusted only when
    `outcome` is VERIFIED) and what became of it."""

    visitor_id: str
    outcome: str

    @property
    def verified_id(self) -> str | None:
        """The id, if its hash signed it; never an unverified one."""
        return self.visitor_id if self.outcome == VERIFIED else None


@dataclass(frozen=True)
class Started:
    """A POST /api/conversations answered: the conversation, this browser's token, whether
    it is a verified visitor's open one (not a new one), and the claim's outcome."""

    conversation: dict[str, Any]
    token: str
    resumed: bool
    identity: str | None


def sign(secret: str, visitor_id: str) -> str:
    """The hash a site's server sends with `visitor_id`: hex HMAC-SHA256 of the id (UTF-8)
    keyed with the identity secret (UTF-8)."""
    return hmac.new(secret.encode(), visitor_id.encode(), hashlib.sha256).hexdigest()


def clean_id(visitor_id: object, field: str = "identity.id") -> str:
    """A site's visitor id as given, or Invalid naming `field`: text, not blank, at most
    ID_MAX characters, no control characters. Never trimmed: the hash signs it as it is."""
    if not isinstance(visitor_id, str) or fields.is_blank(visitor_id):
        raise Invalid("The identity's id must be text.", field=field, code="required")
    if len(visitor_id) > ID_MAX:
        raise Invalid(
            "The identity's id is longer than {count} characters.",
            field=field,
            code="too_long",
            count=ID_MAX,
        )
    if any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in visitor_id):
        raise Invalid(
            "The identity's id contains control characters.", field=field, code="invalid_text"
        )
    return visitor_id


def check_claim(identity: object, secret: str | None) -> Claim | None:
    """Read and verify `identity` (`{"id", "hash"}`, or None: no claim).

    Raises Invalid for a shape that is not one (not an object, an id that is not text,
    empty, longer than ID_MAX or with control characters, a hash that is not text).
    """
    if identity is None:
        return None
    if not isinstance(identity, dict):
        raise Invalid(
            "The identity must be an object with an id and a hash.",
            field="identity",
            code="invalid_identity",
        )
    visitor_id, given = clean_id(identity.get("id")), identity.get("hash")
    if given is not None and (not isinstance(given, str) or len(given) > _HASH_MAX):
        raise Invalid(
            "The identity's hash must be the hex HMAC-SHA256 of its id.",
            field="identity.hash",
            code="invalid_identity",
        )
    if not secret or not given:
        return Claim(visitor_id, IGNORED)  # never trusted without a signature to check
    expected = sign(secret, visitor_id).encode()
    if hmac.compare_digest(expected, given.strip().lower().encode()):
        return Claim(visitor_id, VERIFIED)
    # The id only (repr: no line breaks from it reach the log), never the hash or secret.
    log.warning("Visitor identity refused: the hash does not sign the id %r.", visitor_id)
    return Claim(visitor_id, REFUSED)


def start_conversation(
    name: object,
    email: object,
    language: str | None,
    identity: object = None,
    secret: str | None = None,
    resume: bool = True,
) -> Started:
    """Open a conversation as conversations.start_conversation does, for a visitor who may
    say who they are (`identity`, checked with `secret`).

    A verified visitor with an open conversation gets that one and a new token for this
    browser (unless `resume` is False: they asked for a new conversation); a new one
    carries their verified id. An unverified id changes nothing but the answer's word.
    """
    claim = check_claim(identity, secret)
    outcome = claim.outcome if claim else None
    verified_id = claim.verified_id if claim else None
    # The name is checked whatever follows: one request shape, one set of errors.
    name = fields.clean_name(name)
    if verified_id is not None and resume:
        resumed = _resume(verified_id)
        if resumed is not None:
            return Started(*resumed, resumed=True, identity=outcome)
    conversation, token = conversations.start_conversation(
        name, email, language, visitor_identity=verified_id
    )
    return Started(conversation, token, resumed=False, identity=outcome)


def resume_conversation(identity: object, secret: str | None) -> Started:
    """The verified visitor's open conversation, with a new token for this browser.

    Forbidden when the identity is not verified (no hash, no secret set, or a hash that
    does not sign the id); NotFound when the visitor has no open conversation.
    """
    if identity is None:
        raise Invalid("Say who the visitor is.", field="identity", code="required")
    claim = check_claim(identity, secret)
    if claim is None or claim.verified_id is None:
        raise Forbidden(
            "The visitor's identity could not be verified.", code="identity_not_verified"
        )
    resumed = _resume(claim.verified_id)
    if resumed is None:
        raise NotFound("This visitor has no open conversation.", code="no_open_conversation")
    return Started(*resumed, resumed=True, identity=claim.outcome)


def earlier_conversations(
    identity: object, secret: str | None, known: object = None
) -> list[tuple[dict[str, Any], str]]:
    """The verified visitor's closed conversations this browser does not hold yet (ids
    not in `known`), newest first, at most EARLIER_MAX, each with a new token for this
    browser: the history they had on other devices, for "Earlier conversations".

    Forbidden when the identity is not verified; Invalid for a `known` that is not a list
    of at most KNOWN_MAX ids.
    """
    claim = check_claim(identity, secret)
    if claim is None or claim.verified_id is None:
        raise Forbidden(
            "The visitor's identity could not be verified.", code="identity_not_verified"
        )
    held = _known_ids(known)
    found = []
    try:
        ids = db.session.scalars(
            select(Conversation.id)
            .where(
                Conversation.visitor_identity == claim.verified_id,
                Conversation.status == "closed",
                Conversation.id.not_in(held),
            )
            .order_by(Conversation.id.desc())
            # A browser keeps EARLIER_MAX: one that holds that many gets none (no token made
            # for a conversation it would drop at once).
            .limit(max(0, EARLIER_MAX - len(held)))
        ).all()
        for conversation_id in ids:
            token, token_hash = visitors.issue_token()
            db.session.add(VisitorToken(token_hash=token_hash, conversation_id=conversation_id))
            found.append((conversation_id, token))
        db.session.commit()
    finally:
        db.session.close()
    return [
        (conversations.get_conversation(cid, visitors.Visitor(token)), token)
        for cid, token in found
    ]


def _known_ids(known: object) -> list[int]:
    if known is None:
        return []
    if (
        not isinstance(known, list)
        or len(known) > KNOWN_MAX
        or not all(type(item) is int and 1 <= item <= fields.ID_MAX for item in known)
    ):
        raise Invalid(
            "known must be a list of at most {count} conversation ids.",
            field="known",
            count=KNOWN_MAX,
        )
    return known


# Built once: the newest conversation of the id that is not closed.
_OPEN_OF = (
    select(Conversation.id)
    .where(
        Conversation.visitor_identity == bindparam("visitor_identity"),
        Conversation.status != "closed",
    )
    .order_by(Conversation.id.desc())
    .limit(1)
)


def _resume(visitor_id: str) -> tuple[dict[str, Any], str] | None:
    """The open conversation of `visitor_id` and a new token that opens it, or None."""
    token, token_hash = visitors.issue_token()
    try:
        conversation_id = db.session.execute(_OPEN_OF, {"visitor_identity": visitor_id}).scalar()
        if conversation_id is None:
            return None
        # The row's own hashes stay the first browser's: its requests never read this table.
        db.session.add(VisitorToken(token_hash=token_hash, conversation_id=conversation_id))
        db.session.commit()
    finally:
        db.session.close()
    return conversations.get_conversation(conversation_id, visitors.Visitor(token)), token
