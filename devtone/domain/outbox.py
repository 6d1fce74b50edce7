"""The outbox of e-mails to visitors: rows queued in the transaction that decided them,
taken by the one elected sender (mail_out.py), marked sent only after the mail server
took them, and retried with a growing wait while it will not. Nothing is lost in an
outage; a row is sent once (one sender at a time, and its Message-ID names the row, so
a retry after an unrecorded success is one message to the receiving server too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from devtone.domain.models import REPLY_SENDERS, Conversation, Message, OutgoingMail, utcnow
from devtone.domain.shapes import rating_json
from devtone.extensions import db

#: The longest wait between two tries of one e-mail.
RETRY_MAX_SECONDS = 3600.0
#: E-mails taken in one round.
BATCH = 20
#: An e-mail not sent this long after it was queued is given up: mail servers keep a
#: message five days before they bounce it (Postfix's maximal_queue_lifetime), and
#: replies that late are news to no one.
GIVE_UP_AFTER = timedelta(days=5)


@dataclass(frozen=True)
class Entry:
    """One message an e-mail quotes."""

    seq: int
    sender: str
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Letter:
    """An e-mail due, with what it says: the conversation's messages it carries."""

    id: int
    kind: str  # "replies" or "transcript"
    conversation_id: int
    recipient: str
    visitor_name: str
    language: str
    attempts: int
    entries: list[Entry]
    #: The conversation is closed and that closing not rated: the e-mail asks for a rating.
    rating_due: bool = False


def queue(conversation: Conversation, kind: str, after_seq: int, through_seq: int) -> None:
    """Add an e-mail to the outbox, inside the caller's transaction (which commits)."""
    db.session.add(
        OutgoingMail(
            conversation_id=conversation.id,
            kind=kind,
            recipient=conversation.visitor_email,
            language=conversation.visitor_language or "en",
            after_seq=after_seq,
            through_seq=through_seq,
            attempts=0,
            next_attempt_at=utcnow(),
        )
    )


def due(now: datetime | None = None, limit: int = BATCH) -> list[Letter]:
    """The e-mails whose turn has come, oldest first, with the messages they carry.

    E-mails of a conversation whose visitor unsubscribed since are dropped; a batch of
    replies the visitor has all seen since is too (they read them in the chat), and one
    queued longer than GIVE_UP_AFTER ago.
    """
    now = now or utcnow()
    try:
        rows = db.session.execute(
            select(OutgoingMail, Conversation)
            .join(Conversation, Conversation.id == OutgoingMail.conversation_id)
            .where(
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.given_up_at.is_(None),
                OutgoingMail.next_attempt_at <= now,
            )
            .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
            .limit(limit)
        ).all()
        letters = []
        for mail, conversation in rows:
            reason = _reason_to_give_up(mail, conversation, now)
            if reason is not None:
                mail.given_up_at = now
                mail.last_error = reason[:200]
                continue
            letters.append(_letter(mail, conversation))
        db.session.commit()
        return letters
    finally:
        db.session.close()


def _reason_to_give_up(mail: OutgoingMail, conversation: Conversation, now: datetime) -> str | None:
    """Why the e-mail should not go any more, if it should not."""
    if mail.kind == "replies" and conversation.visitor_read_seq >= mail.through_seq:
        return "seen in the chat"
    if conversation.email_stopped_at is not None:
        return "unsubscribed"
    if mail.created_at <= now - GIVE_UP_AFTER:
        return f"not sent in {GIVE_UP_AFTER.days} days: {mail.last_error or ''}"
    return None


def _letter(mail: OutgoingMail, conversation: Conversation) -> Letter:
    senders = REPLY_SENDERS if mail.kind == "replies" else (*REPLY_SENDERS, "visitor")
    messages = db.session.scalars(
        select(Message)
        .where(
            Message.conversation_id == mail.conversation_id,
            Message.seq > mail.after_seq,
            Message.seq <= mail.through_seq,
            Message.kind == "text",
            Message.sender.in_(senders),
        )
        .order_by(Message.seq)
    ).all()
    entries = [Entry(m.seq, m.sender, m.author_name, m.body, m.created_at) for m in messages]
    return Letter(
        mail.id,
        mail.kind,
        mail.conversation_id,
        mail.recipient,
        conversation.visitor_name,
        mail.language,
        mail.attempts,
        entries,
        rating_due=conversation.status == "closed" and rating_json(conversation) is None,
    )


def sent(letter_id: int) -> None:
    """The mail server took the e-mail: never send it again."""
    _set(letter_id, sent_at=utcnow(), last_error=None)


def not_sent(letter_id: int, attempts: int, error: str, first_wait: float, final: bool) -> None:
    """The e-mail did not go: try again after a wait that doubles with each try (from
    `first_wait` seconds up to RETRY_MAX_SECONDS), or never when the failure is `final`
    (the server refused the address)."""
    now = utcnow()
    wait = min(first_wait * 2**attempts, RETRY_MAX_SECONDS)
    _set(
        letter_id,
        attempts=attempts + 1,
        next_attempt_at=now + timedelta(seconds=wait),
        last_error=error[:200],
        **({"given_up_at": now} if final else {}),
    )


def _set(letter_id: int, **values: object) -> None:
    try:
        db.session.execute(update(OutgoingMail).where(OutgoingMail.id == letter_id).values(values))
        db.session.commit()
    finally:
        db.session.close()
