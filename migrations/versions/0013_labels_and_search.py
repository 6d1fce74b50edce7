"""labels and search: labels admins define, the labels on each conversation (a join
table, and their names on the conversation's row), and the full-text index of what
people write (SQLite FTS5 with triggers; on PostgreSQL a stored tsvector column with a GIN index)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:30:00
"""
import os
import re

from alembic import op
import sqlalchemy as sa


revision = '0013'
# After 0012 (attachments), which alters messages: on SQLite a batch copy of messages
# would drop the FTS triggers made here, so no later migration may rebuild that table
# without making them again.
down_revision = '0012'
branch_labels = None
depends_on = None

_KINDS = "('text', 'note')"
# Same statements as devtone/domain/search_index.py (revisions do not import devtone).
SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.kind IN {_KINDS}"
    " BEGIN INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body); END",
    f"CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.kind IN {_KINDS}"
    " BEGIN INSERT INTO messages_fts (messages_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body); END",
    f"CREATE TRIGGER messages_fts_unindex AFTER UPDATE OF body, kind ON messages"
    f" WHEN old.kind IN {_KINDS} BEGIN INSERT INTO messages_fts (messages_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body); END",
    f"CREATE TRIGGER messages_fts_reindex AFTER UPDATE OF body, kind ON messages"
    f" WHEN new.kind IN {_KINDS}"
    " BEGIN INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body); END",
    # The messages written before this revision.
    f"INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE kind IN {_KINDS}",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS messages_fts_reindex",
    "DROP TRIGGER IF EXISTS messages_fts_unindex",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
)


def _language():
    # The app reads the same setting for its queries (devtone/config.py).
    language = os.environ.get("DEVTONE_SEARCH_LANGUAGE", "").strip() or "portuguese"
    if not re.fullmatch(r"[a-z_]{1,63}", language):
        raise ValueError(f"DEVTONE_SEARCH_LANGUAGE={language!r} is not a configuration name")
    return language


def upgrade():
    op.create_table(
        'labels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('name_key', sa.String(length=40), nullable=False),
        sa.Column('colour', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name_key'),
    )
    op.create_table(
        'conversation_labels',
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('label_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name='fk_conversation_labels_conversation_id',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['label_id'], ['labels.id'],
                                name='fk_conversation_labels_label_id', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('conversation_id', 'label_id'),
    )
    op.create_index('ix_conversation_labels_label_id', 'conversation_labels', ['label_id'])
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('labels', sa.Text(), nullable=False, server_default='[]'))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column('labels', server_default=None)
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_CREATE:
            op.execute(statement)
    else:
        # Stored: ranking reads the vectors instead of parsing each matching body again.
        op.execute(
            "ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
            f" (to_tsvector('{_language()}'::regconfig, body)) STORED"
        )
        op.execute(
            "CREATE INDEX ix_messages_search ON messages USING gin (search_vector)"
            f" WHERE kind IN {_KINDS}"
        )
        # The visitor's name and address as words ('simple': names are not stemmed).
        op.execute(
            "ALTER TABLE conversations ADD COLUMN visitor_vector tsvector GENERATED ALWAYS AS"
            " (to_tsvector('simple'::regconfig, visitor_name || ' ' || coalesce(visitor_email, '')))"
            " STORED"
        )
        op.execute(
            "CREATE INDEX ix_conversations_visitor_search ON conversations USING gin (visitor_vector)"
        )


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_DROP:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_search")
        op.execute("ALTER TABLE messages DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP INDEX IF EXISTS ix_conversations_visitor_search")
        op.execute("ALTER TABLE conversations DROP COLUMN IF EXISTS visitor_vector")
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('labels')
    op.drop_index('ix_conversation_labels_label_id', table_name='conversation_labels')
    op.drop_table('conversation_labels')
    op.drop_table('labels')
