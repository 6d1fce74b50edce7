"""Everything devtone holds about a visitor, as one JSON document (docs/privacy.md).

The document is written piece by piece (`Export.chunks`): a page of messages at a time,
a file in slices of FILE_SLICE bytes, each read in a short transaction of its own. So an
export's memory stays within a page of messages and one slice of a file, however long the
conversations and large the files, and no database connection is held between pieces.

Shape: `{"format", "exported_at", "visitor": {"email"}, "conversations": [{"conversation",
"messages", "attachments", "emails", "ratings"}]}`; each conversation and message as the
API shows them to agents (private notes included: docs/privacy.md says why), each file
with its bytes in base64.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from devtone.domain import attachments, audit, conversations, visitor_data
from devtone.domain.models import Conversation, Message, OutgoingMail, Rating, isoformat, utcnow
from devtone.domain.shapes import message_json
from devtone.extensions import db
from devtone.file_store import FileStore

FORMAT = "devtone.visitor-export.v1"
#: Messages read in one transaction.
MESSAGES_PAGE = 200
#: Bytes of a file read (and base64-encoded) at once: a multiple of 3, so the slices'
#: base64 joins into the file's.
FILE_SLICE = 3 * 16 * 1024


@dataclass(frozen=True)
class Export:
    """An export asked for (and audited): whose, and which conversations it holds."""

    subject: visitor_data.Subject
    conversation_ids: list[int]

    def chunks(self, store: FileStore) -> Iterator[str]:
        """The document, as pieces of JSON text that join into one."""
        head = {"format": FORMAT, "exported_at": isoformat(utcnow())}
        yield _open(head | {"visitor": self.subject.as_json()}, "conversations")
        for n, conversation_id in enumerate(self.conversation_ids):
            yield "," if n else ""
            yield from _conversation(conversation_id, store)
        yield "]}"

    def write_to(self, out: Any, store: FileStore) -> None:
        """Write the document to a text file."""
        for chunk in self.chunks(store):
            out.write(chunk)


def export_visitor(email: object, actor: audit.Actor, identity: object = None) -> Export:
    """The export of the visitor named by `email` or `identity` (Invalid when neither names
    one: visitor_data.subject), audited as asked by `actor`. No conversation found is an
    export all the same: an empty list is the true answer to "what do you hold about me"."""
    who = visitor_data.subject(email, identity)
    ids = visitor_data.conversation_ids(who)
    audit.record(actor, "visitor.export", who.audit_target, {"conversations": ids})
    return Export(who, ids)


def _conversation(conversation_id: int, store: FileStore) -> Iterator[str]:
    try:
        conversation = db.session.get(Conversation, conversation_id)
        if conversation is None:  # deleted since it was found
            yield "null"
            return
        shaped = conversations.shape(conversation)
        visitor_identity = conversation.visitor_identity
    finally:
        db.session.close()
    # The conversation's shape does not carry the site's id of its visitor: it goes beside.
    yield _open({"conversation": shaped, "visitor_identity": visitor_identity}, "messages")
    yield from _messages(conversation_id)
    yield '],"attachments":['
    for n, stored in enumerate(attachments.stored_files(conversation_id)):
        yield "," if n else ""
        yield from _file(conversation_id, stored, store)
    yield '],"emails":' + _json(_emails(conversation_id))
    yield ',"ratings":' + _json(_ratings(conversation_id)) + "}"


def _messages(conversation_id: int) -> Iterator[str]:
    """Every entry of the log, agents-only ones too, a page at a time."""
    after, first = 0, True
    while True:
        try:
            page = db.session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.seq > after)
                .order_by(Message.seq)
                .limit(MESSAGES_PAGE)
            ).all()
            shaped = [message_json(message) for message in page]
        finally:
            db.session.close()
        for message in shaped:
            yield _json(message) if first else "," + _json(message)
            first = False
        if len(shaped) < MESSAGES_PAGE:
            return
        after = shaped[-1]["seq"]


def _file(conversation_id: int, stored: dict[str, Any], store: FileStore) -> Iterator[str]:
    """The file's description, then its bytes in base64 (null, `missing`, if the store
    lost them: the export says so rather than fail)."""
    try:
        file = attachments.open_stored(conversation_id, stored["id"], store)
    except FileNotFoundError:
        yield _json(stored | {"missing": True, "data_base64": None})
        return
    with file:
        yield _json(stored | {"missing": False})[:-1] + ',"data_base64":"'
        while piece := file.read(FILE_SLICE):
            yield base64.b64encode(piece).decode("ascii")
    yield '"}'


def _emails(conversation_id: int) -> list[dict[str, Any]]:
    """The e-mails devtone sent (or tried to send) the visitor. Their replies by e-mail
    are messages of the log (sender "visitor", a client_id starting with "mail-")."""
    try:
        rows = db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.conversation_id == conversation_id)
            .order_by(OutgoingMail.id)
        ).all()
        return [
            {
                "id": mail.id,
                "kind": mail.kind,
                "recipient": mail.recipient,
                "language": mail.language,
                # The messages it carried: seq after_seq < seq <= through_seq of the log.
                "after_seq": mail.after_seq,
                "through_seq": mail.through_seq,
                "created_at": isoformat(mail.created_at),
                "sent_at": isoformat(mail.sent_at),
                "given_up_at": isoformat(mail.given_up_at),
                "attempts": mail.attempts,
                "last_error": mail.last_error,
            }
            for mail in rows
        ]
    finally:
        db.session.close()


def _ratings(conversation_id: int) -> list[dict[str, Any]]:
    """Every closing the visitor rated (the conversation carries the newest alone)."""
    try:
        rows = db.session.scalars(
            select(Rating).where(Rating.conversation_id == conversation_id).order_by(Rating.id)
        ).all()
        return [
            {
                "score": rating.score,
                "comment": rating.comment,
                "closed_at": isoformat(rating.closed_at),
                "rated_at": isoformat(rating.rated_at),
            }
            for rating in rows
        ]
    finally:
        db.session.close()


def _open(fields: dict[str, Any], list_name: str) -> str:
    """`fields` as an object left open on a list: `{…,"<list_name>":[`."""
    return _json(fields)[:-1] + f',"{list_name}":['


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
