"""note mentions: which agents a conversation's private notes mentioned, and at which seq
(agents only; the visitor's view never carries it)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mentions', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('mentions')
