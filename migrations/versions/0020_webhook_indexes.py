"""webhook indexes: a conversation's events (erasure deletes them) and an event's
deliveries (deleting an event cascades to them; PostgreSQL would scan the table)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:05:00
"""

from alembic import op


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_webhook_events_conversation_id", "webhook_events", ["conversation_id"]
    )
    op.create_index("ix_webhook_deliveries_event_id", "webhook_deliveries", ["event_id"])


def downgrade():
    op.drop_index("ix_webhook_deliveries_event_id", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_events_conversation_id", table_name="webhook_events")
