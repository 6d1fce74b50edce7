"""client_id is unique per sender, and an agent's messages say which agent wrote them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 10:40:00

A visitor and an agent who happened to send the same client_id collided: the second got
the first one's message back and its own text was never stored.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_messages_agent_id', 'agents', ['agent_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.drop_constraint('uq_messages_conversation_client_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_messages_conversation_sender_client_id',
            ['conversation_id', 'sender', 'client_id'],
        )


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_messages_conversation_sender_client_id', type_='unique')
        # Two senders' equal client_ids cannot both stay under the old constraint.
        batch_op.execute(
            "UPDATE messages SET client_id = NULL WHERE sender = 'agent' AND client_id IN"
            " (SELECT v.client_id FROM messages v WHERE v.sender = 'visitor'"
            " AND v.conversation_id = messages.conversation_id)"
        )
        batch_op.create_unique_constraint(
            'uq_messages_conversation_client_id', ['conversation_id', 'client_id']
        )
        batch_op.drop_constraint('fk_messages_agent_id', type_='foreignkey')
        batch_op.drop_column('agent_id')
