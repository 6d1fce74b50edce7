"""The domain: conversations as ordered logs of entries, and what people do with them.

Every public function owns its transaction and ends it before returning, so a caller
that keeps running (an SSE stream) never holds a database connection between calls.
Results are plain JSON-ready dicts. Publishing happens after commit and is best effort:
the database is the truth; the broker only wakes readers up (DESIGN.md §1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, select

from devtone import fields, metrics, visitors
from devtone.agents import AgentIdentity
from devtone.conversation_log import (
    REOPENED,
    advance,
    insert_entry,
    join,
    joined_fields,
    lock,
    publish,
    status_entry,
    status_fields,
    take_seq,
    update_row,
)
from devtone.conversation_log import (
    conversation_channel as conversation_channel,  # readers subscribe with it
)
from devtone.errors import Closed, Forbidden, Invalid, NotFound
from devtone.extensions import db
from devtone.models import Agent, Conversation, Message, utcnow
from devtone.shapes import conversation_json, message_json

PAGE_MAX = 500

#: Who calls the domain: a visitor (by token) or a signed-in agent.
Caller = visitors.Visitor | AgentIdentity


@dataclass(frozen=True)
class Page:
    """A slice of a conversation's log after a cursor."""

    messages: list[dict[str, Any]]
    cursor: int
    conversation: dict[str, Any]


def start_conversation(name: object, email: object = None) -> tuple[dict[str, Any], str]:
    """Open a conversation for a visitor; return it and the visitor's bearer token."""
    name = fields.clean_name(name)
    email = fields.clean_email(email)
    token, token_hash = visitors.issue_token()
    now = utcnow()
    conversation = Conversation(
        visitor_name=name,
        visitor_email=email,
        visitor_token_hash=token_hash,
        status="waiting",
        last_seq=0,
        version=1,
        last_text_seq=0,
        visitor_messages=0,
        agent_read_messages=0,
        agent_read_seq=0,
        visitor_read_seq=0,
        created_at=now,
        updated_at=now,
    )
    try:
        db.session.add(conversation)
        db.session.commit()
        started = conversation_json(conversation, None)
    finally:
        db.session.close()
    publish(conversation.id, {"conversation": started})
    return started, token


def get_conversation(conversation_id: int, caller: Caller) -> dict[str, Any]:
    """The conversation, for a caller allowed to see it."""
    try:
        return shape(load(conversation_id, caller))
    finally:
        db.session.close()


def authorize(conversation_id: int, caller: Caller) -> None:
    """Raise NotFound or Forbidden unless `caller` may read the conversation."""
    try:
        load(conversation_id, caller)
    finally:
        db.session.close()


# Built once: every long-poll that starts waiting runs it, and building a statement cost
# more CPU than running it.
_HEAD = select(Conversation.visitor_token_hash, Conversation.last_seq).where(
    Conversation.id == bindparam("id")
)


def authorized_head(conversation_id: int, caller: Caller) -> int:
    """The log's head (`last_seq`), for a caller allowed to read it: one single-row query.

    Raises NotFound or Forbidden like `authorize`.
    """
    try:
        row = db.session.connection().execute(_HEAD, {"id": conversation_id}).first()
    finally:
        db.session.close()
    if row is None:
        raise NotFound("No such conversation.")
    _check_access(caller, row.visitor_token_hash)
    return row.last_seq


def post_message(
    conversation_id: int, caller: Caller, body: object, client_id: object = None
) -> tuple[dict[str, Any], bool]:
    """Append a text message; return it and whether it is new.

    Idempotent on `client_id`: posting the same one again returns the stored message.
    A visitor writing to a closed conversation reopens it; an agent answering a waiting
    one takes it. Agents cannot write to a closed conversation.
    """
    body = fields.clean_body(body)
    client_id = fields.clean_client_id(client_id)
    from_agent = isinstance(caller, AgentIdentity)
    try:
        # The lock comes first and returns the whole row: access is checked on what it
        # returns (a refused caller's rollback leaves nothing behind), and everything
        # after it is final: a racing retry of this message committed before us, or waits.
        head = take_seq(conversation_id, text=True, from_visitor=not from_agent)
        if head is None:
            raise NotFound("No such conversation.")
        _check_access(caller, head.visitor_token_hash)
        entries = []
        if from_agent:
            if head.status == "closed":
                # A retry of an answer stored before the close gets its answer, not a 409.
                stored = _by_client_id(conversation_id, client_id)
                if stored is None:
                    raise Closed("This conversation is closed.")
                answer = message_json(stored)
                db.session.rollback()
                return answer, False
            if head.agent_id is None:
                # The join comes first in the log, then the answer (both under our lock).
                entries.append(insert_entry(head, **joined_fields(caller.name)))
                head = take_seq(
                    conversation_id, text=True, from_visitor=False, agent_id=caller.id,
                    status="active",
                )  # fmt: skip
        sender, author = ("agent", caller.name) if from_agent else ("visitor", head.visitor_name)
        message = insert_entry(
            head, kind="text", sender=sender, author_name=author, body=body, client_id=client_id
        )
        if message is None:  # this client_id is stored: answer with what was stored
            db.session.rollback()
            return message_json(_by_client_id(conversation_id, client_id)), False
        entries.append(message)
        if from_agent and head.first_reply_at is None:
            waited = (message.created_at - head.created_at).total_seconds()
            head = update_row(
                conversation_id,
                first_reply_at=message.created_at,
                first_reply_ms=max(0, round(waited * 1000)),
            )
        elif not from_agent and head.status == "closed":
            status = "active" if head.agent_id is not None else "waiting"
            head = take_seq(
                conversation_id, text=False, from_visitor=False, status=status, closed_at=None
            )
            entries.append(insert_entry(head, **status_fields(status, REOPENED)))
        announced = conversation_json(head, message)
        logged = [message_json(entry) for entry in entries]
        created = logged[entries.index(message)]
        db.session.commit()
    finally:
        db.session.close()
    for entry in logged:
        publish(conversation_id, {"message": entry, "conversation": announced})
    metrics.MESSAGES_POSTED.inc()
    return created, True


