"""The full-text index behind GET /api/search, on each engine.

SQLite: an FTS5 table over `messages.body` (external content: it stores only the index),
kept in step by triggers, so every write path is covered, however it inserts. PostgreSQL:
a stored generated column `messages.search_vector` (`to_tsvector(<language>, body)`) with
a GIN index: stored, so ranking reads the vectors instead of parsing every matching body
again. Both cover the entries people write (text and notes); status and label entries
are not searched. PostgreSQL's parser leaves what looks like an HTML tag (`<img …>`) out
of the vector; FTS5 indexes its words.

Made by the migration (0013) for deployments and by `db.create_all()` (tests, `make run`'s
first start) through the listener below; the SQL is the same.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event

from devtone.domain.models import Message

#: Kinds of entry that are searched: what a person wrote.
SEARCHED_KINDS = ("text", "note")
DEFAULT_LANGUAGE = "portuguese"
_KINDS_SQL = "('text', 'note')"

SQLITE_CREATE = (
    # unicode61 with remove_diacritics 2: "nao" finds "não", "ACAO" finds "ação".
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.kind IN ('text', 'note')"
    " BEGIN INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.kind IN ('text', 'note')"
    " BEGIN INSERT INTO messages_fts (messages_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body); END",
    # Entries are not edited today; an edit must not leave the index lying.
    "CREATE TRIGGER messages_fts_unindex AFTER UPDATE OF body, kind ON messages"
    " WHEN old.kind IN ('text', 'note') BEGIN INSERT INTO messages_fts (messages_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER messages_fts_reindex AFTER UPDATE OF body, kind ON messages"
    " WHEN new.kind IN ('text', 'note')"
    " BEGIN INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS messages_fts_reindex",
    "DROP TRIGGER IF EXISTS messages_fts_unindex",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
)
PG_INDEX = "ix_messages_search"
PG_COLUMN = "search_vector"
# The visitor's name and address as words ('simple': names are not stemmed; the default
# parser keeps an address as one word).
PG_VISITOR_INDEX = "ix_conversations_visitor_search"
PG_VISITOR_COLUMN = "visitor_vector"
PG_VISITOR_CREATE = (
    f"ALTER TABLE conversations ADD COLUMN {PG_VISITOR_COLUMN} tsvector GENERATED ALWAYS AS"
    " (to_tsvector('simple'::regconfig, visitor_name || ' ' || coalesce(visitor_email, '')))"
    " STORED",
    f"CREATE INDEX {PG_VISITOR_INDEX} ON conversations USING gin ({PG_VISITOR_COLUMN})",
)


def postgresql_create(language: str) -> tuple[str, str]:
    """The vector column in `language` (a regconfig name) and its GIN index."""
    return (
        f"ALTER TABLE messages ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS"
        f" (to_tsvector('{language}'::regconfig, body)) STORED",
        f"CREATE INDEX {PG_INDEX} ON messages USING gin ({PG_COLUMN})"
        " WHERE kind IN ('text', 'note')",
    )


def in_models(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's `include_object`: the index's objects are made by hand, not by models."""
    made_by_hand = ("messages_fts", PG_INDEX, PG_COLUMN, PG_VISITOR_INDEX, PG_VISITOR_COLUMN)
    return not (name or "").startswith(made_by_hand)


def _language() -> str:
    if has_app_context():
        return current_app.config.get("SEARCH_LANGUAGE", DEFAULT_LANGUAGE)
    return DEFAULT_LANGUAGE


def register() -> None:
    """Make `db.create_all()` build the index and `db.drop_all()` drop it (once per process)."""
    table = Message.__table__
    if not event.contains(table, "after_create", _create):
        event.listen(table, "after_create", _create)
        event.listen(table, "before_drop", _drop)


def _create(target: Any, connection: Any, **kw: Any) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_CREATE:
            connection.exec_driver_sql(statement)
    elif connection.dialect.name == "postgresql":
        for statement in postgresql_create(_language()):
            connection.exec_driver_sql(statement)
        # Conversations are created before messages (the foreign key): already there.
        for statement in PG_VISITOR_CREATE:
            connection.exec_driver_sql(statement)


def _drop(target: Any, connection: Any, **kw: Any) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            connection.exec_driver_sql(statement)
