"""The statements of the log's write path (log_writer.py), built once.

Building and cache-keying a statement cost more CPU than SQLite took to run it, so each
is built at import, or once per shape (`functools.cache`). Core, not the ORM, for the
same reason: a post is a handful of statements, and the unit of work cost more than the
database. Every UPDATE of the conversation's row takes its lock (DESIGN.md §1) and
returns the row under it, with the assigned agent's name.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Insert, Select, Update, and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from devtone.domain.models import Agent, Conversation, Message

_conversations = Conversation.__table__
_entries = Message.__table__
# The assigned agent's name comes back with the row, for the conversation's shape.
AGENT_NAME = (
    select(Agent.name).where(Agent.id == _conversations.c.agent_id).scalar_subquery()
).label("agent_name")


@functools.cache
def update_statement(
    names: tuple[str, ...],
    *,
    advance: bool = False,
    text: bool = False,
    from_visitor: bool = False,
    closes: bool = False,
) -> Update:
    """The UPDATE … RETURNING that locks the row, setting `names` from :new_<name>; with
    `advance`, it takes the log's next seq (and moves the counters the entry implies)."""
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
        if closes:  # closed at the time of the entry that says so
            values["closed_at"] = values["updated_at"]
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
        .returning(*table.c, AGENT_NAME)
    )


@functools.cache
def insert_statement(dialect: str, keeps_stored: bool) -> Insert:
    """The INSERT … RETURNING of an entry; `keeps_stored`: one with a client_id, stored
    only if its sender has not stored that one (ON CONFLICT DO NOTHING returns no row)."""
    statement = _entries.insert()
    if keeps_stored:
        # Both of devtone's databases say "ON CONFLICT … DO NOTHING", each in its dialect.
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(_entries).on_conflict_do_nothing(
            index_elements=["conversation_id", "sender", "client_id"]
        )
    return statement.returning(*_entries.c)


def raised(column: Any, to: str) -> Any:
    """`column` raised to the bound `to` if that is higher (marks never move back)."""
    return case((column < bindparam(to), bindparam(to)), else_=column)


def marks_statement(side: str, *guards: Any, **also: Any) -> Update:
    """Raise a side's delivered and seen marks to :delivered and :seen where either is
    below (and `guards` hold), under the lock; the version moves with them."""
    table = _conversations
    delivered, seen = table.c[f"{side}_delivered_seq"], table.c[f"{side}_read_seq"]
    below = or_(delivered < bindparam("delivered"), seen < bindparam("seen"))
    return (
        update(table)
        .where(and_(table.c.id == bindparam("conversation_id"), below, *guards))
        .values(
            {
                delivered: raised(delivered, "delivered"),
                seen: raised(seen, "seen"),
                table.c.version: table.c.version + 1,
                **also,
            }
        )
        .returning(*table.c, AGENT_NAME)
    )


ROW: Select = select(*_conversations.c, AGENT_NAME).where(_conversations.c.id == bindparam("id"))
AGENT: Select = select(Agent.name, Agent.active).where(Agent.id == bindparam("id"))
ENTRY: Select = select(*_entries.c).where(
    _entries.c.conversation_id == bindparam("id"), _entries.c.seq == bindparam("seq")
)
BY_CLIENT_ID: Select = select(*_entries.c).where(
    _entries.c.conversation_id == bindparam("id"),
    _entries.c.sender == bindparam("sender"),
    _entries.c.client_id == bindparam("client_id"),
)
MOVE_VISITOR_MARKS = marks_statement("visitor")
# The agent side's seen mark counts the visitor's text entries it covers, for unread.
MOVE_AGENT_MARKS = marks_statement(
    "agent",
    or_(_conversations.c.agent_id.is_(None), _conversations.c.agent_id == bindparam("caller")),
    agent_read_messages=(
        select(func.count())
        .select_from(_entries)
        .where(
            _entries.c.conversation_id == _conversations.c.id,
            _entries.c.kind == "text",
            _entries.c.sender == "visitor",
            _entries.c.seq <= raised(_conversations.c.agent_read_seq, "seen"),
        )
        .scalar_subquery()
    ),
)
