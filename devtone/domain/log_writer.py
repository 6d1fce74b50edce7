"""The one write path of a conversation's log: lock the row, take `seq`, insert, update.

Post, assign, close and the marks all write here, on Core rows: the lock is an UPDATE …
RETURNING on the conversation's row (PostgreSQL takes the row lock, SQLite its write
lock), and what it returns is the state under the lock (DESIGN.md §1), the only one a
rule may be decided on. Each function runs inside the transaction of `transaction()`
and returns what it wrote as a `Written`; the caller (conversations.write) commits, or
rolls back when nothing changed, then shapes and announces. The statements are
log_statements.py's, built once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, Update

from devtone.domain import visitors
from devtone.domain.agents import AgentIdentity
from devtone.domain.api_tokens import TokenIdentity
from devtone.domain.log_statements import (
    AGENT,
    BY_CLIENT_ID,
    ENTRY,
    MOVE_AGENT_MARKS,
    MOVE_VISITOR_MARKS,
    ROW,
    insert_statement,
    update_statement,
)
from devtone.domain.models import utcnow
from devtone.errors import Closed, Conflict, Forbidden, Invalid, NotFound
from devtone.extensions import db

REOPENED = "The conversation was reopened."
CLOSED = "The conversation was closed."


@dataclass(frozen=True)
class Written:
    """What one write left: the conversation's row after it (with `agent_name`), the new
    entries in `seq` order, the newest text entry, and the entry the caller asked for."""

    conversation: Row
    entries: list[Row] = field(default_factory=list)
    last_text: Row | None = None
    answer: Row | None = None
    #: False when nothing was stored (a repeat, a mark that would not move): roll back.
    changed: bool = True
    #: The side whose marks moved ("visitor", "agent"), if that is the change.
    marks_of: str | None = None


def post(
    conversation_id: int,
    caller: object,
    body: str,
    client_id: str | None,
    attachment: str | None = None,
) -> Written:
    """Append a text message (carrying `attachment`, a file's JSON, if given), with the
    status entries it implies.

    Idempotent on `client_id`: the stored message comes back with `changed=False`. An agent
    answering a waiting conversation joins it first; a visitor writing to a closed one
    reopens it; an agent cannot write to a closed one (Closed). A bot (an API token)
    writes as itself: its replies travel like an agent's but assign nobody, and it cannot
    write to a closed conversation either.
    """
    from_agent = isinstance(caller, AgentIdentity)
    from_team = from_agent or isinstance(caller, TokenIdentity)
    # The lock comes first and returns the whole row: access is checked on what it
    # returns (a refused caller's rollback leaves nothing behind), and everything after
    # it is final: a racing retry of this message committed before us, or waits.
    row = _take_seq(conversation_id, text=True, from_visitor=not from_team)
    visitors.check_access(
        caller, conversation_id, row.visitor_token_hash, row.link_token_hash, connection()
    )
    entries = []
    if from_team:
        if row.status == "closed":
            # A retry of an answer stored before the close gets its answer, not a 409.
            stored = _stored(conversation_id, caller, client_id)
            if stored is None:
                raise Closed("This conversation is closed.")
            return Written(row, answer=stored, changed=False)
        if from_agent and row.agent_id is None:
            # The join comes first in the log, then the answer (both under our lock).
            entries.append(_insert(row, _joined(caller.name)))
            row = _take_seq(
                conversation_id, text=True, from_visitor=False, agent_id=caller.id,
                status="active",
            )  # fmt: skip
    sender, author = _sender(caller, row)
    message = _insert(
        row, {"kind": "text", "sender": sender, "author_name": author, "body": body,
              "client_id": client_id, "agent_id": caller.id if from_agent else None,
              "attachment": attachment},
    )  # fmt: skip
    if message is None:  # this sender stored this client_id: answer with what was stored
        return Written(row, answer=_stored(conversation_id, caller, client_id), changed=False)
    entries.append(message)
    if from_agent and row.first_reply_at is None:
        waited = (message.created_at - row.created_at).total_seconds()
        row = _update(
            conversation_id,
            first_reply_at=message.created_at,
            first_reply_ms=max(0, round(waited * 1000)),
        )
    elif not from_team and row.status == "closed":
        status = "active" if row.agent_id is not None else "waiting"
        row = _take_seq(conversation_id, text=False, from_visitor=False, status=status,
                        closed_at=None)  # fmt: skip
        entries.append(_insert(row, _status(status, REOPENED)))
    return Written(row, entries, last_text=message, answer=message)


def _sender(caller: object, row: Row) -> tuple[str, str]:
    """The sender and author name of a text message `caller` posts."""
    if isinstance(caller, AgentIdentity):
        return "agent", caller.name
    if isinstance(caller, TokenIdentity):
        return "bot", caller.name
    return "visitor", row.visitor_name


def note(
    conversation_id: int, caller: AgentIdentity, body: str, client_id: str | None, mentions: Any
) -> Written:
    """Append an agent's private note (idempotent on `client_id`, like a post).

    Not a reply: the status, the assignment, the first reply, the unread counts and the
    newest text stay as they were, in a closed conversation too. `mentions(row)` names
    the agents it alerts (the ids, stored with the note's seq on the row).
    """
    row = _take_seq(conversation_id, text=False, from_visitor=False)
    entry = _insert(
        row, {"kind": "note", "sender": "agent", "author_name": caller.name, "body": body,
              "client_id": client_id, "agent_id": caller.id},
    )  # fmt: skip
    if entry is None:
        return Written(row, answer=_stored(conversation_id, caller, client_id), changed=False)
    mentioned = mentions(row, entry.seq)
    if mentioned is not None:
        row = _update(conversation_id, mentions=mentioned)
    return Written(row, [entry], last_text=_last_text(row), answer=entry)


def assign(conversation_id: int, caller: AgentIdentity, agent_id: int) -> Written:
    """Give the conversation to `agent_id` and log who joined.

    Agents take waiting conversations or keep their own; admins assign anyone's to anyone.
    """
    target = connection().execute(AGENT, {"id": agent_id}).first()
    if target is None or not target.active:
        raise Invalid("No active agent has this id.", field="agent_id", code="unknown_agent")
    row = _lock(conversation_id)
    if row.status == "closed":
        raise Closed("This conversation is closed.")
    if row.agent_id == agent_id:
        return Written(row, last_text=_last_text(row), changed=False)
    if row.agent_id is not None and row.agent_id != caller.id and not caller.is_admin:
        raise Forbidden("Another agent has this conversation.", code="assigned_elsewhere")
    row = _take_seq(conversation_id, text=False, from_visitor=False, agent_id=agent_id,
                    status="active")  # fmt: skip
    entry = _insert(row, _joined(target.name))
    return Written(row, [entry], last_text=_last_text(row))


def close(conversation_id: int, caller: object) -> Written:
    """Close the conversation, logging a status entry every reader will replay."""
    row = _lock(conversation_id)
    visitors.check_access(
        caller, conversation_id, row.visitor_token_hash, row.link_token_hash, connection()
    )
    if row.status == "closed":
        return Written(row, last_text=_last_text(row), changed=False)
    row = _take_seq(conversation_id, text=False, from_visitor=False, status="closed",
                    closes=True)  # fmt: skip
    entry = _insert(row, _status("closed", CLOSED))
    return Written(row, [entry], last_text=_last_text(row))


def append(conversation_id: int, entry: dict[str, Any], **also: Any) -> Written:
    """Append one entry that is not a text message (a label change), setting `also` on
    the row in the same locked UPDATE."""
    row = _take_seq(conversation_id, text=False, from_visitor=False, **also)
    return Written(row, [_insert(row, entry)], last_text=_last_text(row))


def unchanged(conversation_id: int) -> Written:
    """The row under the lock, for a write that decides on it and may change nothing."""
    row = _lock(conversation_id)
    return Written(row, last_text=_last_text(row), changed=False)


def move_marks(
    conversation_id: int,
    caller: object,
    delivered: int | None,
    seen: int | None,
    names: dict[str, str] | None = None,
) -> Written:
    """Move the caller's side's marks up to `delivered` and `seen` (never back; seen
    implies delivered); `names` renames the fields an error names (…/read says "seq").

    The agent side's marks ("Delivered"/"Seen" for the visitor, and the unread count) move
    when the assigned agent's client reports, or any agent's while nobody is assigned.
    Every move bumps the version and is news: the other side shows it.
    """
    database = connection()
    row = database.execute(ROW, {"id": conversation_id}).first()
    if row is None:
        raise NotFound("No such conversation.")
    visitors.check_access(
        caller, conversation_id, row.visitor_token_hash, row.link_token_hash, database
    )
    for name, seq in (("delivered", delivered), ("seen", seen)):
        if seq is not None and seq > row.last_seq:
            field = (names or {}).get(name, name)
            raise Invalid("{field} is beyond the conversation's last entry.", field=field)
    seen = seen or 0
    delivered = max(delivered or 0, seen)
    agent = isinstance(caller, AgentIdentity)
    # Marks only move up, so one that would not move now never will: answer without the
    # lock (a reader's every glance must not queue behind the posts). One that would is
    # moved by a guarded UPDATE: the guard is decided under the lock.
    if agent:
        moves = row.agent_id in (None, caller.id) and (
            delivered > row.agent_delivered_seq or seen > row.agent_read_seq
        )
        statement, values = MOVE_AGENT_MARKS, {"caller": caller.id}
    else:
        moves = delivered > row.visitor_delivered_seq or seen > row.visitor_read_seq
        statement, values = MOVE_VISITOR_MARKS, {}
    if not moves:
        return Written(row, last_text=_last_text(row), changed=False)
    parameters = {"conversation_id": conversation_id, "delivered": delivered, "seen": seen}
    moved = _move_mark(statement, {**parameters, **values})
    if moved is None:  # another request moved them past ours meanwhile: answer with its state
        row = database.execute(ROW, {"id": conversation_id}).first()
        return Written(row, last_text=_last_text(row), changed=False)
    return Written(moved, last_text=_last_text(moved), marks_of="agent" if agent else "visitor")


#: The connection of the write under way in this request (each greenlet has its own).
_WRITING: ContextVar[Connection] = ContextVar("devtone.log_writer.connection")


@contextmanager
def transaction() -> Iterator[Connection]:
    """A pooled connection for one write of the log, on which every statement of the write
    runs; the caller commits or rolls back, and an error rolls back.

    Core, not the ORM session: a post is three statements, and the session's own
    bookkeeping around them (its connection per statement, its commit, its close) was
    a seventh of a post's instructions (callgrind, 2026-12).
    """
    with db.engine.connect() as connection:
        token = _WRITING.set(connection)
        try:
            yield connection
        finally:
            _WRITING.reset(token)


def connection() -> Connection:
    """The connection of the write under way: what a write stores beside the log (an
    attachment's row, a conversation's labels) goes in the same transaction. Outside a
    write: LookupError (a log write never runs in a transaction of its own)."""
    return _WRITING.get()


# -- entries ----------------------------------------------------------------------------


def _status(status: str, body: str) -> dict[str, Any]:
    """A status entry's fields: the conversation's status after it, and what to show."""
    return {"kind": "status", "sender": "system", "author_name": "devtone", "body": body,
            "status": status}  # fmt: skip


def _joined(agent_name: str) -> dict[str, Any]:
    return _status("active", f"{agent_name} joined the conversation.")


def _insert(row: Row, entry: dict[str, Any]) -> Row | None:
    """Insert the log's entry `row.last_seq` (taken by `_take_seq`), at the row's time.

    Returns the stored entry, or None if its `client_id` is in the log already: the
    idempotency check and the insert are one statement.
    """
    database = connection()
    values = {
        "conversation_id": row.id,
        "seq": row.last_seq,
        "created_at": row.updated_at,
        "client_id": None,
        "agent_id": None,
        "status": None,
        "attachment": None,
        **entry,
    }
    statement = insert_statement(database.dialect.name, values["client_id"] is not None)
    return database.execute(statement, values).first()


def _stored(conversation_id: int, caller: object, client_id: str | None) -> Row | None:
    """The message `caller`'s side stored under `client_id`, if any.

    Agents share the sender "agent": another agent's message under the same key is a
    Conflict, never handed to this one as if it were theirs.
    """
    if client_id is None:
        return None
    from_agent = isinstance(caller, AgentIdentity)
    sender = "agent" if from_agent else "bot" if isinstance(caller, TokenIdentity) else "visitor"
    stored = (
        connection()
        .execute(BY_CLIENT_ID, {"id": conversation_id, "sender": sender, "client_id": client_id})
        .first()
    )
    if from_agent and stored is not None and stored.agent_id not in (None, caller.id):
        raise Conflict(
            "Another agent's message has this client_id; send yours with a new one.",
            code="client_id_taken",
        )
    # Bots share the sender "bot" and keep no token id on the entry: their name tells them
    # apart, so one bot is never handed another's message as its own.
    if sender == "bot" and stored is not None and stored.author_name != caller.name:
        raise Conflict(
            "Another bot's message has this client_id; send yours with a new one.",
            code="client_id_taken",
        )
    return stored


def _last_text(row: Row) -> Row | None:
    if not row.last_text_seq:
        return None
    return connection().execute(ENTRY, {"id": row.id, "seq": row.last_text_seq}).first()


# -- the conversation's row -------------------------------------------------------------


def _move_mark(statement: Update, parameters: dict[str, Any]) -> Row | None:
    """The guarded move of a side's marks: None if the guard no longer held under the lock."""
    return connection().execute(statement, parameters).first()


def _lock(conversation_id: int) -> Row:
    """Take the row lock without writing the log; the row under it."""
    return _execute(update_statement(()), conversation_id, {})


def _update(conversation_id: int, **values: Any) -> Row:
    """UPDATE the row (taking its lock) to `values`; all of it under the lock."""
    return _execute(update_statement(tuple(values)), conversation_id, values)


def _take_seq(
    conversation_id: int, *, text: bool, from_visitor: bool, closes: bool = False, **also: Any
) -> Row:
    """Take the lock and the log's next seq (the row's new `last_seq`), setting `also` too.

    The counters of the conversation's shape move in the same statement: the newest text
    entry, and the visitor's text entries (for unread).
    """
    statement = update_statement(
        tuple(also), advance=True, text=text, from_visitor=from_visitor, closes=closes
    )
    return _execute(statement, conversation_id, {**also, "now": utcnow()})


def _execute(statement: Update, conversation_id: int, values: dict[str, Any]) -> Row:
    parameters = {f"new_{name}": value for name, value in values.items()}
    parameters["conversation_id"] = conversation_id
    row = connection().execute(statement, parameters).first()
    if row is None:
        raise NotFound("No such conversation.")
    return row
