"""Which conversations owe their visitor an e-mail: agent replies left unseen for a
while (batched: every unseen reply in one e-mail, never one twice), or a transcript the
visitor asked for."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from devtone.domain import conversations, outbox
from devtone.domain.models import REPLY_SENDERS, Conversation, Message, utcnow
from devtone.errors import Invalid
from devtone.extensions import db


def queue_unseen_replies(after_seconds: float, now: datetime | None = None) -> int:
    """Queue one e-mail for each conversation whose oldest agent reply not yet seen nor
    e-mailed is `after_seconds` old, holding every such reply; return how many.

    Only where the visitor gave an address and did not unsubscribe. The conversation's
    `emailed_seq` moves to the last reply queued, in the same transaction, so a reply is
    never queued twice (and a round that raced this one queues nothing).
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=after_seconds)
    unseen = (
        Message.conversation_id == Conversation.id,
        Message.kind == "text",
        Message.sender.in_(REPLY_SENDERS),
        Message.seq > Conversation.emailed_seq,
        Message.seq > Conversation.visitor_read_seq,
    )
    owed = (
        select(Conversation.id, func.max(Message.seq))
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            Conversation.visitor_email.is_not(None),
            Conversation.email_stopped_at.is_(None),
            *unseen,
        )
        .group_by(Conversation.id)
        .having(func.min(Message.created_at) <= cutoff)
        .limit(100)
    )
    queued = 0
    try:
        for conversation_id, through_seq in db.session.execute(owed).all():
            conversation = db.session.get(Conversation, conversation_id)
            after_seq = max(conversation.emailed_seq, conversation.visitor_read_seq)
            moved = db.session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.emailed_seq == conversation.emailed_seq,
                )
                .values(emailed_seq=through_seq)
            ).rowcount
            if moved:
                outbox.queue(conversation, "replies", after_seq, through_seq)
                queued += 1
        db.session.commit()
    finally:
        db.session.close()
    return queued


def queue_transcript(conversation_id: int, caller: conversations.Caller) -> str:
    """Queue the whole conversation, by e-mail, to the address its visitor gave; return
    that address (Invalid when they gave none or unsubscribed)."""
    try:
        conversation = conversations.load(conversation_id, caller)
        if not conversation.visitor_email:
            raise Invalid(
                "No e-mail address was given for this conversation.",
                field="email",
                code="no_email",
            )
        if conversation.email_stopped_at is not None:
            raise Invalid(
                "E-mails about this conversation were stopped.", field="email", code="unsubscribed"
            )
        outbox.queue(conversation, "transcript", 0, conversation.last_seq)
        address = conversation.visitor_email
        db.session.commit()
        return address
    finally:
        db.session.close()
