"""Conversation and Message: a conversation is an ordered log of messages by `seq`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from devtone.extensions import db

STATUSES = ("waiting", "active", "closed")
KINDS = ("text", "status")
SENDERS = ("visitor", "agent", "system")


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; devtone stores UTC only")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def isoformat(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as the HTTP contract says."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Conversation(db.Model):
    """One customer's conversation; `last_seq` is the log's head and its row lock."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    visitor_name: Mapped[str] = mapped_column(String(80))
    visitor_email: Mapped[str | None] = mapped_column(String(254))
    # sha256 of the visitor's bearer token; the token itself is never stored.
    visitor_token_hash: Mapped[str] = mapped_column(String(64))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Highest seq the agent side has read; visitor text after it is "unread".
    agent_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_conversations_status_updated", "status", "updated_at"),)


class Message(db.Model):
    """One entry of a conversation's log: a text message or a status change."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    sender: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text, default="")
    # For kind == "status": the conversation's status after this entry.
    status: Mapped[str | None] = mapped_column(String(16))
    # The poster's idempotency key (a UUID it made); NULL for entries the server writes.
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # Readers walk the log by (conversation_id, seq); the unique index is both the
        # gapless-log guard and the cursor read's access path.
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client_id"),
    )
