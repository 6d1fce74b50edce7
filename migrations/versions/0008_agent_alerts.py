"""agent alerts: which alerts each agent wants, and their quiet mode

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'agent_alerts',
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('sound', sa.Boolean(), nullable=False),
        sa.Column('desktop', sa.Boolean(), nullable=False),
        sa.Column('badge', sa.Boolean(), nullable=False),
        sa.Column('quiet', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name='fk_agent_alerts_agent_id',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('agent_id'),
    )


def downgrade():
    op.drop_table('agent_alerts')
