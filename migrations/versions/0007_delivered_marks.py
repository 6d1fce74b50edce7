"""delivered marks: how far each side's client has received the log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_delivered_seq', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('visitor_delivered_seq', sa.Integer(), nullable=False,
                                      server_default='0'))
    # Seen implies delivered: what a side has read, its client had.
    op.execute("""
        UPDATE conversations SET
          agent_delivered_seq = agent_read_seq,
          visitor_delivered_seq = visitor_read_seq
    """)
    # The server defaults only filled existing rows; the models set every value.
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        for column in ('agent_delivered_seq', 'visitor_delivered_seq'):
            batch_op.alter_column(column, server_default=None)


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('visitor_delivered_seq')
        batch_op.drop_column('agent_delivered_seq')
