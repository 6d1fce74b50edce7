"""Writing a conversation's log: the row lock, the next `seq`, entries, and announcing them.

Only the domain (conversations.py) calls this, inside its own transactions. The lock is
an UPDATE … RETURNING on the conversation's row: PostgreSQL takes the row lock, SQLite
its write lock, and what it returns is the state under the lock (DESIGN.md §1).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Insert, Row, Update, bindparam, case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from devtone.errors import NotFound
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


_conversations = Conversation.__table__
_entries = Message.__table__
# The assigned agent's name comes back with the row, for the conversation's shape.
_AGENT_NAME = (
    select(Agent.name).where(Agent.id == _conversations.c.agent_id).scalar_subquery()
).label("agent_name")


@dataclass(frozen=True)
class Head:
    """The conversation's state under the lock."""

    seq: int
    status: str
    agent_id: int | None


def update_row(conversation_id: int, **values: Any) -> Row | None:
    """UPDATE the conversation's row (taking its lock) to `values`; return all of it under
    the lock, with `agent_name`, or None if there is no such conversation."""
    return _execute(_update_statement(tuple(values)), conversation_id, values)


def take_seq(conversation_id: int, *, text: bool, from_visitor: bool, **also: Any) -> Row | None:
    """Take the lock and the log's next seq (the row's new `last_seq`), setting `also` too.

    The counters of the conversation's shape move in the same statement: the newest text
    entry, and the visitor's text entries (for unread).
    """
    statement = _update_statement(tuple(also), advance=True, text=text, from_visitor=from_visitor)
    return _execute(statement, conversation_id, {**also, "now": utcnow()})


def insert_entry(head: Row | _Position, **entry: Any) -> Row | None:
    """Insert the log's entry `head.last_seq` (taken by `take_seq`), at the head's time.

    Returns the stored entry, or None if its `client_id` is in the log already: the
    idempotency check and the insert are one statement.
    """
    connection = db.session.connection()
    values = {
        "conversation_id": head.id,
        "seq": head.last_seq,
        "created_at": head.updated_at,
        "client_id": None,
        "status": None,
        **entry,
    }
    statement = _insert_statement(connection.dialect.name, values["client_id"] is not None)
    return connection.execute(statement, values).first()


def status_fields(status: str, body: str) -> dict[str, Any]:
    """A status entry's fields: the conversation's status after it, and what to show."""
    return {
        "kind": "status",
        "sender": "system",
        "author_name": "devtone",
        "body": body,
        "status": status,
    }


def joined_fields(agent_name: str) -> dict[str, Any]:
    """The status entry that says an agent joined (the conversation becomes active)."""
    return status_fields("active", f"{agent_name} joined the conversation.")


REOPENED = "The conversation was reopened."


def lock(conversation: Conversation) -> Head:
    """Take the conversation's row lock without writing the log; return the state under it."""
    return _sync(conversation, _execute(_update_statement(()), conversation.id, {}))


def advance(conversation: Conversation, *, text: bool, from_visitor: bool) -> Head:
    """`take_seq` for a loaded conversation, which is brought up to date; `Head.seq` is
    the new seq."""
    return _sync(conversation, take_seq(conversation.id, text=text, from_visitor=from_visitor))


def status_entry(conversation: Conversation, seq: int, status: str, body: str) -> Row:
    """Set the conversation's status and log the change as entry `seq`."""
    conversation.status = status
    return _status_row(insert_entry(_at(conversation, seq), **status_fields(status, body)))


def join(conversation: Conversation, seq: int, agent_id: int) -> Row:
    """Assign the conversation to an agent and log "<name> joined" as entry `seq`."""
    agent = db.session.get(Agent, agent_id)
    conversation.agent = agent
    conversation.status = "active"
    return _status_row(insert_entry(_at(conversation, seq), **joined_fields(agent.name)))


def conversation_channel(conversation_id: int) -> str:
    """The broker channel on which a conversation's changes are announced."""
    return f"conversation:{conversation_id}"


def publish(conversation_id: int, item: dict[str, Any]) -> None:
    """Announce a committed change on the conversation's channel; best effort, readers
    repair from the database. The dashboard feed hears every conversation channel."""
    broker = current_app.extensions["devtone.broker"]
    item["committed_at"] = time.time()  # once per change: readers time commit → write
    broker.publish(conversation_channel(conversation_id), item)


@dataclass(frozen=True)
class _Position:
    """Where an entry of a loaded conversation goes: what `insert_entry` reads."""

    id: int
    last_seq: int
    updated_at: datetime


def _at(conversation: Conversation, seq: int) -> _Position:
    return _Position(conversation.id, seq, conversation.updated_at)


def _status_row(entry: Row | None) -> Row:
    if entry is None:  # status entries carry no client_id: nothing can collide
        raise RuntimeError("a status entry was not stored")
    return entry


# The post's statements are built once: building and cache-keying a statement cost more
# CPU than SQLite took to run it. Core, not the ORM, for the same reason: a post is a
# handful of statements, and the unit of work cost more than the database.
@functools.cache
def _update_statement(
    names: tuple[str, ...], *, advance: bool = False, text: bool = False, from_visitor: bool = False
) -> Update:
    table = _conversations
    # Bound names must differ from the columns' own ("status" is the SET clause's).
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in names}
    if advance:
        values["last_seq"] = table.c.last_seq + 1
        values["version"] = table.c.version + 1
        # `now` is taken before the lock is granted, possibly while an earlier writer held
        # it for a while: never let the log's time (entries take it) run backwards.
        now = bindparam("new_now", type_=table.c.updated_at.type)
        values["updated_at"] = case((table.c.updated_at > now, table.c.updated_at), else_=now)
        if text:
            values["last_text_seq"] = table.c.last_seq + 1
            if from_visitor:
                values["visitor_messages"] = table.c.visitor_messages + 1
    if not values:  # the lock alone: the row written to itself
        values["last_seq"] = table.c.last_seq
    return (
        update(table)
        .where(table.c.id == bindparam("conversation_id"))
        .values(values)
        .returning(*table.c, _AGENT_NAME)
    )


def _execute(statement: Update, conversation_id: int, values: dict[str, Any]) -> Row | None:
    parameters = {f"new_{name}": value for name, value in values.items()}
    parameters["conversation_id"] = conversation_id
    return db.session.connection().execute(statement, parameters).first()


@functools.cache
def _insert_statement(dialect: str, keeps_stored: bool) -> Insert:
    statement = _entries.insert()
    if keeps_stored:
        # Both of devtone's databases say "ON CONFLICT … DO NOTHING", each in its dialect.
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(_entries).on_conflict_do_nothing(
            index_elements=["conversation_id", "client_id"]
        )
    return statement.returning(*_entries.c)


def _sync(conversation: Conversation, row: Row | None) -> Head:
    """Bring the loaded conversation up to the row returned under the lock."""
    if row is None:  # deleted since the caller loaded it
        raise NotFound("No such conversation.")
    loaded_agent_id = conversation.agent_id
    # The row already holds these; tell the loaded object without marking it dirty.
    for name in _RETURNED:
        set_committed_value(conversation, name, getattr(row, name))
    if row.agent_id != loaded_agent_id:  # assigned meanwhile: the shape must name who
        agent = db.session.get(Agent, row.agent_id) if row.agent_id is not None else None
        set_committed_value(conversation, "agent", agent)
    return Head(seq=row.last_seq, status=row.status, agent_id=row.agent_id)
