"""presence and office hours: agents' dashboard presence and the deployment's hours

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 20:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("present_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("active_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("away", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The server default only filled existing rows; the model sets every value.
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.alter_column("away", server_default=None)
    op.create_table(
        "office_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("days", sa.Text(), nullable=False),
        sa.Column("holidays", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade():
    op.drop_table("office_hours")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("away")
        batch_op.drop_column("active_at")
        batch_op.drop_column("present_at")