def assign_conversation(
    conversation_id: int, caller: AgentIdentity, agent_id: object = None
) -> dict[str, Any]:
    """Give the conversation to `agent_id` (default: the caller); log who joined.

    Agents take waiting conversations or keep their own; admins assign anyone's to anyone.
    """
    target_id = caller.id if agent_id is None else fields.clean_id(agent_id, "agent_id")
    if target_id != caller.id and not caller.is_admin:
        raise Forbidden("Only an administrator can assign a conversation to someone else.")
    try:
        target = db.session.get(Agent, target_id)
        if target is None or not target.active:
            raise Invalid("No active agent has this id.", field="agent_id", code="unknown_agent")
        conversation = load(conversation_id, caller)
        head = lock(conversation)
        if head.status == "closed":
            raise Closed("This conversation is closed.")
        if head.agent_id == target_id:
            db.session.rollback()
            return get_conversation(conversation_id, caller)
        if head.agent_id is not None and head.agent_id != caller.id and not caller.is_admin:
            raise Forbidden("Another agent has this conversation.", code="assigned_elsewhere")
        announced, logged = _log_status(
            conversation, lambda seq: join(conversation, seq, target_id)
        )
        db.session.commit()
    finally:
        db.session.close()
    publish(conversation_id, {"message": logged, "conversation": announced})
    return announced


def close_conversation(conversation_id: int, caller: Caller) -> dict[str, Any]:
    """Close the conversation, logging a status entry every reader will replay."""
    try:
        conversation = load(conversation_id, caller)
        head = lock(conversation)
        if head.status == "closed":
            db.session.rollback()
            return get_conversation(conversation_id, caller)

        def close(seq: int) -> Row:
            entry = status_entry(conversation, seq, "closed", "The conversation was closed.")
            conversation.closed_at = entry.created_at
            return entry

        closed, logged = _log_status(conversation, close)
        db.session.commit()
    finally:
        db.session.close()
    publish(conversation_id, {"message": logged, "conversation": closed})
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
            load(conversation_id, caller) if caller is not None else _get_or_404(conversation_id)
        )
        rows = db.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.seq > after)
            .order_by(Message.seq)
            .limit(limit)
        ).all()
        messages = [message_json(row) for row in rows]
        cursor = messages[-1]["seq"] if messages else after
        return Page(messages, cursor, shape(conversation))
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


def _log_status(
    conversation: Conversation, write: Callable[[int], Row]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write a status entry as the log's next seq (lock held); return the conversation's
    and the entry's shapes, built before the commit expires them."""
    entry = write(advance(conversation, text=False, from_visitor=False).seq)
    db.session.flush()
    return shape(conversation), message_json(entry)


# -- loading --------------------------------------------------------------------------


def shape(conversation: Conversation) -> dict[str, Any]:
    """The loaded conversation's JSON, reading its newest text entry by (id, seq)."""
    last_text = None
    if conversation.last_text_seq:
        last_text = db.session.scalar(
            select(Message).where(
                Message.conversation_id == conversation.id,
                Message.seq == conversation.last_text_seq,
            )
        )
    return conversation_json(conversation, last_text)


def _check_access(caller: Caller, token_hash: str) -> None:
    if isinstance(caller, AgentIdentity):
        return  # every agent may read every conversation
    if not visitors.may_access(caller, token_hash):
        raise Forbidden("This token does not open that conversation.")


def load(conversation_id: int, caller: Caller) -> Conversation:
    """The conversation, in the session, for a caller allowed to see it (NotFound or
    Forbidden otherwise)."""
    conversation = _get_or_404(conversation_id)
    _check_access(caller, conversation.visitor_token_hash)
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
