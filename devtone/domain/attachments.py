"""Files sent in a conversation: an upload is a message of the log, carrying the file.

The file is examined (attachment_content.py), written to the file store, then its message
is posted the way a text message is (log_writer.post: one seq, idempotent on client_id,
on every tier); the attachment's row goes in the same transaction. If the message is not
stored (refused, a repeat, a failure) the file is deleted again: nothing is left of an
upload that did not become a message. The store is passed in, as the broker is.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any, BinaryIO

from sqlalchemy import delete, insert, select

from devtone import metrics
from devtone.domain import attachment_content, conversations, fields, log_writer, visitors
from devtone.domain.agents import AgentIdentity
from devtone.domain.log_writer import Written
from devtone.domain.models import Attachment, Conversation, Message, isoformat, utcnow
from devtone.domain.shapes import message_json
from devtone.errors import NotFound
from devtone.extensions import db
from devtone.file_store import FileStore

# What secrets.token_urlsafe(16) makes; any other id names no file.
_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")


def attach_file(
    conversation_id: int,
    caller: conversations.Caller,
    data: bytes,
    name: object,
    client_id: object,
    store: FileStore,
    size_limit: int,
) -> tuple[dict[str, Any], bool]:
    """Send `data` as a message of the conversation; return the message and whether it is new.

    The same `client_id` again answers with the stored message (and stores nothing). A
    closed conversation takes a visitor's file (it reopens) but not an agent's, as with text.
    """
    client_id = fields.clean_client_id(client_id)
    stored = _stored(conversation_id, caller, client_id)
    if stored is not None:  # a retry of an upload that was stored: never examined twice
        return stored, False
    examined = attachment_content.examine(data, name, size_limit)
    attachment_id = secrets.token_urlsafe(16)
    key = _key(conversation_id, attachment_id)
    attachment = {
        "id": attachment_id,
        "name": examined.name,
        "size": len(examined.data),
        "content_type": examined.content_type,
    }
    store.put(key, examined.data)
    try:
        shaped, written = conversations.write(
            conversation_id, _post_file, caller, examined.name, client_id, attachment
        )
    except BaseException:
        # Only a file no committed row names goes: the write may have failed after its
        # commit (a worker killed while it announced), and then the message holds the file.
        if not _committed(attachment_id):
            store.delete(key)
        raise
    if not written.changed:  # the same upload, stored by a racing retry: keep only that one
        store.delete(key)
        return shaped.answer, False
    metrics.MESSAGES_POSTED.inc()
    return shaped.answer, True


def _committed(attachment_id: str) -> bool:
    try:
        return db.session.get(Attachment, attachment_id) is not None
    except Exception:
        return True  # the database cannot say: keep the file rather than risk a dead link
    finally:
        db.session.close()


def open_file(
    conversation_id: int, attachment_id: str, caller: conversations.Caller, store: FileStore
) -> tuple[dict[str, Any], BinaryIO]:
    """The attachment's `{name, size, content_type}` and its bytes, for a caller allowed
    to read the conversation (NotFound otherwise, as for a file that does not exist)."""
    if not _ID_SHAPE.fullmatch(attachment_id):
        raise NotFound("No such file.")
    try:
        row = db.session.execute(
            select(
                Attachment.name,
                Attachment.size,
                Attachment.content_type,
                Conversation.visitor_token_hash,
                Conversation.link_token_hash,
            )
            .join(Conversation, Conversation.id == Attachment.conversation_id)
            .where(Attachment.id == attachment_id, Attachment.conversation_id == conversation_id)
        ).first()
        if row is None:
            raise NotFound("No such file.")
        visitors.check_access(caller, conversation_id, row.visitor_token_hash, row.link_token_hash)
    finally:
        db.session.close()
    try:
        file = store.open(_key(conversation_id, attachment_id))
    except FileNotFoundError:
        raise NotFound("No such file.") from None
    return {"name": row.name, "size": row.size, "content_type": row.content_type}, file


def stored_files(conversation_id: int) -> list[dict[str, Any]]:
    """The conversation's files `{id, name, size, content_type, created_at}`, oldest first,
    for devtone itself (an export): no caller to check."""
    try:
        rows = db.session.execute(
            select(
                Attachment.id,
                Attachment.name,
                Attachment.size,
                Attachment.content_type,
                Attachment.created_at,
            )
            .where(Attachment.conversation_id == conversation_id)
            .order_by(Attachment.created_at, Attachment.id)
        ).all()
    finally:
        db.session.close()
    return [
        {
            "id": row.id,
            "name": row.name,
            "size": row.size,
            "content_type": row.content_type,
            "created_at": isoformat(row.created_at),
        }
        for row in rows
    ]


def open_stored(conversation_id: int, attachment_id: str, store: FileStore) -> BinaryIO:
    """The bytes of one of `stored_files` (FileNotFoundError if the store lost them)."""
    return store.open(_key(conversation_id, attachment_id))


def erase_files(conversation_id: int, store: FileStore) -> int:
    """Delete every file of the conversation, from the store and the database; return how
    many. What erases a conversation (or a visitor's data) calls this first."""
    try:
        ids = db.session.scalars(
            select(Attachment.id).where(Attachment.conversation_id == conversation_id)
        ).all()
        for attachment_id in ids:
            store.delete(_key(conversation_id, attachment_id))
        db.session.execute(delete(Attachment).where(Attachment.conversation_id == conversation_id))
        db.session.commit()
    finally:
        db.session.close()
    return len(ids)


def _post_file(
    conversation_id: int,
    caller: object,
    body: str,
    client_id: str | None,
    attachment: dict[str, Any],
) -> Written:
    """The file's message, and its attachment row in the same transaction."""
    written = log_writer.post(conversation_id, caller, body, client_id, json.dumps(attachment))
    if written.changed:
        log_writer.connection().execute(
            insert(Attachment).values(
                id=attachment["id"],
                conversation_id=conversation_id,
                name=attachment["name"],
                size=attachment["size"],
                content_type=attachment["content_type"],
                created_at=utcnow(),
            )
        )
    return written


def _stored(
    conversation_id: int, caller: conversations.Caller, client_id: str | None
) -> dict[str, Any] | None:
    """The caller's message stored under `client_id`, shaped, after the access check."""
    try:
        conversations.load(conversation_id, caller)
        if client_id is None:
            return None
        agent = isinstance(caller, AgentIdentity)
        message = db.session.scalar(
            select(Message).where(
                Message.conversation_id == conversation_id,
                Message.sender == ("agent" if agent else "visitor"),
                Message.client_id == client_id,
            )
        )
        if message is None or (agent and message.agent_id not in (None, caller.id)):
            return None  # another agent's key: the write path answers that with a Conflict
        return message_json(message)
    finally:
        db.session.close()


def _key(conversation_id: int, attachment_id: str) -> str:
    return f"{conversation_id}/{attachment_id}"
