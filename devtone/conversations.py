"""The domain: conversations as ordered logs of messages.

Every public function owns its transaction and ends it before returning, so a caller
that keeps running (an SSE stream) never holds a database connection between calls.
Results are plain JSON-ready dicts. Publishing happens after commit and is best effort:
the database is the truth; the broker only wakes readers up.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from devtone import visitors
from devtone.errors import Closed, Forbidden, Invalid, NotFound
from devtone.extensions import db
from devtone.models import Conversation, Message, isoformat, utcnow

NAME_MAX = 80
BODY_MAX = 4000
CLIENT_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")
PAGE_MAX = 500

Caller = visitors.Visitor  # agents join in the dashboard issue


def conversation_channel(conversation_id: int) -> str:
    """The broker channel on which a conversation's new entries are announced."""
    return f"conversation:{conversation_id}"


@dataclass(frozen=True)
class Page:
    """A slice of a conversation's log after a cursor."""

    messages: list[dict[str, Any]]
    cursor: int
    conversation: dict[str, Any]


def start_conversation(name: object, email: object = None) -> tuple[dict[str, Any], str]:
    """Open a conversation for a visitor; return it and the visitor's bearer token."""
    name = _clean_name(name)
    email = _clean_email(email)
    token, token_hash = visitors.issue_token()
    now = utcnow()
    conversation = Conversation(
        visitor_name=name,
        visitor_email=email,
        visitor_token_hash=token_hash,
        status="waiting",
        last_seq=0,
        agent_read_seq=0,
        created_at=now,
        updated_at=now,
    )
    try:
        db.session.add(conversation)
        db.session.commit()
        return _conversation_json(conversation), token
    finally:
        db.session.close()


def get_conversation(conversation_id: int, caller: Caller) -> dict[str, Any]:
    """The conversation, for a caller allowed to see it."""
    try:
        return _conversation_json(_load(conversation_id, caller))
    finally:
        db.session.close()


def authorize(conversation_id: int, caller: Caller) -> None:
    """Raise NotFound or Forbidden unless `caller` may read the conversation."""
    try:
        _load(conversation_id, caller)
    finally:
        db.session.close()


def authorized_head(conversation_id: int, caller: Caller) -> int:
    """The log's head (`last_seq`), for a caller allowed to read it: one single-row query.

    Raises NotFound or Forbidden like `authorize`.
    """
    try:
        row = db.session.execute(
            select(Conversation.visitor_token_hash, Conversation.last_seq).where(
                Conversation.id == conversation_id
            )
        ).first()
    finally:
        db.session.close()
    if row is None:
        raise NotFound("No such conversation.")
    if not visitors.may_access(caller, row.visitor_token_hash):
        raise Forbidden("This token does not open that conversation.")
    return row.last_seq


def post_message(
    conversation_id: int, caller: Caller, body: object, client_id: object = None
) -> tuple[dict[str, Any], bool]:
    """Append a text message; return it and whether it is new.

    Idempotent on `client_id`: posting the same one again returns the stored message.
    """
    body = _clean_body(body)
    client_id = _clean_client_id(client_id)
    try:
        conversation = _load(conversation_id, caller)
        seq, status = _lock_next_seq(conversation)
        # Checked under the lock, so it is final: a racing retry of the same message
        # either committed before we got the lock (we answer with it) or waits for us.
        stored = _by_client_id(conversation_id, client_id)
        if stored is not None:
            answer = _message_json(stored)
            db.session.rollback()
            return answer, False
        if status == "closed":
            raise Closed("This conversation is closed.")
        message = _append(
            conversation,
            seq,
            kind="text",
            sender="visitor",
            author_name=conversation.visitor_name,
            body=body,
            client_id=client_id,
        )
        # Built inside the transaction, once per post, so that no reader woken by the
        # publish needs a query to answer with the conversation's new state.
        announced = _conversation_json(conversation, last_text=message)
        db.session.commit()
        created = _message_json(message)
    except IntegrityError:
        # Two same-client_id posts raced past the lock (SQLite has no row lock across
        # processes); the unique index kept the log right; answer with the stored one.
        db.session.rollback()
        stored = _by_client_id(conversation_id, client_id)
        if stored is None:
            raise
        return _message_json(stored), False
    finally:
        db.session.close()
    _publish(conversation_id, created, announced)
    return created, True


def close_conversation(conversation_id: int) -> dict[str, Any]:
    """Close the conversation, logging a status entry every reader will replay."""
    try:
        conversation = db.session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound("No such conversation.")
        if conversation.status == "closed":
            return _conversation_json(conversation)
        seq, _ = _lock_next_seq(conversation)
        entry = _append(
            conversation,
            seq,
            kind="status",
            sender="system",
            author_name="devtone",
            body="The conversation was closed.",
            status="closed",
        )
        conversation.status = "closed"
        conversation.closed_at = entry.created_at
        db.session.flush()
        closed = _conversation_json(conversation)
        db.session.commit()
        logged = _message_json(entry)
    finally:
        db.session.close()
    _publish(conversation_id, logged, closed)
    return closed


def messages_after(
    conversation_id: int, caller: Caller | None, after: int, limit: int = PAGE_MAX
) -> Page:
    """The entries with seq > `after`, oldest first, at most `limit` of them.

    `caller=None` is for a stream that authorised its caller when it opened.
    """
    if after < 0:
        raise Invalid("The cursor must be zero or more.", field="after")
    limit = max(1, min(limit, PAGE_MAX))
    try:
        conversation = (
            _load(conversation_id, caller) if caller is not None else _get_or_404(conversation_id)
        )
        rows = db.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.seq > after)
            .order_by(Message.seq)
            .limit(limit)
        ).all()
        messages = [_message_json(row) for row in rows]
        cursor = messages[-1]["seq"] if messages else after
        return Page(messages, cursor, _conversation_json(conversation))
    finally:
        db.session.close()


