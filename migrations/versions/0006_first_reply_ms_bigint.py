"""a first reply may take longer than 24.8 days: first_reply_ms as a 64-bit integer

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column('first_reply_ms', existing_type=sa.Integer(), type_=sa.BigInteger(),
                              existing_nullable=True)


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column('first_reply_ms', existing_type=sa.BigInteger(), type_=sa.Integer(),
                              existing_nullable=True)
