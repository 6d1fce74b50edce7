"""The JSON shapes of the HTTP contract (DESIGN.md §3) for messages and conversations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from devtone.domain.models import Conversation, Message, isoformat

if TYPE_CHECKING:
    from devtone.domain.log_writer import Written


def message_json(message: Message | Row) -> dict[str, Any]:
    """A log entry as every reader sees it (a loaded Message, or a row of the table)."""
    shaped = {
        "seq": message.seq,
        "conversation_id": message.conversation_id,
        "kind": message.kind,
        "sender": message.sender,
        "author": {"name": message.author_name},
        "body": message.body,
        "status": message.status,
        "client_id": message.client_id,
        "created_at": isoformat(message.created_at),
    }
    if message.attachment:
        shaped["attachment"] = attachment_json(message.conversation_id, message.attachment)
    return shaped


def attachment_json(conversation_id: int, stored: str) -> dict[str, Any]:
    """A message's file, `{id, name, size, content_type, url}`, from the JSON it keeps."""
    attachment = json.loads(stored)
    return {
        "id": attachment["id"],
        "name": attachment["name"],
        "size": attachment["size"],
        "content_type": attachment["content_type"],
        "url": f"/api/conversations/{conversation_id}/attachments/{attachment['id']}",
    }


def conversation_json(
    conversation: Conversation | Row, last_text: Message | Row | None
) -> dict[str, Any]:
    """A conversation (loaded, or a row with `agent_name`); `last_text` is its newest text
    entry (the caller knows or reads it)."""
    agent_id = conversation.agent_id
    return {
        "id": conversation.id,
        "status": conversation.status,
        "visitor": {
            "name": conversation.visitor_name,
            "email": conversation.visitor_email,
        },
        "agent": {"id": agent_id, "name": conversation.agent_name} if agent_id else None,
        "created_at": isoformat(conversation.created_at),
        "updated_at": isoformat(conversation.updated_at),
        "closed_at": isoformat(conversation.closed_at),
        "last_seq": conversation.last_seq,
        "version": conversation.version,
        "unread": conversation.visitor_messages - conversation.agent_read_messages,
        "agent_read_seq": conversation.agent_read_seq,
        # Each side's marks (DESIGN.md §7): the highest seq its client has received, and
        # shown its person. The visitor's seen mark also tells the widget's badge how many
        # agent messages are still unseen.
        "marks": {
            "visitor": {
                "delivered": conversation.visitor_delivered_seq,
                "seen": conversation.visitor_read_seq,
            },
            "agent": {
                "delivered": conversation.agent_delivered_seq,
                "seen": conversation.agent_read_seq,
            },
        },
        "last_message": message_json(last_text) if last_text is not None else None,
        # Agents' own classification: `seen_by_visitor` takes it out of what visitors read.
        "labels": json.loads(conversation.labels or "[]"),
        "rating": rating_json(conversation),
    }


def rating_json(conversation: Conversation | Row) -> dict[str, Any] | None:
    """The visitor's rating of the current closing (ratings.py): None while the
    conversation is open (a reopened one is rated afresh) or that closing is unrated."""
    rated_at, closed_at = conversation.rated_at, conversation.closed_at
    if rated_at is None or closed_at is None or rated_at < closed_at:
        return None
    return {
        "score": conversation.rating_score,
        "comment": conversation.rating_comment,
        "rated_at": isoformat(rated_at),
    }


def seen_by_visitor(conversation: dict[str, Any]) -> dict[str, Any]:
    """The conversation as its visitor reads it: without the agents' labels."""
    if "labels" not in conversation:
        return conversation
    return {name: value for name, value in conversation.items() if name != "labels"}


@dataclass(frozen=True)
class WrittenJson:
    """A write's shapes: the conversation after it, its new entries, the caller's answer."""

    conversation: dict[str, Any]
    entries: list[dict[str, Any]]
    answer: dict[str, Any] | None


def written_json(written: Written) -> WrittenJson:
    """Shape everything one write returned, in one go (its rows outlive the commit)."""
    entries = [message_json(entry) for entry in written.entries]
    answer = written.answer
    if answer is not None:
        # The answer is one of the new entries, or a stored one: shape it once.
        new = next(
            (shaped for row, shaped in zip(written.entries, entries, strict=True) if row is answer),
            None,
        )
        answer = new if new is not None else message_json(answer)
    return WrittenJson(conversation_json(written.conversation, written.last_text), entries, answer)
