"""agents, assignment, read marks and counters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 22:42:33.177688

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('last_text_seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('visitor_messages', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('agent_read_messages', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('visitor_read_seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('first_reply_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_reply_ms', sa.Integer(), nullable=True))
        batch_op.create_index('ix_conversations_closed_at', ['closed_at'], unique=False)
        batch_op.create_index('ix_conversations_first_reply_at', ['first_reply_at'], unique=False)
        batch_op.create_foreign_key('fk_conversations_agent_id', 'agents', ['agent_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_created_at', ['created_at'], unique=False)

    # Existing logs: derive the counters the domain now keeps in the locking UPDATE.
    op.execute("""
        UPDATE conversations SET
          version = last_seq + 1,
          last_text_seq = COALESCE((SELECT MAX(m.seq) FROM messages m
              WHERE m.conversation_id = conversations.id AND m.kind = 'text'), 0),
          visitor_messages = (SELECT COUNT(*) FROM messages m
              WHERE m.conversation_id = conversations.id AND m.sender = 'visitor'
                AND m.kind = 'text'),
          agent_read_messages = (SELECT COUNT(*) FROM messages m
              WHERE m.conversation_id = conversations.id AND m.sender = 'visitor'
                AND m.kind = 'text' AND m.seq <= conversations.agent_read_seq)
    """)
    # The server defaults only filled existing rows; the models set every value.
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        for column in ('version', 'last_text_seq', 'visitor_messages',
                       'agent_read_messages', 'visitor_read_seq'):
            batch_op.alter_column(column, server_default=None)


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_created_at')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_conversations_agent_id', type_='foreignkey')
        batch_op.drop_index('ix_conversations_first_reply_at')
        batch_op.drop_index('ix_conversations_closed_at')
        batch_op.drop_column('first_reply_ms')
        batch_op.drop_column('first_reply_at')
        batch_op.drop_column('visitor_read_seq')
        batch_op.drop_column('agent_read_messages')
        batch_op.drop_column('visitor_messages')
        batch_op.drop_column('last_text_seq')
        batch_op.drop_column('version')
        batch_op.drop_column('agent_id')

    op.drop_table('agents')
