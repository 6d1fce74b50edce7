"""Erasing a visitor's data: on request (by e-mail), and by the retention rule.

An erased conversation stays as an anonymous shell, so the statistics still count it: its
status, times, counters, agent, labels, the log's entries (kind, sender, time) and the
rating's score are kept. Gone are what the visitor wrote or was written (every text and
note body, both sides: a reply quotes the visitor), their files (store and rows), the
files' descriptions on the entries, their name (now ERASED_NAME, on the conversation and
on their entries), their address, their language, the e-mails to them, the rating's
comment, the notes' mentions, the site's id of the visitor and the webhook events about
it. Their tokens (every browser's) and links open nothing any more
(visitors.ERASED_TOKEN_HASH), nor does a reply by e-mail. The search index follows the
bodies (triggers on SQLite, a generated column on PostgreSQL: search_index.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from devtone.domain import announce, attachments, audit, conversations, visitor_data, visitors
from devtone.domain.models import (
    Conversation,
    Message,
    OutgoingMail,
    Rating,
    VisitorToken,
    WebhookEvent,
    utcnow,
)
from devtone.extensions import db
from devtone.file_store import FileStore

log = logging.getLogger(__name__)

#: What an erased visitor is called, on the conversation and on their entries.
ERASED_NAME = "Erased visitor"
#: Kinds of entry whose body is someone's words (status and label entries are devtone's).
WRITTEN_KINDS = ("text", "note")
#: Conversations the retention rule erases in one run at most (the next run goes on).
RETENTION_BATCH = 1000


def erase_visitor(
    email: object, actor: audit.Actor, store: FileStore, identity: object = None
) -> dict[str, Any]:
    """Erase every conversation of the visitor named by `email` or `identity`; return how
    many and the files deleted (Invalid when neither names one: visitor_data.subject).
    Audited as done by `actor`, also when nothing matched; asking again finds nothing
    left to erase."""
    who = visitor_data.subject(email, identity)
    erased, files = [], 0
    try:
        for conversation_id in visitor_data.conversation_ids(who):
            deleted = erase_conversation(conversation_id, store)
            if deleted is not None:
                erased.append(conversation_id)
                files += deleted
    finally:
        # Each conversation commits on its own: what was erased before a failure is in
        # the log too (the failure then reaches the caller, who may ask again).
        summary = {"conversations": len(erased), "files": files}
        audit.record(actor, "visitor.erase", who.audit_target, summary | {"ids": erased})
    return summary


def erase_expired(
    days: int, store: FileStore, now: datetime | None = None, limit: int = RETENTION_BATCH
) -> list[int]:
    """The retention rule: erase the conversations closed more than `days` days ago (at
    most `limit`, oldest first); return their ids, audited as devtone's own act."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    try:
        expired = list(
            db.session.scalars(
                select(Conversation.id)
                .where(
                    Conversation.status == "closed",
                    Conversation.closed_at < cutoff,
                    Conversation.erased_at.is_(None),
                )
                .order_by(Conversation.closed_at, Conversation.id)
                .limit(limit)
            )
        )
    finally:
        db.session.close()
    erased = []
    for conversation_id in expired:
        try:
            # A conversation reopened since it was listed is no longer closed: passed over.
            if erase_conversation(conversation_id, store, closed_before=cutoff) is not None:
                erased.append(conversation_id)
        except Exception:
            # One that cannot be erased now (its files' store failing) must not stop every
            # later one, run after run: it is tried again tomorrow.
            log.exception(
                "retention: conversation %d not erased; tried again next run", conversation_id
            )
    if erased:
        audit.record(
            audit.SYSTEM, "retention.erase", f"closed before {cutoff.date().isoformat()}",
            {"days": days, "conversations": len(erased), "ids": erased},
        )  # fmt: skip
    return erased


def erase_conversation(
    conversation_id: int, store: FileStore, closed_before: datetime | None = None
) -> int | None:
    """Erase the conversation's visitor data (docstring above); return how many files went,
    or None when there was nothing to do (erased already, gone, or, with `closed_before`,
    not closed before then any more)."""
    now = utcnow()
    guard = [Conversation.id == conversation_id, Conversation.erased_at.is_(None)]
    if closed_before is not None:
        guard += [Conversation.status == "closed", Conversation.closed_at < closed_before]
    try:
        # The conversation's row first: its lock (the log's, log_writer.py) makes a post
        # racing this one either commit before (and be erased) or find it erased after.
        shell = db.session.execute(
            update(Conversation)
            .where(*guard)
            .values(
                erased_at=now,
                visitor_name=ERASED_NAME,
                visitor_email=None,
                visitor_identity=None,
                visitor_token_hash=visitors.ERASED_TOKEN_HASH,
                link_token_hash=None,
                visitor_language=None,
                email_stopped_at=func.coalesce(Conversation.email_stopped_at, now),
                rating_comment=None,
                mentions=None,
                # A change like any other: dashboards replace what they show of it.
                version=Conversation.version + 1,
            )
        ).rowcount
        if not shell:
            db.session.rollback()
            return None
        of_it = Message.conversation_id == conversation_id
        db.session.execute(
            update(Message)
            .where(of_it, Message.kind.in_(WRITTEN_KINDS))
            .values(body="", attachment=None)
        )
        db.session.execute(
            update(Message)
            .where(of_it, Message.sender == "visitor")
            .values(author_name=ERASED_NAME)
        )
        db.session.execute(
            update(Rating).where(Rating.conversation_id == conversation_id).values(comment=None)
        )
        db.session.execute(
            delete(OutgoingMail).where(OutgoingMail.conversation_id == conversation_id)
        )
        # The tokens further browsers of a signed visitor held open nothing now either.
        db.session.execute(
            delete(VisitorToken).where(VisitorToken.conversation_id == conversation_id)
        )
        # Webhook events carry copies of the visitor's name, address and words: an event
        # not delivered yet is not delivered at all (its deliveries go with it).
        db.session.execute(
            delete(WebhookEvent).where(WebhookEvent.conversation_id == conversation_id)
        )
    except BaseException:
        db.session.rollback()
        db.session.close()
        raise
    # Deletes the files, then their rows, and commits the whole erasure with them: a file
    # whose deletion failed leaves the conversation as it was, to be erased again.
    files = attachments.erase_files(conversation_id, store)
    _announce(conversation_id)
    return files


def _announce(conversation_id: int) -> None:
    """Tell the conversation's readers (the dashboards) it changed: they show the shell."""
    try:
        shaped = conversations.shape(db.session.get(Conversation, conversation_id))
    finally:
        db.session.close()
    announce.changes(conversation_id, shaped, [])
