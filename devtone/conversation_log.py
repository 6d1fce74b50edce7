"""Writing a conversation's log: the row lock, the next `seq`, entries, and announcing them.

Only the domain (conversations.py) calls this, inside its own transactions. The lock is
an UPDATE … RETURNING on the conversation's row: PostgreSQL takes the row lock, SQLite
its write lock, and what it returns is the state under the lock (DESIGN.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import case, literal, update
from sqlalchemy.orm.attributes import set_committed_value

from devtone.extensions import db
from devtone.models import Agent, Conversation, Message, utcnow

# Every column that changes after a conversation starts: what the caller loaded before
# the lock may be stale (another writer committed in between), what the lock returns not.
_RETURNED = (
    "last_seq",
    "status",
    "agent_id",
    "version",
    "last_text_seq",
    "visitor_messages",
    "agent_read_messages",
    "agent_read_seq",
    "visitor_read_seq",
    "updated_at",
    "closed_at",
    "first_reply_at",
    "first_reply_ms",
)


@dataclass(frozen=True)
class Head:
    """The conversation's state under the lock."""

    seq: int
    status: str
    agent_id: int | None


def lock(conversation: Conversation) -> Head:
    """Take the conversation's row lock without writing the log; return the state under it."""
    return _update(conversation, last_seq=Conversation.last_seq)


def advance(conversation: Conversation, *, text: bool, from_visitor: bool) -> Head:
    """Take the lock (if not held) and the log's next seq; `Head.seq` is that new seq.

    The counters of the conversation's shape move in the same statement: the newest text
    entry, and the visitor's text entries (for unread).
    """
    now = utcnow()
    values: dict[str, Any] = {
        "last_seq": Conversation.last_seq + 1,
        "version": Conversation.version + 1,
        # `now` is taken before the lock is granted, possibly while an earlier writer held
        # it for a while: never let the log's time (entries take it) run backwards.
        "updated_at": case(
            (Conversation.updated_at > now, Conversation.updated_at),
            else_=literal(now, Conversation.updated_at.type),
        ),
    }
    if text:
        values["last_text_seq"] = Conversation.last_seq + 1
        if from_visitor:
            values["visitor_messages"] = Conversation.visitor_messages + 1
    return _update(conversation, **values)


def append(conversation: Conversation, seq: int, **entry: Any) -> Message:
    """Insert the entry `seq` of the log (its seq taken by `advance`)."""
    message = Message(
        conversation_id=conversation.id, seq=seq, created_at=conversation.updated_at, **entry
    )
    db.session.add(message)
    db.session.flush()
    return message


def status_entry(conversation: Conversation, seq: int, status: str, body: str) -> Message:
    """Set the conversation's status and log the change as entry `seq`."""
    conversation.status = status
    return append(
        conversation,
        seq,
        kind="status",
        sender="system",
        author_name="devtone",
        body=body,
        status=status,
    )


def join(conversation: Conversation, seq: int, agent_id: int) -> Message:
    """Assign the conversation to an agent and log "<name> joined" as entry `seq`."""
    agent = db.session.get(Agent, agent_id)
    conversation.agent = agent
    return status_entry(conversation, seq, "active", f"{agent.name} joined the conversation.")


def reopen(conversation: Conversation) -> Message:
    """Reopen a closed conversation (to its agent, if it has one), as the next entry."""
    seq = advance(conversation, text=False, from_visitor=False).seq
    conversation.closed_at = None
    status = "active" if conversation.agent_id is not None else "waiting"
    return status_entry(conversation, seq, status, "The conversation was reopened.")


def conversation_channel(conversation_id: int) -> str:
    """The broker channel on which a conversation's changes are announced."""
    return f"conversation:{conversation_id}"


def publish(conversation_id: int, item: dict[str, Any]) -> None:
    """Announce a committed change on the conversation's channel; best effort, readers
    repair from the database. The dashboard feed hears every conversation channel."""
    broker = current_app.extensions["devtone.broker"]
    broker.publish(conversation_channel(conversation_id), item)


def _update(conversation: Conversation, **values: Any) -> Head:
    returned = [getattr(Conversation, name) for name in _RETURNED]
    row = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(**values)
        .returning(*returned)
        .execution_options(synchronize_session=False)
    ).one()
    loaded_agent_id = conversation.agent_id
    # The row already holds these; tell the loaded object without marking it dirty.
    for name, value in zip(_RETURNED, row, strict=True):
        set_committed_value(conversation, name, value)
    if row.agent_id != loaded_agent_id:  # assigned meanwhile: the shape must name who
        agent = db.session.get(Agent, row.agent_id) if row.agent_id is not None else None
        set_committed_value(conversation, "agent", agent)
    return Head(seq=row.last_seq, status=row.status, agent_id=row.agent_id)
