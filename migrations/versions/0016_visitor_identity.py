"""signed visitor identity: a conversation's verified visitor id, and the tokens of the
further browsers a verified visitor opened it in

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitor_identity", sa.String(length=255), nullable=True))
        batch_op.create_index("ix_conversations_visitor_identity", ["visitor_identity"])
    op.create_table(
        "visitor_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_visitor_tokens_conversation_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(
        "ix_visitor_tokens_conversation_id", "visitor_tokens", ["conversation_id"]
    )


def downgrade():
    op.drop_index("ix_visitor_tokens_conversation_id", table_name="visitor_tokens")
    op.drop_table("visitor_tokens")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_visitor_identity")
        batch_op.drop_column("visitor_identity")