def heads(conversation_ids: set[int]) -> dict[int, int]:
    """`last_seq` of each existing conversation in `conversation_ids`, in one query."""
    if not conversation_ids:
        return {}
    try:
        rows = db.session.execute(
            select(Conversation.id, Conversation.last_seq).where(
                Conversation.id.in_(conversation_ids)
            )
        ).all()
        return dict(rows)
    finally:
        db.session.close()


# -- transactions ---------------------------------------------------------------------


def _lock_next_seq(conversation: Conversation) -> tuple[int, str]:
    """Take the conversation's row lock and the log's next seq; return it and the status.

    The UPDATE … RETURNING takes the row lock (PostgreSQL) or the write lock (SQLite)
    and hands out the next seq in the writing transaction, so entries commit in seq
    order with no gap; the status it returns is the one under the lock.
    """
    now = utcnow()
    seq, status = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(last_seq=Conversation.last_seq + 1, updated_at=now)
        .returning(Conversation.last_seq, Conversation.status)
        .execution_options(synchronize_session=False)
    ).one()
    # The row already holds these; tell the loaded object without marking it dirty.
    set_committed_value(conversation, "last_seq", seq)
    set_committed_value(conversation, "updated_at", now)
    return seq, status


def _append(conversation: Conversation, seq: int, **entry: Any) -> Message:
    """Insert the entry `seq` of the log (its lock taken by `_lock_next_seq`)."""
    message = Message(
        conversation_id=conversation.id, seq=seq, created_at=conversation.updated_at, **entry
    )
    db.session.add(message)
    db.session.flush()
    return message


def _publish(conversation_id: int, message: dict[str, Any], conversation: dict[str, Any]) -> None:
    """Announce a committed entry and the conversation after it; best effort, readers
    repair from the database."""
    broker = current_app.extensions["devtone.broker"]
    broker.publish(
        conversation_channel(conversation_id), {"message": message, "conversation": conversation}
    )


def _load(conversation_id: int, caller: Caller) -> Conversation:
    conversation = _get_or_404(conversation_id)
    if not visitors.may_access(caller, conversation.visitor_token_hash):
        raise Forbidden("This token does not open that conversation.")
    return conversation


def _get_or_404(conversation_id: int) -> Conversation:
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("No such conversation.")
    return conversation


def _by_client_id(conversation_id: int, client_id: str | None) -> Message | None:
    if client_id is None:
        return None
    return db.session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.client_id == client_id
        )
    )


# -- shapes ---------------------------------------------------------------------------


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "conversation_id": message.conversation_id,
        "kind": message.kind,
        "sender": message.sender,
        "author": {"name": message.author_name},
        "body": message.body,
        "status": message.status,
        "client_id": message.client_id,
        "created_at": isoformat(message.created_at),
    }


def _conversation_json(
    conversation: Conversation, last_text: Message | None = None
) -> dict[str, Any]:
    """The conversation's shape; `last_text` spares the query when the caller knows it."""
    if last_text is None:
        last_text = db.session.scalar(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.kind == "text")
            .order_by(Message.seq.desc())
            .limit(1)
        )
    unread = db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.sender == "visitor",
            Message.seq > conversation.agent_read_seq,
        )
    )
    return {
        "id": conversation.id,
        "status": conversation.status,
        "visitor": {
            "name": conversation.visitor_name,
            "email": conversation.visitor_email,
        },
        "agent": None,
        "created_at": isoformat(conversation.created_at),
        "updated_at": isoformat(conversation.updated_at),
        "closed_at": isoformat(conversation.closed_at),
        "last_seq": conversation.last_seq,
        "unread": unread,
        "last_message": _message_json(last_text) if last_text is not None else None,
    }


# -- input rules ----------------------------------------------------------------------

# Control characters other than tab and line breaks have no place in chat text, and
# PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_blank(text: str) -> bool:
    """Whitespace and invisible format characters (zero-width space …) only."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def _clean_body(body: object) -> str:
    if not isinstance(body, str):
        raise Invalid("The message must be text.", field="body", code="required")
    if _is_blank(body):
        raise Invalid("The message is empty.", field="body", code="blank")
    body = body.strip()
    if len(body) > BODY_MAX:
        raise Invalid(
            f"The message is longer than {BODY_MAX} characters.",
            field="body",
            code="too_long",
        )
    if _CONTROL.search(body):
        raise Invalid(
            "The message contains control characters.",
            field="body",
            code="invalid_text",
        )
    return body


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or _is_blank(name):
        raise Invalid("Please tell us your name.", field="name", code="blank")
    name = name.strip()
    if len(name) > NAME_MAX:
        raise Invalid(
            f"The name is longer than {NAME_MAX} characters.",
            field="name",
            code="too_long",
        )
    if _CONTROL.search(name) or "\n" in name or "\r" in name:
        raise Invalid("The name contains control characters.", field="name", code="invalid_text")
    return name


def _clean_email(email: object) -> str | None:
    if email is None or (isinstance(email, str) and not email.strip()):
        return None
    if not isinstance(email, str):
        raise Invalid("The e-mail address must be text.", field="email", code="invalid_email")
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise Invalid(str(error), field="email", code="invalid_email") from None


def _clean_client_id(client_id: object) -> str | None:
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not CLIENT_ID_SHAPE.fullmatch(client_id):
        raise Invalid(
            "client_id must be 1 to 64 letters, digits, '-' or '_' (a UUID fits).",
            field="client_id",
            code="invalid_client_id",
        )
    return client_id
