"""What each side has seen and is doing: read marks and typing.

Neither is an entry of the log. A read mark moves counters on the conversation's row
(unread, "Seen"), under its lock like any write; typing is never stored, only announced.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from devtone import conversations, fields
from devtone.agents import AgentIdentity
from devtone.conversation_log import lock, publish
from devtone.errors import Invalid
from devtone.extensions import db
from devtone.models import Conversation, Message


def mark_read(conversation_id: int, caller: conversations.Caller, seq: object) -> dict[str, Any]:
    """Move the caller's side's read mark up to `seq` (it never moves back).

    The agent side's mark ("Seen" for the visitor, and the unread count) moves when the
    assigned agent reads, or any agent while nobody is assigned.
    """
    seq = fields.clean_seq(seq)
    try:
        conversation = conversations.load(conversation_id, caller)
        if seq > conversation.last_seq:
            raise Invalid("seq is beyond the conversation's last entry.", field="seq")
        # Marks only move up, so one that would not move now never will: answer without
        # the lock (a reader's every glance must not queue behind the posts).
        if not _moves_read_mark(conversation, caller, seq):
            return conversations.shape(conversation)
        lock(conversation)  # the values under the lock are the ones to compare and move
        if not _move_read_mark(conversation, caller, seq):
            db.session.rollback()
            return conversations.get_conversation(conversation_id, caller)
        if isinstance(caller, AgentIdentity):
            # The visitor's own mark is shown to nobody: only the agent side's is news.
            conversation.version += 1
        db.session.flush()
        announced = conversations.shape(conversation)
        db.session.commit()
    finally:
        db.session.close()
    if isinstance(caller, AgentIdentity):
        publish(conversation_id, {"conversation": announced})
    return announced


def announce_typing(conversation_id: int, caller: conversations.Caller, typing: object) -> None:
    """Tell the other side that `caller` is (or stopped) typing; never stored.

    Throttled per conversation and side, so a fast typist costs one event per interval.
    """
    typing = fields.clean_flag(typing, "typing")
    try:
        conversation = conversations.load(conversation_id, caller)
        name = caller.name if isinstance(caller, AgentIdentity) else conversation.visitor_name
    finally:
        db.session.close()
    sender = "agent" if isinstance(caller, AgentIdentity) else "visitor"
    throttle = current_app.extensions["devtone.typing"]
    if throttle.admit(conversation_id, sender, typing):
        event = {"conversation_id": conversation_id, "sender": sender, "name": name}
        publish(conversation_id, {"typing": {**event, "typing": typing}})


def _moves_read_mark(conversation: Conversation, caller: conversations.Caller, seq: int) -> bool:
    if not isinstance(caller, AgentIdentity):
        return seq > conversation.visitor_read_seq
    return conversation.agent_id in (None, caller.id) and seq > conversation.agent_read_seq


def _move_read_mark(conversation: Conversation, caller: conversations.Caller, seq: int) -> bool:
    if not _moves_read_mark(conversation, caller, seq):
        return False
    if not isinstance(caller, AgentIdentity):
        conversation.visitor_read_seq = seq
        return True
    conversation.agent_read_seq = seq
    conversation.agent_read_messages = db.session.scalar(
        select(db.func.count())
        .select_from(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.kind == "text",
            Message.sender == "visitor",
            Message.seq <= seq,
        )
    )
    return True
