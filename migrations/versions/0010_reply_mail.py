"""reply mail: the outbox of e-mails to visitors, the sender's lease, and what a
conversation needs to e-mail its unseen replies (language, how far it was e-mailed, a
stop, the token of a browser reopened from an e-mailed link)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 20:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
# Written beside 0008 (issue 18 §1); re-chained after 0009 when main was merged in.
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor_language', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('emailed_seq', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('email_stopped_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('link_token_hash', sa.String(length=64), nullable=True))
    # Replies older than this revision are never e-mailed: their visitors were not told
    # that devtone would.
    op.execute("UPDATE conversations SET emailed_seq = last_seq")
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column('emailed_seq', server_default=None)
    op.create_table(
        'outgoing_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('after_seq', sa.Integer(), nullable=False),
        sa.Column('through_seq', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('given_up_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name='fk_outgoing_mail_conversation_id', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_outgoing_mail_due', 'outgoing_mail',
                    ['sent_at', 'given_up_at', 'next_attempt_at'])
    op.create_table(
        'leases',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('holder', sa.String(length=120), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('leases')
    op.drop_index('ix_outgoing_mail_due', table_name='outgoing_mail')
    op.drop_table('outgoing_mail')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('link_token_hash')
        batch_op.drop_column('email_stopped_at')
        batch_op.drop_column('emailed_seq')
        batch_op.drop_column('visitor_language')
