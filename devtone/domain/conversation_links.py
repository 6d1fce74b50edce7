"""What an e-mail to a visitor carries: a link that reopens the conversation in any
browser, a link that stops the e-mails, and the address a reply goes to.

The links are signed with the app's secret (itsdangerous) and bound to one conversation;
the reopen link works for LINK_DAYS. Nothing about them is stored: the reopen link is
traded for a fresh visitor token, whose hash the conversation keeps beside the original
one (the visitor's first browser keeps its access). The reply address carries the
conversation's id and an HMAC of it, so a made-up or altered address is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update

from devtone.domain import conversations, visitors
from devtone.domain.models import Conversation, utcnow
from devtone.errors import NotFound, Unauthorized
from devtone.extensions import db

#: How long an e-mailed link reopens its conversation.
LINK_DAYS = 30
#: A signed link is well under this; anything longer is no link.
_LINK_MAX = 200
# reply+c<id>.<signature>@domain: the part after "+" in the reply address's local part.
_REPLY_TAG = re.compile(r"c(?P<id>[0-9]{1,12})\.(?P<signature>[0-9a-f]{20})")


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"devtone.{purpose}")


def reopen_token(conversation_id: int) -> str:
    """The token of a link that reopens the conversation (for LINK_DAYS)."""
    return _serializer("reopen").dumps({"c": conversation_id})


def unsubscribe_token(conversation_id: int) -> str:
    """The token of a link that stops the conversation's e-mails."""
    return _serializer("unsubscribe").dumps({"c": conversation_id})


def _conversation_of(purpose: str, token: object, max_age: int | None) -> int:
    if not isinstance(token, str) or not 0 < len(token) <= _LINK_MAX:
        raise Unauthorized("This link is not valid.", code="invalid_link")
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except BadSignature:  # a forged, altered or expired link (SignatureExpired is one)
        raise Unauthorized("This link is not valid or has expired.", code="invalid_link") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise Unauthorized("This link is not valid.", code="invalid_link")
    return data["c"]


def reopen(token: object) -> tuple[dict[str, Any], str]:
    """Trade an e-mailed link's token for the conversation and a visitor token that opens
    it; Unauthorized for a wrong or expired link, NotFound for a conversation gone (or
    erased: its links open nothing)."""
    conversation_id = _conversation_of("reopen", token, LINK_DAYS * 24 * 3600)
    visitor_token, token_hash = visitors.issue_token()
    try:
        changed = db.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.erased_at.is_(None))
            .values(link_token_hash=token_hash)
        ).rowcount
        if not changed:
            raise NotFound("No such conversation.")
        db.session.commit()
    finally:
        db.session.close()
    return conversations.get_conversation(conversation_id, visitors.Visitor(visitor_token)), (
        visitor_token
    )


def stop_emails(token: object) -> int:
    """Stop e-mails about the conversation an unsubscribe link names; its id. Saying it
    again changes nothing."""
    conversation_id = _conversation_of("unsubscribe", token, None)
    try:
        db.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.email_stopped_at.is_(None))
            .values(email_stopped_at=utcnow())
        )
        db.session.commit()
    finally:
        db.session.close()
    return conversation_id


def _reply_signature(conversation_id: int) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    message = f"devtone.reply:{conversation_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:20]


def reply_address(conversation_id: int, mailbox: str) -> str:
    """The address replies about the conversation go to: `mailbox` (user@domain) with
    +c<id>.<signature> after its user."""
    user, _, domain = mailbox.rpartition("@")
    return f"{user}+c{conversation_id}.{_reply_signature(conversation_id)}@{domain}"


def conversation_of_reply(address: str, mailbox: str) -> int:
    """The conversation a reply address names; NotFound for any address that is not one
    devtone made for `mailbox` (unknown, or its signature forged)."""
    user, _, domain = mailbox.lower().rpartition("@")
    local, _, to_domain = address.strip().lower().rpartition("@")
    base, _, tag = local.partition("+")
    match = _REPLY_TAG.fullmatch(tag)
    if base != user or to_domain != domain or match is None:
        raise NotFound("No conversation has this reply address.", code="unknown_address")
    conversation_id = int(match["id"])
    if not hmac.compare_digest(match["signature"], _reply_signature(conversation_id)):
        raise NotFound("No conversation has this reply address.", code="unknown_address")
    return conversation_id
